"""``send_data`` passes only the header section and the end line to the dialogue, with no change
in the dialogue's state compared with passing every line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.protocol.dialogue import Dialogue
from smtpconsole.protocol.message import _LINE_END, normalize_line_endings, prepare_raw_payload
from smtpconsole.protocol.replies import Reply, ReplyParser
from smtpconsole.session import _lines_for_dialogue


def reply(text: bytes) -> Reply:
    parser = ReplyParser()
    parser.feed(text)
    result = parser.next_reply()
    assert isinstance(result, Reply)
    return result


def dialogue_in_data() -> Dialogue:
    dialogue = Dialogue()
    dialogue.reply_received(reply(b"220 ready\r\n"))
    for line, answer in (
        (b"EHLO client.test", b"250 ok\r\n"),
        (b"MAIL FROM:<a@example.com>", b"250 ok\r\n"),
        (b"RCPT TO:<b@example.com>", b"250 ok\r\n"),
        (b"DATA", b"354 go ahead\r\n"),
    ):
        dialogue.line_sent(line)
        dialogue.reply_received(reply(answer))
    assert dialogue.in_data
    return dialogue


def state_after(lines: list[bytes]) -> object:
    dialogue = dialogue_in_data()
    for line in lines:
        dialogue.line_sent(line)
    # The view is the snapshot that advice and suggestions are computed from.
    return dialogue._view(), dialogue.phase, dialogue.pending


message_lines = st.lists(
    st.sampled_from([b"", b"Subject: x", b"From: a@b", b"To: c@d", b"body", b".dot", b"X-A: 1"]),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(lines=message_lines, final_line_end=st.booleans())
def test_same_state_as_every_line(lines: list[bytes], final_line_end: bool) -> None:
    raw = b"\r\n".join(lines) + (b"\r\n" if final_line_end else b"")
    payload = prepare_raw_payload(raw)
    every_line = payload[:-2].split(b"\r\n")
    assert state_after(_lines_for_dialogue(payload)) == state_after(every_line)


def test_body_lines_left_out() -> None:
    payload = b"Subject: x\r\n\r\n" + b"body\r\n" * 1000 + b".\r\n"
    assert _lines_for_dialogue(payload) == [b"Subject: x", b"", b"."]


def test_empty_message_only_end() -> None:
    assert _lines_for_dialogue(b".\r\n") == [b"."]


@settings(max_examples=500, deadline=None)
@given(data=st.lists(st.sampled_from([b"\r", b"\n", b"a", b"."]), max_size=16).map(b"".join))
def test_line_ends_same_as_regex(data: bytes) -> None:
    assert normalize_line_endings(data) == _LINE_END.sub(b"\r\n", data)
