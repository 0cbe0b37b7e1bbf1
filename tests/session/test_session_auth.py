"""SASL exchanges driven by the session, DATA, keepalive and exports without secrets."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from smtpconsole.errors import ReadTimeout
from smtpconsole.protocol import sasl
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.transcript import AdviceGiven, LineSent, Note, ReplyReceived
from tests.hostile_servers import serve
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    make_session_fixture,  # noqa: F401
)

MESSAGE = (
    b"From: alice@example.com\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: session test\r\n"
    b"\r\n"
    b"Hello.\r\n"
    b"..a stuffed dot line\r\n"
    b".\r\n"
)


async def tls_session(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file)
    )
    await session.connect()
    return server, session


@pytest.mark.parametrize("name", ["PLAIN", "LOGIN"])
async def test_authenticate_succeeds(start_smtp_server, make_session: SessionFactory, name: str):
    server, session = await tls_session(start_smtp_server, make_session)
    mechanism = sasl.create_mechanism(name, username=server.user, secret=server.password)

    reply = await session.authenticate(mechanism)

    assert reply.code == 235
    assert session.dialogue.authenticated
    auth_lines = [event for event in events_of(session, LineSent) if event.source == "auth"]
    assert auth_lines[0].raw.startswith(f"AUTH {name}".encode())
    assert all(event.secret for event in auth_lines[1:])


async def test_login_challenges_shown_decoded(start_smtp_server, make_session: SessionFactory):
    server, session = await tls_session(start_smtp_server, make_session)
    mechanism = sasl.create_mechanism("LOGIN", username=server.user, secret=server.password)

    await session.authenticate(mechanism)

    notes = [note.text for note in events_of(session, Note) if "challenge" in note.text]
    assert len(notes) == 2
    assert "User Name" in notes[0]
    assert "Password" in notes[1]


async def test_wrong_password_gets_535(start_smtp_server, make_session: SessionFactory):
    server, session = await tls_session(start_smtp_server, make_session)
    mechanism = sasl.create_mechanism("PLAIN", username=server.user, secret="wrong password")

    reply = await session.authenticate(mechanism)

    assert reply.code == 535
    assert not session.dialogue.authenticated
    assert (await session.send_command("NOOP")).code == 250


async def test_bad_base64_challenge_cancels(make_session: SessionFactory):
    async def script(stream):
        await stream.send(b"220 hostile.test ESMTP\r\n")
        await stream.read_line()
        await stream.send(b"250-hostile.test\r\n250 AUTH LOGIN\r\n")
        await stream.read_line()
        await stream.send(b"334 not*base64!\r\n")
        if await stream.read_line() == b"*\r\n":
            await stream.send(b"501 5.7.0 Authentication cancelled\r\n")
        while await stream.read_line():
            await stream.send(b"250 ok\r\n")

    async with serve(script) as server:
        session = make_session(server.host, server.port)
        await session.connect()
        mechanism = sasl.create_mechanism("LOGIN", username="alice", secret="pw")
        reply = await session.authenticate(mechanism)

    assert reply.code == 501
    assert mechanism.cancelled
    assert bytes(server.received).endswith(b"AUTH LOGIN\r\n*\r\n")
    advice = [event.advice for event in events_of(session, AdviceGiven)]
    cancel = [item for item in advice if item.key == "auth.cancelled"]
    assert len(cancel) == 1
    assert "not base64" in cancel[0].text


async def test_long_initial_response_waits_for_334(make_session: SessionFactory):
    token = "t" * 600

    async def script(stream):
        await stream.send(b"220 hostile.test ESMTP\r\n")
        while line := await stream.read_line():
            if line.startswith(b"AUTH"):
                await stream.send(b"334 \r\n")
                response = await stream.read_line()
                ok = base64.b64decode(response.strip()).endswith(b"\x01\x01")
                await stream.send(b"235 2.7.0 ok\r\n" if ok else b"535 5.7.8 no\r\n")
            else:
                await stream.send(b"250 ok\r\n")

    async with serve(script) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        mechanism = sasl.create_mechanism("XOAUTH2", username="alice", secret=token)
        reply = await session.authenticate(mechanism)

    assert reply.code == 235
    first_line = bytes(server.received).split(b"\r\n")[0]
    assert first_line == b"AUTH XOAUTH2"


async def test_send_data_delivers_message(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port)
    await session.connect()
    assert (await session.send_command("MAIL FROM:<alice@example.com>")).code == 250
    assert (await session.send_command("RCPT TO:<bob@example.com>")).code == 250
    assert (await session.send_command("DATA")).code == 354

    reply = await session.send_data(MESSAGE)

    assert reply.code == 250
    assert len(server.messages) == 1
    assert b".a stuffed dot line" in server.messages[0].original_content
    data_events = [event for event in events_of(session, LineSent) if event.source == "data"]
    assert [event.raw for event in data_events] == [MESSAGE]
    assert (await session.send_command("NOOP")).code == 250


async def test_send_data_checks_its_payload(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port)
    await session.connect()

    with pytest.raises(LocalProtocolError, match="354"):
        await session.send_data(MESSAGE)
    await session.send_command("MAIL FROM:<alice@example.com>")
    await session.send_command("RCPT TO:<bob@example.com>")
    await session.send_command("DATA")
    with pytest.raises(LocalProtocolError, match="CRLF.CRLF"):
        await session.send_data(b"no end\r\n")


async def test_typed_data_lines_end_with_dot(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port)
    await session.connect()
    for line in ["MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.com>", "DATA"]:
        await session.send_line(line)
        await session.read_reply()

    for line in ["Subject: typed", "", "QUIT", "."]:
        await session.send_line(line)
    reply = await session.read_reply()

    assert reply.code == 250
    assert b"QUIT" in server.messages[0].original_content
    assert session.connected


async def test_keepalive_sends_noop_when_idle(make_session: SessionFactory):
    from tests.hostile_servers import recording_script

    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, keepalive=0.2)
        await session.connect()
        await asyncio.sleep(0.5)
        keepalive = [event for event in events_of(session, LineSent) if event.source == "keepalive"]
        assert keepalive
        assert keepalive[0].raw == b"NOOP\r\n"
        # The keepalive's reply is in the transcript but not handed to read_reply.
        with pytest.raises(ReadTimeout):
            await session.read_reply(timeout=0.05)
        # Greeting and EHLO, then one reply per keepalive NOOP except perhaps the last.
        replies = events_of(session, ReplyReceived)
        assert len(replies) >= 2 + len(keepalive) - 1
        notes = [note.text for note in events_of(session, Note)]
        assert any("sending NOOP to keep the connection open" in text for text in notes)

    assert b"NOOP\r\n" in bytes(server.received)


async def test_keepalive_off_by_default(make_session: SessionFactory):
    from tests.hostile_servers import recording_script

    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await asyncio.sleep(0.3)

    assert session.options.keepalive is None
    assert bytes(server.received) == b""


@pytest.mark.parametrize("name", ["PLAIN", "LOGIN"])
async def test_export_has_no_secret(
    start_smtp_server, make_session: SessionFactory, tmp_path, name: str
):
    server, session = await tls_session(start_smtp_server, make_session)
    mechanism = sasl.create_mechanism(name, username=server.user, secret=server.password)
    assert (await session.authenticate(mechanism)).code == 235
    secrets = [
        server.password,
        base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode(),
        base64.b64encode(server.password.encode()).decode(),
    ]

    text_path = session.transcript.export_text(tmp_path / "t.txt")
    jsonl_path = session.transcript.export_jsonl(tmp_path / "t.jsonl")
    revealed = session.transcript.export_text(tmp_path / "r.txt", reveal=True)

    for path in (text_path, jsonl_path):
        content = path.read_text()
        for secret in secrets:
            assert secret not in content
        assert (path.stat().st_mode & 0o777) == 0o600
    assert f"C: AUTH {name}" in text_path.read_text()
    assert "********" in text_path.read_text()
    assert any(secret in revealed.read_text() for secret in secrets[1:])
    records = [json.loads(line) for line in jsonl_path.read_text().splitlines()]
    assert any(record["type"] == "TlsStarted" for record in records)
    for record in records:
        raw = base64.b64decode(record.get("raw_base64", ""))
        assert server.password.encode() not in raw


async def test_set_keepalive_turns_it_on_and_off(make_session: SessionFactory):
    from tests.hostile_servers import recording_script

    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        session.set_keepalive(0.1)
        await asyncio.sleep(0.35)
        session.set_keepalive(None)
        count = len(
            [event for event in events_of(session, LineSent) if event.source == "keepalive"]
        )
        await asyncio.sleep(0.3)
        later = [event for event in events_of(session, LineSent) if event.source == "keepalive"]

    assert session.keepalive is None
    assert count >= 2
    assert len(later) == count


async def test_typed_auth_continued(start_smtp_server, make_session: SessionFactory):
    server, session = await tls_session(start_smtp_server, make_session)
    await session.send_line("AUTH LOGIN")
    challenge = await session.read_reply()
    assert challenge.code == 334

    mechanism = sasl.create_mechanism("LOGIN", username=server.user, secret=server.password)
    reply = await session.continue_authentication(mechanism, challenge)

    assert reply.code == 235
    assert session.dialogue.authenticated
    sent = events_of(session, LineSent)
    assert [event.secret for event in sent[-3:]] == [False, True, True]
