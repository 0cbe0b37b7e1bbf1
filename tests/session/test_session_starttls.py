"""STARTTLS and implicit TLS against aiosmtpd with a trustme CA: upgrade, failure, retry."""

from __future__ import annotations

import pytest

from smtpconsole.errors import TlsError
from smtpconsole.protocol.dialogue import Phase
from smtpconsole.tls import TlsInfo
from smtpconsole.transcript import (
    AdviceGiven,
    Connecting,
    LineSent,
    Note,
    TlsFailed,
    TlsStarted,
)
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    make_session_fixture,  # noqa: F401
)


async def test_starttls_upgrade_verified(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file)
    )

    greeting = await session.connect()

    assert greeting.code == 220
    info = session.tls_info
    assert info is not None
    assert info.verified
    assert info.version in ("TLSv1.2", "TLSv1.3")
    assert info.server_name == "127.0.0.1"
    assert info.leaf is not None
    assert "IP:127.0.0.1" in info.leaf.sans
    assert "DNS:localhost" in info.leaf.sans
    assert len(info.leaf.sha256_fingerprint.split(":")) == 32
    assert not session.insecure
    assert session.dialogue.tls_active
    assert session.dialogue.capabilities is not None
    assert "AUTH" in session.dialogue.capabilities.keywords
    sent = [event.raw for event in events_of(session, LineSent)]
    assert sent == [b"EHLO client.test\r\n", b"STARTTLS\r\n", b"EHLO client.test\r\n"]


async def test_starttls_clears_capabilities(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file), manual=True
    )
    await session.connect()
    await session.send_command("EHLO client.test")
    assert session.dialogue.capabilities is not None
    assert session.dialogue.capabilities.starttls

    reply = await session.send_command("STARTTLS")
    info = await session.start_tls()

    assert reply.code == 220
    assert info.verified
    assert session.dialogue.capabilities is None
    assert session.dialogue.phase is Phase.GREETED
    keys = [event.advice.key for event in events_of(session, AdviceGiven)]
    assert "tls.ehlo_again" in keys
    ehlo = await session.send_command("EHLO client.test")
    assert ehlo.code == 250
    assert session.dialogue.capabilities is not None
    assert not session.dialogue.capabilities.starttls


async def test_typed_starttls_upgrades_itself(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file), manual=True
    )
    await session.connect()
    await session.send_line("ehlo client.test")
    await session.read_reply()

    await session.send_line("starttls")
    reply = await session.read_reply()
    info = await session.start_tls()

    assert reply.code == 220
    assert info.verified
    await session.send_line("EHLO client.test")
    ehlo = await session.read_reply()
    assert ehlo.code == 250
    assert b"ehlo client.test\r\nstarttls\r\nEHLO client.test\r\n" == bytes(server.received)


async def test_starttls_unknown_ca_fails_with_reason(
    start_smtp_server, make_session: SessionFactory
):
    server = start_smtp_server()
    # No ca_file: the system store does not know the trustme CA.
    session = make_session(server.host, server.port, security="starttls")

    with pytest.raises(TlsError) as caught:
        await session.connect()

    assert "unable to get local issuer certificate" in caught.value.message
    assert caught.value.hint is not None
    assert "--ca-file" in caught.value.hint
    details = caught.value.details
    assert isinstance(details, TlsInfo)
    assert not details.verified
    assert details.verify_error == "unable to get local issuer certificate"
    assert details.leaf is not None
    assert "IP:127.0.0.1" in details.leaf.sans
    failed = events_of(session, TlsFailed)
    assert len(failed) == 1
    assert failed[0].info == details
    assert session.closed
    assert session.tls_failure == "starttls"


async def test_starttls_hostname_mismatch(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host,
        server.port,
        security="starttls",
        ca_file=str(server.ca_file),
        sni="mail.wrong.test",
    )

    with pytest.raises(TlsError) as caught:
        await session.connect()

    assert "Hostname mismatch" in caught.value.message
    assert "mail.wrong.test" in (caught.value.hint or "")


async def test_insecure_retry_after_starttls_failure(
    start_smtp_server, make_session: SessionFactory
):
    server = start_smtp_server()
    session = make_session(server.host, server.port, security="starttls")
    with pytest.raises(TlsError):
        await session.connect()

    info = await session.start_tls(verify=False)

    assert not info.verified
    assert session.insecure
    assert session.connected
    ehlo = await session.send_command("EHLO client.test")
    assert ehlo.code == 250
    noop = await session.send_command("NOOP")
    assert noop.code == 250
    assert len(events_of(session, Connecting)) == 2
    assert any("WITHOUT certificate verification" in note.text for note in events_of(session, Note))
    started = events_of(session, TlsStarted)
    assert len(started) == 1
    assert not started[0].info.verified
    # The retry repeats greeting, EHLO and STARTTLS in the transcript.
    sent = [event.raw for event in events_of(session, LineSent)]
    assert sent[-4:] == [
        b"EHLO client.test\r\n",
        b"STARTTLS\r\n",
        b"EHLO client.test\r\n",
        b"NOOP\r\n",
    ]


