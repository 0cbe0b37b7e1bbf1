"""Transport: connection errors, timeouts and reading what is already buffered."""

from __future__ import annotations

import asyncio
import socket

import pytest

from smtpconsole.errors import ConnectFailed, ConnectionLost, ReadTimeout
from smtpconsole.options import TlsOptions
from smtpconsole.tls import create_context
from smtpconsole.transport import Transport
from tests.hostile_servers import recording_script, serve, silent_script
from tests.session.session_helpers import unused_port as free_port


async def test_connection_refused():
    port = free_port()

    with pytest.raises(ConnectFailed) as caught:
        await Transport.open("127.0.0.1", port, timeout=2)

    assert caught.value.message == f"connection to 127.0.0.1:{port} refused"
    assert "587" in (caught.value.hint or "")
    assert isinstance(caught.value, ConnectionError)


async def test_tls_handshake_timeout_names_seconds():
    async with serve(silent_script(greet=False)) as server:
        context = create_context(TlsOptions(verify=False))
        with pytest.raises(ConnectFailed) as caught:
            await Transport.open(server.host, server.port, ssl_context=context, timeout=0.3)

    assert caught.value.message == f"connecting to 127.0.0.1:{server.port} timed out after 0.3 s"
    assert "--timeout" in (caught.value.hint or "")


async def test_read_timeout():
    async with serve(silent_script(greet=False)) as server:
        transport = await Transport.open(server.host, server.port)
        with pytest.raises(ReadTimeout) as caught:
            await transport.read(timeout=0.1)
        await transport.close()

    assert caught.value.message == f"no data from 127.0.0.1:{server.port} within 0.1 s"
    assert isinstance(caught.value, TimeoutError)


async def test_read_available_takes_buffered_bytes():
    async with serve(recording_script(b"220 one\r\n250 two\r\n")) as server:
        transport = await Transport.open(server.host, server.port)
        await asyncio.sleep(0.1)
        buffered = await transport.read_available()
        nothing = await transport.read_available()
        await transport.close()

    assert buffered == b"220 one\r\n250 two\r\n"
    assert nothing == b""


async def test_read_returns_empty_at_eof():
    async def script(stream):
        await stream.send(b"221 bye\r\n")

    async with serve(script) as server:
        transport = await Transport.open(server.host, server.port)
        first = await transport.read(timeout=2)
        second = await transport.read(timeout=2)
        await transport.close()

    assert first == b"221 bye\r\n"
    assert second == b""


async def test_write_after_close_fails():
    async with serve(silent_script()) as server:
        transport = await Transport.open(server.host, server.port)
        await transport.close()
        with pytest.raises(ConnectionLost, match="is closed"):
            await transport.write(b"NOOP\r\n")


async def test_peer_and_local_addresses():
    async with serve(silent_script()) as server:
        transport = await Transport.open(server.host, server.port, family=4)
        peer, local = transport.peer, transport.local
        await transport.close()

    assert peer == f"127.0.0.1:{server.port}"
    assert local.startswith("127.0.0.1:")


async def test_family_6_rejects_ipv4_address():
    with pytest.raises(ConnectFailed):
        await Transport.open("127.0.0.1", free_port(), family=6, timeout=2)


def test_families_are_socket_constants():
    from smtpconsole.transport import _FAMILIES

    assert _FAMILIES[4] == socket.AF_INET
    assert _FAMILIES[6] == socket.AF_INET6
