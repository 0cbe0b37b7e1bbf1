"""One TCP connection over asyncio streams: plain or implicit TLS, STARTTLS upgrade, timeouts.

Every failure becomes a ``TransportError`` subclass whose message names the address and, for a
timeout, the number of seconds, and whose hint suggests the next step.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from typing import Final, Literal

from smtpconsole.errors import ConnectFailed, ConnectionLost, ReadTimeout, TlsError
from smtpconsole.options import format_target
from smtpconsole.tls import failure_hint, failure_reason

READ_CHUNK_BYTES: Final = 65536
"""Maximum bytes taken from the stream by one read."""

CLOSE_TIMEOUT_SECONDS: Final = 2.0
"""Time allowed for a TLS close_notify and the socket close before giving up on them."""

HANDSHAKE_TIMEOUT_MARGIN_SECONDS: Final = 1.0
"""Added to asyncio's own TLS handshake timeout, so that the caller's timeout fires first."""

_FAMILIES: Final[dict[int, socket.AddressFamily]] = {
    0: socket.AF_UNSPEC,
    4: socket.AF_INET,
    6: socket.AF_INET6,
}


class Transport:
    """A connected stream; create it with ``Transport.open``."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self._reader = reader
        self._writer = writer
        self.host = host
        self.port = port
        self._upgrade_failed = False

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        family: Literal[0, 4, 6] = 0,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 15.0,
    ) -> Transport:
        """Connect to ``host:port``, with TLS from the first byte when ``ssl_context`` is given.

        Raises:
            ConnectFailed: the name did not resolve, the connection was refused or timed out.
            TlsError: the TLS handshake failed; ``message`` contains the verification reason.
        """
        address = format_target(host, port)
        with_tls = ssl_context is not None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    family=_FAMILIES[family],
                    limit=READ_CHUNK_BYTES,
                    ssl=ssl_context,
                    server_hostname=(server_hostname or host) if with_tls else None,
                    ssl_handshake_timeout=(
                        timeout + HANDSHAKE_TIMEOUT_MARGIN_SECONDS if with_tls else None
                    ),
                )
        except TimeoutError:
            raise ConnectFailed(
                f"connecting to {address} timed out after {timeout:g} s",
                "check the host and port; a firewall may drop the packets, or raise --timeout",
            ) from None
        except ssl.SSLError as exc:
            raise _tls_error(exc, address, server_hostname or host) from exc
        except OSError as exc:
            raise _connect_error(exc, host, port, family) from exc
        return cls(reader, writer, host, port)

    @property
    def address(self) -> str:
        """The server as ``host:port``, as it was given."""
        return format_target(self.host, self.port)

    @property
    def peer(self) -> str:
        """The server's socket address as ``ip:port``."""
        return _format_sockname(self._writer.get_extra_info("peername"), self.address)

    @property
    def local(self) -> str:
        """Our side's socket address as ``ip:port``."""
        return _format_sockname(self._writer.get_extra_info("sockname"), "unknown")

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        """The TLS state once TLS is active, else None."""
        obj = self._writer.get_extra_info("ssl_object")
        return obj if isinstance(obj, ssl.SSLObject) else None

    @property
    def is_closing(self) -> bool:
        return self._writer.is_closing()

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str, timeout: float
    ) -> None:
        """Upgrade this connection to TLS in place (STARTTLS, RFC 3207).

        The caller must stop reading first. Plaintext still in the stream buffer when TLS starts
        stays there, ahead of the decrypted data, so the caller takes it with ``read_available``
        before and after the upgrade and discards it.

        Raises:
            TlsError: the handshake failed or timed out; the connection is then unusable.
        """
        try:
            await self._upgrade(context, server_hostname, timeout)
        except BaseException:
            # After a failed upgrade no protocol reports the close of the stream, so
            # wait_closed() would never return.
            self._upgrade_failed = True
            raise

    async def _upgrade(self, context: ssl.SSLContext, server_hostname: str, timeout: float) -> None:
        try:
            # asyncio's own handshake timeout aborts with a vague ConnectionAbortedError, so this
            # timeout fires first.
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(
                    context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout + HANDSHAKE_TIMEOUT_MARGIN_SECONDS,
                )
        except ssl.SSLError as exc:
            error = _tls_error(exc, self.address, server_hostname)
            if exc.reason == "WRONG_VERSION_NUMBER":
                error.hint = (
                    "the server sent plaintext instead of a TLS handshake after its 220: it may "
                    "not support STARTTLS properly, or something on the path injects replies"
                )
            raise error from exc
        except TimeoutError:
            raise TlsError(
                f"TLS handshake with {self.address} timed out after {timeout:g} s",
                "the server may not speak TLS on this port; check the port and the security mode",
            ) from None
        except (ConnectionError, OSError) as exc:
            raise TlsError(
                f"TLS handshake with {self.address} failed: the connection broke ({exc})",
                "the server closed the connection during the handshake; check its TLS settings",
            ) from exc

    async def read(self, timeout: float | None = None) -> bytes:
        """Return the next received bytes, at most ``READ_CHUNK_BYTES``; ``b""`` at end of stream.

        Raises:
            ReadTimeout: nothing arrived within ``timeout`` seconds.
            ConnectionLost: the connection was reset or its TLS layer failed.
        """
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(READ_CHUNK_BYTES)
        except TimeoutError:
            raise ReadTimeout(
                f"no data from {self.address} within {timeout:g} s",
                "the server may be waiting for more input, or raise --timeout",
            ) from None
        except ssl.SSLError as exc:
            raise ConnectionLost(
                f"the TLS connection to {self.address} failed: {failure_reason(exc)}"
            ) from exc
        except OSError as exc:
            raise ConnectionLost(f"the connection to {self.address} broke: {exc}") from exc

    async def read_available(self, wait: float = 0.0) -> bytes:
        """Return the bytes already received and not yet read, waiting at most ``wait`` seconds.

        Must not run while another read is waiting on this connection.
        """
        parts: list[bytes] = []
        timeout = wait
        while True:
            read = asyncio.ensure_future(self._reader.read(READ_CHUNK_BYTES))
            # Even with a zero timeout, one pass of the event loop lets the read take bytes that
            # are already buffered.
            done, _ = await asyncio.wait({read}, timeout=timeout)
            if not done:
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                break
            if read.exception() is not None or not read.result():
                break
            parts.append(read.result())
            timeout = 0
        return b"".join(parts)

    async def write(self, data: bytes) -> None:
        """Send ``data`` and wait until the buffer has room.

        Raises:
            ConnectionLost: the connection is closed or broke while writing.
        """
        if self._writer.is_closing():
            raise ConnectionLost(
                f"the connection to {self.address} is closed", "connect again to continue"
            )
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, ssl.SSLError) as exc:
            raise ConnectionLost(
                f"sending to {self.address} failed: {exc}", "connect again to continue"
            ) from exc

    async def close(self) -> None:
        """Close the connection; errors while closing are ignored because it is going away."""
        self._writer.close()
        if self._upgrade_failed:
            return
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(CLOSE_TIMEOUT_SECONDS):
                await self._writer.wait_closed()