async def test_retry_insecure_sends_ehlo(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(server.host, server.port, security="starttls")
    with pytest.raises(TlsError):
        await session.connect()

    await session.retry_insecure()

    assert session.dialogue.capabilities is not None
    assert session.dialogue.capabilities.auth_mechanisms


async def test_start_tls_without_starttls_raises(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(server.host, server.port, manual=True)
    await session.connect()

    with pytest.raises(TlsError, match="no STARTTLS handshake"):
        await session.start_tls()


async def test_starttls_rejected_keeps_plain_session(
    start_smtp_server, make_session: SessionFactory
):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port, security="starttls")

    with pytest.raises(TlsError, match="rejected STARTTLS"):
        await session.connect()

    assert session.connected
    assert (await session.send_command("NOOP")).code == 250


async def test_implicit_tls_verified(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(implicit_tls=True)
    session = make_session(server.host, server.port, security="tls", ca_file=str(server.ca_file))

    greeting = await session.connect()

    assert greeting.code == 220
    assert session.tls_info is not None
    assert session.tls_info.verified
    assert session.dialogue.tls_active
    assert session.dialogue.capabilities is not None
    assert [event.raw for event in events_of(session, LineSent)] == [b"EHLO client.test\r\n"]


async def test_implicit_tls_failure_then_unverified(
    start_smtp_server, make_session: SessionFactory
):
    server = start_smtp_server(implicit_tls=True)
    session = make_session(server.host, server.port, security="tls")

    with pytest.raises(TlsError) as caught:
        await session.connect()
    assert "unable to get local issuer certificate" in caught.value.message
    assert isinstance(caught.value.details, TlsInfo)
    assert caught.value.details.leaf is not None

    info = await session.start_tls(verify=False)

    assert not info.verified
    assert session.insecure
    assert (await session.send_command("NOOP")).code == 250


async def test_insecure_option_skips_verification(start_smtp_server, make_session: SessionFactory):
    from smtpconsole.options import TlsOptions

    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", tls=TlsOptions(verify=False)
    )

    await session.connect()

    assert session.insecure
    assert session.tls_info is not None
    assert not session.tls_info.verified


async def test_listeners_see_updated_dialogue(start_smtp_server, make_session: SessionFactory):
    from smtpconsole.transcript import ReplyReceived

    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file)
    )
    seen: list[tuple[str, object]] = []

    def listener(event: object) -> None:
        if isinstance(event, ReplyReceived | TlsStarted):
            capabilities = session.dialogue.capabilities
            seen.append((type(event).__name__, capabilities is not None))

    session.subscribe(listener)
    await session.connect()

    # Greeting, EHLO (capabilities known), STARTTLS 220 (cleared), TLS, EHLO over TLS.
    assert seen == [
        ("ReplyReceived", False),
        ("ReplyReceived", True),
        ("ReplyReceived", False),
        ("TlsStarted", False),
        ("ReplyReceived", True),
    ]


async def test_line_typed_during_handshake_waits(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file), manual=True
    )
    await session.connect()
    await session.send_command("EHLO client.test")
    await session.send_line("STARTTLS")
    assert (await session.read_reply()).code == 220

    # No start_tls() here: the line must wait for the handshake the session runs by itself.
    await session.send_line("EHLO client.test")
    reply = await session.read_reply()

    assert reply.code == 250
    assert session.dialogue.tls_active
    assert session.dialogue.capabilities is not None
    assert "AUTH" in session.dialogue.capabilities.keywords


async def test_format_tls_events(start_smtp_server, make_session: SessionFactory):
    from smtpconsole.transcript import format_event

    server = start_smtp_server()
    session = make_session(server.host, server.port, security="starttls")
    with pytest.raises(TlsError):
        await session.connect()

    failed = format_event(events_of(session, TlsFailed)[0])

    assert failed[0].startswith("!! TLS failed: certificate verification failed for 127.0.0.1:")
    assert any("unable to get local issuer certificate" in line for line in failed)
    assert any(line.startswith("!!   names:") and "DNS:localhost" in line for line in failed)
    assert any(line.startswith("!!   SHA-256:") for line in failed)
    assert failed[-1] == "!! only the server's own certificate is available, not its chain"

    await session.retry_insecure()
    started = format_event(events_of(session, TlsStarted)[0])
    assert started[0].startswith("== TLS started: TLSv1.")
    assert started[0].endswith("certificate NOT verified")
