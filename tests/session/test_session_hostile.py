"""Hostile servers: injected plaintext after STARTTLS, drops, silence and endless lines."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
import tracemalloc

import pytest

from smtpconsole.errors import ConnectionLost, MalformedReplyError, ReadTimeout, TlsError
from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.session import Session
from smtpconsole.transcript import (
    BytesDiscarded,
    Connected,
    ConnectionClosed,
    MalformedReply,
    Note,
    ReplyReceived,
    TlsFailed,
    TlsStarted,
)
from tests.hostile_servers import (
    ClientStream,
    Script,
    close_mid_reply_script,
    endless_line_script,
    serve,
    silent_script,
    split_bytes_script,
    starttls_injection_script,
)
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    local_options,
    make_session_fixture,  # noqa: F401
)

TEN_MIB = 10 * 1024 * 1024


async def test_injection_after_starttls_discarded(
    server_tls_context: ssl.SSLContext, ca_file, make_session: SessionFactory
):
    injected = b"250-hostile.test\r\n250 AUTH PLAIN\r\n"
    async with serve(starttls_injection_script(server_tls_context, injected)) as server:
        session = make_session(server.host, server.port, security="starttls", ca_file=str(ca_file))
        await session.connect()
        noop = await session.send_command("NOOP")

    discarded = events_of(session, BytesDiscarded)
    assert len(discarded) == 1
    assert discarded[0].raw == injected
    assert "RFC 3207" in discarded[0].reason
    replies = [event.reply for event in events_of(session, ReplyReceived)]
    # Greeting, EHLO, STARTTLS 220, EHLO over TLS, NOOP: the injected reply is not among them.
    assert [reply.code for reply in replies] == [220, 250, 220, 250, 250]
    assert replies[3].raw.startswith(b"250-hostile.test\r\n250-AUTH PLAIN")
    assert noop.code == 250
    assert events_of(session, TlsStarted)[0].info.verified


async def test_injection_exported_as_base64(
    server_tls_context: ssl.SSLContext, ca_file, make_session: SessionFactory, tmp_path
):
    import base64
    import json

    injected = b"250 injected \xff\r\n"
    async with serve(starttls_injection_script(server_tls_context, injected)) as server:
        session = make_session(server.host, server.port, security="starttls", ca_file=str(ca_file))
        await session.connect()

    path = session.transcript.export_jsonl(tmp_path / "t.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    discarded = [record for record in records if record["type"] == "BytesDiscarded"]

    assert len(discarded) == 1
    assert base64.b64decode(discarded[0]["raw_base64"]) == injected
    assert discarded[0]["text"] == "250 injected \\xff\r\n"
    started = [record for record in records if record["type"] == "TlsStarted"]
    leaf = started[0]["info"]["chain"][0]
    assert "IP:127.0.0.1" in leaf["sans"]
    assert leaf["not_after"].endswith("+00:00")


async def test_late_injection_breaks_handshake(
    server_tls_context: ssl.SSLContext, ca_file, make_session: SessionFactory
):
    # Plaintext that arrives after the handshake began is read as a TLS record, so the
    # handshake fails instead of the bytes being taken as a reply.
    async def script(stream):
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        await stream.send(b"220 go ahead\r\n")
        await asyncio.sleep(0.1)
        await stream.send(b"250 injected\r\n")
        await asyncio.sleep(1)

    async with serve(script) as server:
        session = make_session(
            server.host, server.port, security="starttls", ca_file=str(ca_file), manual=True
        )
        await session.connect()
        await session.send_line("STARTTLS")
        assert (await session.read_reply()).code == 220
        with pytest.raises(TlsError) as caught:
            await session.start_tls()

    assert "plaintext" in (caught.value.hint or "")
    texts = [event.reply.text for event in events_of(session, ReplyReceived)]
    assert "injected" not in texts
    assert events_of(session, TlsFailed)
    assert session.closed


async def test_server_closes_mid_reply(make_session: SessionFactory):
    partial = b"250-first line\r\n250-second"
    async with serve(close_mid_reply_script(partial)) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        with pytest.raises(ConnectionLost, match="in the middle of a reply"):
            await session.send_command("EHLO client.test")

    malformed = events_of(session, MalformedReply)
    assert len(malformed) == 1
    assert malformed[0].raw == partial
    closed = events_of(session, ConnectionClosed)
    assert len(closed) == 1
    assert closed[0].reason == "the server closed the connection in the middle of a reply"
    assert session.closed
    assert isinstance(session.transcript.events[-1], ConnectionClosed)


async def test_server_closes_without_final_crlf(make_session: SessionFactory):
    async with serve(close_mid_reply_script(b"250 ok but no line end")) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        reply = await session.send_command("NOOP")
        with pytest.raises(ConnectionLost):
            await session.read_reply()

    assert reply.code == 250
    assert reply.missing_crlf
    assert events_of(session, ConnectionClosed)[0].reason.endswith("in the middle of a reply")


async def test_silent_server_times_out(make_session: SessionFactory):
    async with serve(silent_script()) as server:
        session = make_session(server.host, server.port, manual=True, read_timeout=0.5)
        await session.connect()
        with pytest.raises(ReadTimeout) as caught:
            await session.send_command("NOOP", timeout=0.2)

        assert f"no reply from 127.0.0.1:{server.port} within 0.2 s" == caught.value.message
        assert caught.value.hint
        notes = [note.text for note in events_of(session, Note)]
        assert any("within 0.2 s" in text for text in notes)
        assert session.connected
        await session.close()

    assert events_of(session, ConnectionClosed)


async def test_no_greeting_times_out(make_session: SessionFactory):
    async with serve(silent_script(greet=False)) as server:
        session = make_session(server.host, server.port, read_timeout=0.2)
        with pytest.raises(ReadTimeout):
            await session.connect()

    assert any("within 0.2 s" in note.text for note in events_of(session, Note))


async def test_endless_line_memory_bounded(make_session: SessionFactory):
    tracemalloc.start()
    try:
        async with serve(endless_line_script(TEN_MIB)) as server:
            session = make_session(server.host, server.port, manual=True)
            await session.connect()
            await session.send_line("NOOP")
            with pytest.raises(ConnectionLost):
                await session.read_reply(timeout=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes while receiving 10 MiB"
    malformed = events_of(session, MalformedReply)
    assert len(malformed) == 1
    kept = len(malformed[0].raw)
    assert kept == session.options.max_line_bytes
    notes = [note.text for note in events_of(session, Note)]
    assert any("longer than 8192 bytes" in text for text in notes)
    assert f"{TEN_MIB - kept} bytes past the line limit were discarded" in notes
    closed = events_of(session, ConnectionClosed)
    assert closed[0].reason == "the server closed the connection in the middle of a reply"


async def test_endless_line_then_silence_times_out(make_session: SessionFactory):
    async with serve(endless_line_script(TEN_MIB, then_close=False)) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await session.send_line("NOOP")
        with pytest.raises(ReadTimeout):
            await session.read_reply(timeout=1.0)

    notes = [note.text for note in events_of(session, Note)]
    assert any("longer than 8192 bytes" in text for text in notes)
    assert any("within 1 s" in text for text in notes)


async def test_malformed_line_then_reading_goes_on(make_session: SessionFactory):
    pieces = [b"220 hello\r\n", b"garbage line\r\n", b"2", b"50 o", b"k\r\n"]
    async with serve(split_bytes_script(pieces)) as server:
        session = make_session(server.host, server.port, manual=True)
        greeting = await session.connect()
        second = await session.read_reply()

    assert greeting.code == 220
    assert second.raw == b"250 ok\r\n"
    malformed = events_of(session, MalformedReply)
    assert [event.raw for event in malformed] == [b"garbage line\r\n"]


def ipv6_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback (::1) on this machine")
async def test_ipv6_starttls(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(host="::1")
    session = make_session(
        "::1", server.port, security="starttls", ca_file=str(server.ca_file), family=6
    )

    await session.connect()

    assert events_of(session, Connected)[0].peer == f"[::1]:{server.port}"
    assert session.tls_info is not None
    assert session.tls_info.verified
    assert (await session.send_command("NOOP")).code == 250


async def test_starttls_handshake_timeout(make_session: SessionFactory):
    async def script(stream):
        await stream.send(b"220 hostile.test ESMTP\r\n")
        while line := await stream.read_line():
            if line.upper().startswith(b"EHLO"):
                await stream.send(b"250-hostile.test\r\n250 STARTTLS\r\n")
            elif line.upper().startswith(b"STARTTLS"):
                await stream.send(b"220 go ahead\r\n")

    async with serve(script) as server:
        session = make_session(server.host, server.port, security="starttls", connect_timeout=0.3)
        with pytest.raises(TlsError) as caught:
            await session.connect()

    assert (
        caught.value.message == f"TLS handshake with 127.0.0.1:{server.port} timed out after 0.3 s"
    )
    # Only a verification failure makes the session fetch the certificate.
    assert server.connections == 1
    assert events_of(session, TlsFailed)[0].info is None


async def test_connection_reset_mid_reply(make_session: SessionFactory):
    from tests.hostile_servers import reset_mid_reply_script

    partial = b"250-first line\r\n"
    async with serve(reset_mid_reply_script(partial)) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        with pytest.raises(ConnectionLost):
            await session.send_command("EHLO client.test")

    closed = events_of(session, ConnectionClosed)
    assert len(closed) == 1
    assert closed[0].reason == "the connection broke in the middle of a reply"
    assert closed[0].error is not None
    assert "reset" in closed[0].error.lower()
    assert [event.raw for event in events_of(session, MalformedReply)] == [partial]


async def test_reply_flood_closes_connection(make_session: SessionFactory):
    async def script(stream):
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        for _ in range(100):
            await stream.send(b"250 flood\r\n" * 1000)
        await stream.read_line()

    async with serve(script) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await session.send_line("NOOP")
        with pytest.raises(ConnectionLost):
            while True:
                await session.read_reply(timeout=5)

    from smtpconsole.session import MAX_UNSOLICITED_REPLIES

    replies = events_of(session, ReplyReceived)
    # The greeting, the reply to NOOP, then the unsolicited ones up to one past the limit.
    assert len(replies) == 2 + MAX_UNSOLICITED_REPLIES + 1
    closed = events_of(session, ConnectionClosed)
    assert closed[0].reason == "closed by the client: reply flood"


async def test_certificate_fetch_failure_noted(
    server_tls_context: ssl.SSLContext, make_session: SessionFactory
):
    tls_script = starttls_injection_script(server_tls_context, b"")
    calls = []

    async def script(stream):
        calls.append(stream)
        if len(calls) == 1:
            await tls_script(stream)

    async with serve(script) as server:
        # No CA file, so verification fails; the second connection closes at once.
        session = make_session(server.host, server.port, security="starttls")
        with pytest.raises(TlsError) as caught:
            await session.connect()

    assert caught.value.details is None
    assert len(calls) == 2
    notes = [note.text for note in events_of(session, Note)]
    assert any(text.startswith("could not fetch the server certificate") for text in notes)
    assert events_of(session, TlsFailed)[0].info is None


async def test_plaintext_in_handshake_window_discarded(
    start_smtp_server, make_session: SessionFactory, monkeypatch
):
    # Simulate plaintext that reaches the stream buffer after the session took the unread bytes
    # and before the switch to TLS.
    from smtpconsole.transport import Transport

    real_start_tls = Transport.start_tls

    async def start_tls_after_injection(self, context, server_hostname, timeout):
        self._reader.feed_data(b"250 sneaky\r\n")
        await real_start_tls(self, context, server_hostname, timeout)

    monkeypatch.setattr(Transport, "start_tls", start_tls_after_injection)
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file)
    )

    await session.connect()

    assert [event.raw for event in events_of(session, BytesDiscarded)] == [b"250 sneaky\r\n"]
    texts = [event.reply.text for event in events_of(session, ReplyReceived)]
    assert "sneaky" not in texts
    assert (await session.send_command("NOOP")).code == 250


def malformed_ehlo_script(reply: bytes) -> Script:
    """Greet, reply the malformed ``reply`` to the first line, then 250 to every line."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        await stream.send(reply)
        while await stream.read_line():
            await stream.send(b"250 ok\r\n")

    return script