def _format_sockname(value: object, default: str) -> str:
    if isinstance(value, tuple) and len(value) >= 2:
        return format_target(str(value[0]), int(value[1]))
    return default


def _tls_error(exc: ssl.SSLError, address: str, server_name: str) -> TlsError:
    reason = failure_reason(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TlsError(
            f"certificate verification failed for {address}: {reason}",
            failure_hint(reason, server_name),
        )
    return TlsError(
        f"TLS handshake with {address} failed: {reason}",
        "check that the server speaks TLS on this port and the security mode (--tls, --starttls)",
    )


def _connect_error(exc: OSError, host: str, port: int, family: int) -> ConnectFailed:
    address = format_target(host, port)
    if isinstance(exc, socket.gaierror):
        only = {4: " as IPv4 (-4)", 6: " as IPv6 (-6)"}.get(family, "")
        return ConnectFailed(
            f"cannot resolve host {host!r}{only}: {exc.strerror or exc}",
            "check the host name, or connect by IP address",
        )
    if isinstance(exc, ConnectionRefusedError):
        return ConnectFailed(
            f"connection to {address} refused",
            "nothing listens on that port; SMTP uses 25, 587 (STARTTLS) and 465 (TLS)",
        )
    return ConnectFailed(
        f"connecting to {address} failed: {exc.strerror or exc}",
        "check the host, the port and the network",
    )
