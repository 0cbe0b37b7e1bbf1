"""Small asyncio servers that send exact bytes, for what a real SMTP server will not send.

Each server listens on 127.0.0.1 (or ``::1``) on a free port, runs one ``Script`` per connection
and records every byte it receives. Use them only for hostile or malformed behaviour; a normal
dialogue belongs against aiosmtpd or Postfix.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

Script = Callable[["ClientStream"], Awaitable[None]]
"""The server side of one connection."""

CHUNK_BYTES = 65536


@dataclass
class ClientStream:
    """One accepted connection, as passed to a script; ``received`` is shared with the server."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    received: bytearray

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_line(self) -> bytes:
        """Return the next line with its line end, or ``b""`` when the client closed."""
        line = await self.reader.readline()
        self.received += line
        return line

    async def start_tls(self, context: ssl.SSLContext) -> None:
        await self.writer.start_tls(context)

    def reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER with a zero timeout)."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await self.writer.wait_closed()


@dataclass
class HostileServer:
    host: str
    port: int
    received: bytearray = field(default_factory=bytearray)
    connections: int = 0


@contextlib.asynccontextmanager
async def serve(script: Script, host: str = "127.0.0.1") -> AsyncIterator[HostileServer]:
    """Run ``script`` for each connection to a new server on ``host``; stop it on exit."""
    state = HostileServer(host, 0)
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        stream = ClientStream(reader, writer, state.received)
        try:
            await script(stream)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only serve() cancels, when the test ends; ending quietly keeps asyncio from
            # logging the cancelled connection callback as an error.
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(handle, host, 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await server.wait_closed()


async def _reply_to_each_line(stream: ClientStream, reply: bytes = b"250 ok\r\n") -> None:
    while line := await stream.read_line():
        if line.rstrip(b"\r\n").upper() == b"QUIT":
            await stream.send(b"221 bye\r\n")
            return
        await stream.send(reply)


def recording_script(greeting: bytes = b"220 recorder ready\r\n") -> Script:
    """Greet, reply 250 to every line (221 to QUIT), and record what arrives."""

    async def script(stream: ClientStream) -> None:
        await stream.send(greeting)
        await _reply_to_each_line(stream)

    return script


EHLO_WITH_STARTTLS = b"250-hostile.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
EHLO_AFTER_TLS = b"250-hostile.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"


def starttls_injection_script(context: ssl.SSLContext, injected: bytes) -> Script:
    """Offer STARTTLS, reply 220 to it followed at once by ``injected`` plaintext, then TLS.

    This is the response injection of CVE-2011-0411: a client that keeps the bytes would take
    them as replies received over TLS.
    """

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        while line := await stream.read_line():
            verb = line.rstrip(b"\r\n").upper()
            if verb.startswith(b"EHLO"):
                await stream.send(EHLO_WITH_STARTTLS)
            elif verb == b"STARTTLS":
                await stream.send(b"220 2.0.0 go ahead\r\n" + injected)
                await stream.start_tls(context)
                break
            else:
                await stream.send(b"250 ok\r\n")
        while line := await stream.read_line():
            if line.upper().startswith(b"EHLO"):
                await stream.send(EHLO_AFTER_TLS)
            elif line.rstrip(b"\r\n").upper() == b"QUIT":
                await stream.send(b"221 bye\r\n")
                return
            else:
                await stream.send(b"250 ok\r\n")

    return script


def close_mid_reply_script(partial: bytes) -> Script:
    """Greet, then reply to the first line with ``partial`` bytes and close the connection."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        await stream.send(partial)
        await stream.close()

    return script


def silent_script(greet: bool = True) -> Script:
    """Greet (or not), then read and never reply."""

    async def script(stream: ClientStream) -> None:
        if greet:
            await stream.send(b"220 hostile.test ESMTP\r\n")
        while await stream.read_line():
            pass

    return script


def endless_line_script(total_bytes: int, then_close: bool = True) -> Script:
    """Greet, then reply to the first line with ``total_bytes`` of ``x`` and no line end."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        chunk = b"x" * CHUNK_BYTES
        remaining = total_bytes
        while remaining > 0:
            await stream.send(chunk[: min(remaining, CHUNK_BYTES)])
            remaining -= CHUNK_BYTES
        if then_close:
            await stream.close()
        else:
            while await stream.read_line():
                pass

    return script


def split_bytes_script(pieces: list[bytes], delay: float = 0.01) -> Script:
    """Send ``pieces`` one write at a time with ``delay`` seconds between, after any first line."""

    async def script(stream: ClientStream) -> None:
        for piece in pieces:
            await stream.send(piece)
            await asyncio.sleep(delay)
        await _reply_to_each_line(stream)

    return script


def reset_mid_reply_script(partial: bytes) -> Script:
    """Greet, reply to the first line with ``partial`` bytes, then reset the connection."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        await stream.send(partial)
        await asyncio.sleep(0.05)
        stream.reset()

    return script
