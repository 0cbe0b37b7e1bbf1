"""The interactive session after trouble: a stray SASL response, a reply that does not parse, a
reply that never comes, and closing after a timeout."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest

from smtpconsole.errors import ReadTimeout
from smtpconsole.protocol import sasl
from smtpconsole.protocol.dialogue import Phase
from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.session import Session
from smtpconsole.transcript import AdviceGiven, LineSent, MalformedReply, Note, format_event
from tests.hostile_servers import ClientStream, Script, serve
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    local_options,
    make_session_fixture,  # noqa: F401
)

PASSWORD_LINE = base64.b64encode(b"s3cret-pass").decode()


def advice_keys(session: Session) -> list[str]:
    return [event.advice.key for event in events_of(session, AdviceGiven)]


def advice_texts(session: Session) -> list[str]:
    return [event.advice.text for event in events_of(session, AdviceGiven)]


async def test_stray_sasl_response_is_masked_everywhere(
    start_smtp_server, make_session: SessionFactory, tmp_path: Path
) -> None:
    server = start_smtp_server()
    session = make_session(
        server.host, server.port, security="starttls", ca_file=str(server.ca_file)
    )
    await session.connect()
    mechanism = sasl.create_mechanism("PLAIN", username=server.user, secret=server.password)
    assert (await session.authenticate(mechanism)).code == 235
    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()

    again = await session.send_typed(f"AUTH PLAIN {token}")
    stray = await session.send_typed(PASSWORD_LINE)

    assert again is not None and again.code == 503
    assert stray is not None and stray.code == 500
    sent = [event for event in events_of(session, LineSent) if PASSWORD_LINE.encode() in event.raw]
    assert len(sent) == 1
    assert sent[0].secret
    assert "auth.response_without_exchange" in advice_keys(session)
    assert not any(PASSWORD_LINE in text for text in advice_texts(session))
    text_path = session.transcript.export_text(tmp_path / "transcript.txt")
    jsonl_path = session.transcript.export_jsonl(tmp_path / "transcript.jsonl")
    displayed = [line for event in session.transcript for line in format_event(event)]
    # aiosmtpd quotes the unknown command in its 500 reply, upper-cased.
    for form in (PASSWORD_LINE, PASSWORD_LINE.upper()):
        assert form not in text_path.read_text()
        assert form not in jsonl_path.read_text()
        assert not any(form in line for line in displayed)
        assert form not in stray.text
    records = [json.loads(line) for line in jsonl_path.read_text().splitlines()]
    raws = [r["raw_base64"] for r in records if "raw_base64" in r]
    raws += [r["reply"]["raw_base64"] for r in records if "reply" in r]
    decoded = [base64.b64decode(raw).decode("utf-8", "replace") for raw in raws]
    assert any("********" in text for text in decoded if text.startswith("500"))
    assert not any(PASSWORD_LINE.upper() in text.upper() for text in decoded)
    assert "C: ********" in displayed
    assert any(json.loads(line).get("secret") for line in jsonl_path.read_text().splitlines())


def bad_rcpt_reply_script(bad_reply: bytes) -> Script:
    """Greet, then reply to RCPT with ``bad_reply``, DATA with 354, the message with 250, QUIT with 221."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        in_data = False
        while line := await stream.read_line():
            command = line.rstrip(b"\r\n").upper()
            if in_data:
                if command == b".":
                    in_data = False
                    await stream.send(b"250 2.0.0 queued\r\n")
            elif command.startswith(b"RCPT"):
                await stream.send(bad_reply)
            elif command == b"DATA":
                in_data = True
                await stream.send(b"354 go ahead\r\n")
            elif command == b"QUIT":
                await stream.send(b"221 bye\r\n")
                return
            else:
                await stream.send(b"250 ok\r\n")

    return script


