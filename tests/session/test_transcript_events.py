"""Redaction, display lines and exports of transcript events."""

from __future__ import annotations

import base64
import json

import pytest

from smtpconsole.protocol.dialogue import Advice
from smtpconsole.protocol.replies import Reply
from smtpconsole.transcript import (
    AdviceGiven,
    BytesDiscarded,
    ConnectionClosed,
    LineSent,
    MalformedReply,
    Note,
    ReplyReceived,
    Transcript,
    escape_controls,
    format_event,
    redact,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", b"AUTH PLAIN ********\r\n"),
        (b"auth xoauth2 dXNlcj1h\r\n", b"auth xoauth2 ********\r\n"),
        (b"AUTH LOGIN\r\n", b"AUTH LOGIN\r\n"),
        (b"c2VjcmV0\r\n", b"********\r\n"),
        (b"*\r\n", b"********\r\n"),
    ],
)
def test_redact_masks_secret_lines(raw: bytes, masked: bytes):
    event = LineSent(raw, "auth", secret=True)

    assert redact(event).raw == masked
    assert redact(event, reveal=True) is event
    assert event.raw == raw


def test_redact_keeps_other_events():
    line = LineSent(b"AUTH PLAIN AGE=\r\n", "typed", secret=False)
    note = Note("hello")

    assert redact(line) is line
    assert redact(note) is note


def test_format_sent_and_received():
    reply = Reply(250, ("mail.test", "PIPELINING"), b"250-mail.test\r\n250 PIPELINING\r\n")

    assert format_event(LineSent(b"EHLO x\r\n", "typed")) == ["C: EHLO x"]
    assert format_event(LineSent(b"NOOP\r\n", "keepalive")) == ["C: NOOP   [keepalive]"]
    assert format_event(ReplyReceived(reply, 0.01)) == ["S: 250-mail.test", "S: 250 PIPELINING"]


def test_format_secret_masked_unless_revealed():
    event = LineSent(b"AUTH PLAIN AGFsaWNl\r\n", "auth", secret=True)

    assert format_event(event) == ["C: AUTH PLAIN ********"]
    assert format_event(event, reveal=True) == ["C: AUTH PLAIN AGFsaWNl"]


def test_format_data_payload_one_line_each():
    payload = b"Subject: x\r\n\r\nbody\r\n.\r\n"

    assert format_event(LineSent(payload, "data")) == ["C: Subject: x", "C: ", "C: body", "C: ."]


def test_format_escapes_terminal_controls():
    reply = Reply(250, ("ok \x1b[2J\x07",), b"250 ok \x1b[2J\x07\r\n")

    assert format_event(ReplyReceived(reply)) == ["S: 250 ok \\x1b[2J\\x07"]
    assert escape_controls("a\tb\x00c\x7f\x9b") == "a\tb\\x00c\\x7f\\x9b"


def test_format_flags_truncated_and_missing_crlf():
    reply = Reply(250, ("x",), b"250 x", truncated=True, missing_crlf=True)

    lines = format_event(ReplyReceived(reply))

    assert lines[0] == "S: 250 x"
    assert any("truncated" in line for line in lines)
    assert any("no CRLF" in line for line in lines)


def test_format_problems():
    malformed = format_event(MalformedReply(b"garbage\xff\r\n", "bad line"))
    discarded = format_event(BytesDiscarded(b"250 injected\r\n", "before TLS"))
    closed = format_event(ConnectionClosed("the connection broke", "reset by peer"))
    advice = format_event(AdviceGiven(Advice("warning", "careful", "x.y")))

    assert malformed == ["S: garbage\\xff", "!! malformed reply: bad line"]
    assert discarded[0] == "!! discarded 14 bytes: before TLS"
    assert "250 injected" in discarded[1]
    assert closed == ["-- connection closed: the connection broke (reset by peer)"]
    assert advice == ["-- warning: careful"]


def test_transcript_listeners_and_unsubscribe():
    transcript = Transcript()
    seen: list[object] = []
    unsubscribe = transcript.subscribe(seen.append)

    transcript.append(Note("one"))
    unsubscribe()
    transcript.append(Note("two"))

    assert [event.text for event in transcript] == ["one", "two"]
    assert [event.text for event in seen] == ["one"]


def test_listener_error_does_not_stop_transcript():
    transcript = Transcript()
    seen: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    transcript.subscribe(broken)
    transcript.subscribe(seen.append)
    transcript.append(Note("still recorded"))

    assert len(transcript) == 1
    assert len(seen) == 1


def test_export_jsonl_fields(tmp_path):
    transcript = Transcript()
    reply = Reply(235, ("2.7.0 ok",), b"235 2.7.0 ok\r\n", enhanced_status="2.7.0")
    transcript.append(LineSent(b"AUTH PLAIN c2VjcmV0\r\n", "auth", secret=True))
    transcript.append(ReplyReceived(reply, 0.25))
    transcript.append(AdviceGiven(Advice("info", "done", "auth.ok")))

    records = [
        json.loads(line)
        for line in transcript.export_jsonl(tmp_path / "t.jsonl").read_text().splitlines()
    ]

    assert [record["type"] for record in records] == ["LineSent", "ReplyReceived", "AdviceGiven"]
    assert base64.b64decode(records[0]["raw_base64"]) == b"AUTH PLAIN ********\r\n"
    assert records[0]["text"] == "AUTH PLAIN ********\r\n"
    assert records[0]["source"] == "auth"
    assert records[1]["reply"]["code"] == 235
    assert records[1]["reply"]["enhanced_status"] == "2.7.0"
    assert records[1]["latency"] == 0.25
    assert records[2]["advice"] == {"level": "info", "text": "done", "key": "auth.ok"}
    assert all("time" in record and "at" in record for record in records)


def test_export_text_replaces_file(tmp_path):
    transcript = Transcript()
    transcript.append(Note("first"))
    path = tmp_path / "t.txt"
    path.write_text("old content")
    path.chmod(0o644)

    transcript.export_text(path)

    assert path.read_text().endswith("-- first\n")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]
