"""The pure completion function over Dialogue.suggestions() and the EHLO capabilities."""

from __future__ import annotations

from smtpconsole.line.completion import complete
from smtpconsole.protocol.dialogue import Dialogue
from smtpconsole.protocol.replies import Reply, ReplyParser

EHLO_REPLY = (
    b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
    b"250-DSN\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 SMTPUTF8\r\n"
)


def parse(raw: bytes) -> Reply:
    parser = ReplyParser()
    parser.feed(raw)
    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    return reply


def ready_dialogue() -> Dialogue:
    dialogue = Dialogue(tls_active=True)
    dialogue.reply_received(parse(b"220 mail.example.com ESMTP\r\n"))
    dialogue.line_sent(b"EHLO client.example.com")
    dialogue.reply_received(parse(EHLO_REPLY))
    return dialogue


def texts(text: str, dialogue: Dialogue) -> list[str]:
    candidates = complete(text, dialogue.suggestions(), dialogue.capabilities)
    return [candidate.text for candidate in candidates]


def test_auth_offers_mechanisms_from_ehlo() -> None:
    dialogue = ready_dialogue()
    assert texts("AUTH ", dialogue) == ["PLAIN", "LOGIN", "CRAM-MD5"]
    assert texts("auth cr", dialogue) == ["CRAM-MD5"]


def test_first_word_offers_suggested_verbs() -> None:
    dialogue = ready_dialogue()
    offered = texts("", dialogue)
    assert "AUTH" in offered
    assert "MAIL" in offered
    assert "RCPT" not in offered
    assert texts("ma", dialogue) == ["MAIL"]


def test_mail_keyword_then_parameters() -> None:
    dialogue = ready_dialogue()
    assert texts("MAIL ", dialogue) == ["FROM:<"]
    params = texts("MAIL FROM:<a@example.com> ", dialogue)
    assert params == ["SIZE=", "BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", "ENVID="]
    assert texts("MAIL FROM:<a@example.com> SIZE=10 B", dialogue) == ["BODY=8BITMIME"]


def test_rcpt_offers_dsn_parameters_after_mail() -> None:
    dialogue = ready_dialogue()
    dialogue.line_sent(b"MAIL FROM:<a@example.com>")
    dialogue.reply_received(parse(b"250 2.1.0 Ok\r\n"))
    assert texts("R", dialogue) == ["RCPT", "RSET"]
    assert texts("RCPT ", dialogue) == ["TO:<"]
    assert texts("RCPT TO:<b@example.com> N", dialogue) == ["NOTIFY=SUCCESS,FAILURE"]


def test_nothing_before_greeting() -> None:
    assert texts("", Dialogue()) == []


def test_without_suggestion_capabilities_still_complete_auth() -> None:
    dialogue = ready_dialogue()
    assert [c.text for c in complete("AUTH ", [], dialogue.capabilities)] == [
        "PLAIN",
        "LOGIN",
        "CRAM-MD5",
    ]
