"""The dialogue after user mistakes and server faults: a stray SASL response, a reply that does
not parse, an unfinished message, and DATA after BDAT."""

from __future__ import annotations

import pytest

from smtpconsole.protocol.dialogue import Phase
from smtpconsole.protocol.sasl import looks_like_sasl_response
from tests.protocol.test_dialogue import authenticated, in_data, keys, receive, send, with_recipient

PASSWORD_LINE = b"czNjcmV0LXBhc3M="


def test_stray_sasl_response_is_secret() -> None:
    dialogue = authenticated()
    send(dialogue, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    receive(dialogue, b"503 5.5.1 Error: already authenticated")

    advice = dialogue.check_line(PASSWORD_LINE)
    sent = send(dialogue, PASSWORD_LINE)

    assert sent.secret
    assert sent.verb == ""
    assert dialogue.pending == ("",)
    assert keys(advice) == ["auth.response_without_exchange"]
    assert not any(PASSWORD_LINE.decode() in item.text for item in advice)
    assert "no AUTH exchange is waiting" in advice[0].text


@pytest.mark.parametrize(
    "line", [b"NOOP", b"VRFY postmaster", b"RCPT TO:<b@example.com>", b"short=="]
)
def test_ordinary_lines_are_not_secret(line: bytes) -> None:
    dialogue = authenticated()
    assert not send(dialogue, line).secret


def test_history_and_dialogue_share_the_heuristic() -> None:
    assert looks_like_sasl_response(PASSWORD_LINE)
    assert looks_like_sasl_response(PASSWORD_LINE.decode())


def test_malformed_reply_takes_oldest_pending_slot() -> None:
    dialogue = with_recipient()
    send(dialogue, b"RCPT TO:<c@example.com>")
    send(dialogue, b"DATA")

    advice = dialogue.reply_malformed()

    assert dialogue.phase is Phase.RCPT
    assert dialogue.pending == ("DATA",)
    assert keys(advice) == ["reply.malformed"]
    assert advice[0].text.startswith("The reply to RCPT TO did not parse")
    receive(dialogue, b"354 go ahead")
    assert dialogue.in_data


def test_malformed_reply_to_end_of_data_ends_transaction() -> None:
    dialogue = in_data()
    send(dialogue, b".")

    advice = dialogue.reply_malformed()

    assert dialogue.phase is Phase.READY
    assert not dialogue.in_data
    assert advice[0].text.startswith("The reply to the end of the message ('.') did not parse")


def test_malformed_reply_without_pending_line() -> None:
    dialogue = with_recipient()
    assert dialogue.reply_malformed() == []
    assert dialogue.phase is Phase.RCPT


def test_mid_message_in_data_and_in_chunk() -> None:
    dialogue = with_recipient()
    assert not dialogue.mid_message
    send(dialogue, b"BDAT 10")
    assert dialogue.mid_message
    send(dialogue, b"12345678")
    assert not dialogue.mid_message
    assert in_data().mid_message


def test_bdat_transaction_suggests_bdat_not_data() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 5")
    send(dialogue, b"abc")
    receive(dialogue, b"250 2.0.0 5 octets received")

    suggested = {item.verb: item for item in dialogue.suggestions()}

    assert dialogue.bdat_used
    assert "DATA" not in suggested
    assert suggested["BDAT"].recommended
    assert "RSET" in suggested
    assert "data.after_bdat" in keys(dialogue.check_line(b"DATA"))


def test_bdat_mark_ends_with_transaction() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 0 LAST")
    receive(dialogue, b"250 2.0.0 Message accepted")
    assert not dialogue.bdat_used
    send(dialogue, b"MAIL FROM:<a@example.com>")
    receive(dialogue, b"250 Ok")
    send(dialogue, b"RCPT TO:<b@example.com>")
    receive(dialogue, b"250 Ok")
    assert "DATA" in [item.verb for item in dialogue.suggestions()]
    assert "data.after_bdat" not in keys(dialogue.check_line(b"DATA"))


def test_bdat_mark_cleared_by_rset() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 3")
    send(dialogue, b"a")
    receive(dialogue, b"250 2.0.0 3 octets received")
    send(dialogue, b"RSET")
    receive(dialogue, b"250 Ok")
    assert not dialogue.bdat_used


def test_bdat_outside_transaction_is_not_marked() -> None:
    dialogue = authenticated()
    send(dialogue, b"BDAT 0 LAST")
    receive(dialogue, b"503 5.5.1 Error: need MAIL command")
    assert not dialogue.bdat_used
