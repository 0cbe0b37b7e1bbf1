"""Pane lines from transcript events, typed AUTH responses and builder forms, without a server."""

from __future__ import annotations

import base64
from functools import partial
from typing import Any

import pytest
from textual.widgets import Checkbox, Input, OptionList, Select

from smtpconsole import transcript
from smtpconsole.protocol.dialogue import Advice, Dialogue
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.tui.app import create_app
from smtpconsole.tui.pane_lines import EXPLAIN_PREFIX, EventFormatter
from smtpconsole.tui.typed_auth import ChallengeAnswer, TypedAuth
from smtpconsole.tui.widgets.command_builder import CommandBuilder, mask_line
from smtpconsole.tui.widgets.protocol_pane import PaneLine, format_prefix
from tests.tui.fixed_session import FIXED_TIME, SCRIPT, FixedSession, parse_reply
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    console_options,
    main_screen,
    pane_lines,
    wait_for,
    wait_for_form,
)


def test_sent_line_kind_and_text() -> None:
    lines = EventFormatter().lines(transcript.LineSent(b"EHLO a.test\r\n", "typed", at=FIXED_TIME))
    assert [(line.text, line.kind) for line in lines] == [("C: EHLO a.test", "sent")]


def test_secret_line_is_masked() -> None:
    event = transcript.LineSent(b"AUTH PLAIN AGFsaWNlAHB3\r\n", "builder", True, FIXED_TIME)
    lines = EventFormatter().lines(event)
    assert lines[0].text == "C: AUTH PLAIN ********"
    assert lines[0].kind == "secret"


def test_reply_latency_on_first_line_only() -> None:
    reply = parse_reply("250-a.test\r\n250 SIZE 100\r\n")
    lines = EventFormatter().lines(transcript.ReplyReceived(reply, 0.05, FIXED_TIME))
    assert [line.latency for line in lines] == [0.05, None]
    assert {line.kind for line in lines} == {"reply-2"}


def test_failure_reply_gets_explanation() -> None:
    formatter = EventFormatter("mail.example.test")
    formatter.lines(transcript.LineSent(b"RCPT TO:<b@example.com>\r\n", "typed", at=FIXED_TIME))
    reply = parse_reply("503 5.5.1 Error: need MAIL command\r\n")
    lines = formatter.lines(transcript.ReplyReceived(reply, None, FIXED_TIME))
    assert [line.kind for line in lines] == ["reply-5", "explain"]
    assert lines[1].text.startswith(EXPLAIN_PREFIX)
    assert lines[0].answered_verb == "RCPT TO"


def test_success_reply_has_no_explanation() -> None:
    reply = parse_reply("250 2.0.0 Ok\r\n")
    lines = EventFormatter().lines(transcript.ReplyReceived(reply, None, FIXED_TIME))
    assert [line.kind for line in lines] == ["reply-2"]


def test_reply_after_payload_answers_data_end() -> None:
    formatter = EventFormatter()
    formatter.lines(transcript.LineSent(b"hello\r\n.\r\n", "data", at=FIXED_TIME))
    lines = formatter.lines(transcript.ReplyReceived(parse_reply("250 Ok\r\n"), None, FIXED_TIME))
    assert lines[0].answered_verb == "DATA-END"


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        (transcript.AdviceGiven(Advice("warning", "careful", "k"), FIXED_TIME), "advice-warning"),
        (transcript.BytesDiscarded(b"250 x\r\n", "before TLS", FIXED_TIME), "discarded"),
        (transcript.MalformedReply(b"garbage\r\n", "no code", FIXED_TIME), "malformed"),
        (transcript.ConnectionClosed("closed by the server", None, FIXED_TIME), "closed"),
        (transcript.Note("idle", FIXED_TIME), "note"),
        (transcript.TlsFailed("handshake failed", None, FIXED_TIME), "closed"),
    ],
)
def test_event_kinds(event: transcript.Event, kind: str) -> None:
    assert EventFormatter().lines(event)[0].kind == kind


def test_timestamp_prefix_is_utc_with_latency() -> None:
    line = PaneLine("S: 250 Ok", "reply-2", FIXED_TIME + 1.5, 0.0424)
    assert format_prefix(line) == "00:00:01.500    +42ms "


def test_mask_line_keeps_mechanism() -> None:
    assert mask_line("AUTH PLAIN AGFsaWNlAHB3") == "AUTH PLAIN ********"
    assert mask_line("AUTH LOGIN") == "AUTH LOGIN"