async def test_malformed_reply_takes_its_command_slot(make_session: SessionFactory) -> None:
    async with serve(bad_rcpt_reply_script(b"25O bad\r\n")) as server:
        session = make_session(server.host, server.port, read_timeout=5.0)
        await session.connect()
        assert (await session.send_command("MAIL FROM:<a@example.com>")).code == 250
        started = time.monotonic()
        with pytest.raises(RemoteProtocolError) as caught:
            await session.send_command("RCPT TO:<b@example.com>")
        elapsed = time.monotonic() - started
        phase_after_bad_reply = session.dialogue.phase
        data_reply = await session.send_command("DATA")
        phase_after_data = session.dialogue.phase
        end_reply = await session.send_typed(".")
        still_open = session.connected

    assert elapsed < 2.0
    assert caught.value.message.startswith("the reply to RCPT TO does not parse: ")
    assert phase_after_bad_reply is Phase.MAIL
    assert data_reply.code == 354
    assert phase_after_data is Phase.DATA
    assert end_reply is not None and end_reply.code == 250
    assert still_open
    assert len(events_of(session, MalformedReply)) == 1
    malformed_advice = [
        event.advice
        for event in events_of(session, AdviceGiven)
        if event.advice.key == "reply.malformed"
    ]
    assert len(malformed_advice) == 1
    assert malformed_advice[0].text.startswith("The reply to RCPT TO did not parse")
    assert "RSET" in malformed_advice[0].text


async def test_malformed_reply_reaches_read_reply(
    make_session: SessionFactory,
) -> None:
    async with serve(bad_rcpt_reply_script(b"25O bad\r\n")) as server:
        session = make_session(server.host, server.port)
        await session.connect()
        await session.send_line("MAIL FROM:<a@example.com>")
        await session.send_line("RCPT TO:<b@example.com>")
        await session.send_line("NOOP")
        first = await session.read_reply()
        with pytest.raises(RemoteProtocolError, match="reply to RCPT TO does not parse"):
            await session.read_reply()
        third = await session.read_reply()

    assert first.code == 250
    assert third.code == 250
    assert session.dialogue.last_matched_verb == "NOOP"


def silent_after_mail_script() -> Script:
    """Greet, reply to EHLO, then read every line and never reply again."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        while line := await stream.read_line():
            if line.upper().startswith(b"EHLO"):
                await stream.send(b"250-hostile.test\r\n250 PIPELINING\r\n")
            else:
                while await stream.read_line():
                    pass
                return

    return script


async def test_overdue_reply_warns_once_and_stays_open(make_session: SessionFactory) -> None:
    async with serve(silent_after_mail_script()) as server:
        session = make_session(server.host, server.port, read_timeout=0.4)
        await session.connect()
        await session.send_line("MAIL FROM:<a@example.com>")
        await asyncio.sleep(1.0)
        still_open = session.connected

    overdue = [
        event.advice
        for event in events_of(session, AdviceGiven)
        if event.advice.key == "reply.overdue"
    ]
    assert still_open
    assert len(overdue) == 1
    assert overdue[0].level == "warning"
    assert overdue[0].text.startswith("No reply to MAIL FROM within 0.4 s.")
    assert "reconnect" in overdue[0].text
    assert "late reply" in overdue[0].text


async def test_overdue_warning_replaces_timeout_note(make_session: SessionFactory) -> None:
    async with serve(silent_after_mail_script()) as server:
        session = make_session(server.host, server.port, read_timeout=0.3)
        await session.connect()
        with pytest.raises(ReadTimeout):
            await session.send_typed("MAIL FROM:<a@example.com>")

    assert advice_keys(session).count("reply.overdue") == 1
    assert not any("within 0.3 s" in note.text for note in events_of(session, Note))


async def test_strict_session_leaves_overdue_to_read_timeout() -> None:
    async with serve(silent_after_mail_script()) as server:
        session = Session(
            local_options(server.host, server.port, read_timeout=0.3), strict_replies=True
        )
        await session.connect()
        with pytest.raises(ReadTimeout):
            await session.send_command("MAIL FROM:<a@example.com>")
        await session.close()

    assert "reply.overdue" not in advice_keys(session)
    assert any("within 0.3 s" in note.text for note in events_of(session, Note))


async def test_close_after_timeout_is_quick_and_silent() -> None:
    async with serve(silent_after_mail_script()) as server:
        options = local_options(server.host, server.port, read_timeout=3.0)
        session = Session(options, strict_replies=True)
        await session.connect()
        await session.send_line("DATA")
        with pytest.raises(ReadTimeout):
            await session.read_reply(timeout=3.0)
        keys_before_close = advice_keys(session)
        started = time.monotonic()
        await session.close()
        elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert advice_keys(session) == keys_before_close
    quit_lines = [event for event in events_of(session, LineSent) if event.raw == b"QUIT\r\n"]
    assert len(quit_lines) == 1