async def test_strict_session_ends_at_malformed_reply():
    async with serve(malformed_ehlo_script(b"250-x\r\n251 y\r\n")) as server:
        options = local_options(server.host, server.port, manual=True, read_timeout=5.0)
        session = Session(options, strict_replies=True)
        await session.connect()
        started = time.monotonic()
        with pytest.raises(MalformedReplyError) as caught:
            await session.send_command("EHLO client.test")
        elapsed = time.monotonic() - started
        with pytest.raises(MalformedReplyError):
            await session.read_reply()

    assert elapsed < 2.0
    assert "reply code changed from 250 to 251" in caught.value.message
    assert "received '250-x\\r\\n251 y'" in caught.value.message
    assert caught.value.raw == b"250-x\r\n251 y\r\n"
    assert session.closed
    closed = events_of(session, ConnectionClosed)
    assert closed[0].reason == "closed by the client: the server sent a reply that does not parse"


async def test_default_session_reads_on_after_malformed_reply(make_session: SessionFactory):
    async with serve(malformed_ehlo_script(b"250-x\r\n251 y\r\n")) as server:
        session = make_session(server.host, server.port, manual=True, read_timeout=5.0)
        await session.connect()
        with pytest.raises(RemoteProtocolError, match="the reply to EHLO does not parse"):
            await session.send_command("EHLO client.test")
        noop = await session.send_command("NOOP")
        still_open = session.connected

    assert still_open
    assert noop.code == 250
    assert session.dialogue.last_matched_verb == "NOOP"
    assert len(events_of(session, MalformedReply)) == 1