def _auth_dialogue(first_line: bytes) -> Dialogue:
    dialogue = Dialogue(tls_active=True)
    dialogue.reply_received(parse_reply("220 a.test ready\r\n"))
    dialogue.line_sent(b"EHLO c.test")
    dialogue.reply_received(parse_reply("250-a.test\r\n250 AUTH PLAIN LOGIN\r\n"))
    dialogue.line_sent(first_line)
    return dialogue


def _challenge(typed: TypedAuth, dialogue: Dialogue, text: str) -> bool:
    """Deliver a reply as the session does: to the dialogue first, then to the console."""
    reply = parse_reply(text)
    dialogue.reply_received(reply)
    return typed.reply_received(reply, dialogue)


def test_typed_login_responses_from_profile() -> None:
    typed = TypedAuth()
    dialogue = Dialogue()
    typed.line_typed("AUTH LOGIN", dialogue)
    dialogue = _auth_dialogue(b"AUTH LOGIN")
    secrets_read: list[str] = []

    def secret() -> str:
        secrets_read.append("read")
        return "pw"

    respond = partial(
        typed.answer_line, ChallengeAnswer("profile"), username="alice", secret=secret
    )
    assert _challenge(typed, dialogue, "334 VXNlcm5hbWU6\r\n")
    assert base64.b64decode(respond()) == b"alice"
    dialogue.line_sent(b"YWxpY2U=")
    assert _challenge(typed, dialogue, "334 UGFzc3dvcmQ6\r\n")
    assert base64.b64decode(respond()) == b"pw"
    assert secrets_read == ["read"]


def test_typed_response_is_base64_encoded() -> None:
    typed = TypedAuth()
    typed.line_typed("AUTH LOGIN", Dialogue())
    assert _challenge(typed, _auth_dialogue(b"AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n")
    line = typed.answer_line(ChallengeAnswer("typed", "bob"), username="", secret=str)
    assert line == "Ym9i"


def test_cancel_response_is_star() -> None:
    typed = TypedAuth()
    typed.line_typed("AUTH LOGIN", Dialogue())
    assert _challenge(typed, _auth_dialogue(b"AUTH LOGIN"), "334 VXNlcm5hbWU6\r\n")
    assert typed.answer_line(ChallengeAnswer("cancel"), username="", secret=str) == "*"


def test_response_without_challenge_raises() -> None:
    with pytest.raises(LocalProtocolError):
        TypedAuth().answer_line(ChallengeAnswer("typed", "x"), username="", secret=str)


def test_reply_other_than_334_is_no_challenge() -> None:
    typed = TypedAuth()
    typed.line_typed("AUTH PLAIN", Dialogue())
    assert not _challenge(typed, _auth_dialogue(b"AUTH PLAIN"), "235 ok\r\n")
    assert typed.challenge is None


async def test_builder_mail_sends_offered_parameters() -> None:
    sessions: list[FixedSession] = []

    def factory(options: Any) -> FixedSession:
        sessions.append(FixedSession(options, SCRIPT[:5]))
        return sessions[-1]

    app = create_app(console_options(587, host="mail.example.test"), session_factory=factory)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(pilot, lambda: any("S: 503" in line for line in pane_lines(app)), "replay")
        builder = main_screen(app).query_one(CommandBuilder)
        option_list = builder.query_one("#suggestions", OptionList)
        ids = [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]
        option_list.highlighted = ids.index("MAIL FROM")
        await wait_for_form(pilot, builder, "#size")
        for widget_id in ("size", "body", "smtputf8", "ret", "envid"):
            assert not builder.query_one(f"#{widget_id}").has_class("-hidden"), widget_id
        builder.query_one("#size", Input).value = "2048"
        builder.query_one("#body", Select).value = "8BITMIME"
        builder.query_one("#smtputf8", Checkbox).value = True
        builder.query_one("#ret", Select).value = "HDRS"
        builder.query_one("#envid", Input).value = "env 1"
        await pilot.pause(0.1)
        expected = (
            "MAIL FROM:<alice@example.com> SIZE=2048 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=env+201"
        )
        assert str(builder.query_one("#preview").render()) == expected
        await pilot.click("#send")
        await wait_for(pilot, lambda: expected in sessions[0].sent, "the MAIL line sent")


async def test_builder_rejects_line_break_in_field() -> None:
    app = create_app(console_options(587, host="mail.example.test"), session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(
            pilot, lambda: any("250 2.1.0" in line for line in pane_lines(app)), "replay"
        )
        builder = main_screen(app).query_one(CommandBuilder)
        await wait_for(pilot, lambda: bool(builder.query("#addresses")), "the RCPT form")
        builder.query_one("#addresses", Input).value = "bob@example.com>\rDATA"
        await pilot.pause(0.1)
        assert "Cannot build the line" in str(builder.query_one("#preview").render())
        assert builder.query_one("#send").disabled
