"""Tests of EHLO reply parsing into Capabilities."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.replies import Reply, ReplyParser


def parse_reply(data: bytes) -> Reply:
    parser = ReplyParser()
    parser.feed(data)
    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    return reply


SES_LIKE = (
    b"250-email-smtp.amazonaws.com\r\n"
    b"250-8BITMIME\r\n"
    b"250-SIZE 10485760\r\n"
    b"250-STARTTLS\r\n"
    b"250-AUTH PLAIN LOGIN\r\n"
    b"250 Ok\r\n"
)

POSTFIX_LIKE = (
    b"250-mail.test\r\n"
    b"250-PIPELINING\r\n"
    b"250-SIZE 10240000\r\n"
    b"250-VRFY\r\n"
    b"250-ETRN\r\n"
    b"250-AUTH PLAIN LOGIN\r\n"
    b"250-AUTH=PLAIN LOGIN\r\n"
    b"250-ENHANCEDSTATUSCODES\r\n"
    b"250-8BITMIME\r\n"
    b"250-DSN\r\n"
    b"250-SMTPUTF8\r\n"
    b"250 CHUNKING\r\n"
)


def test_ses_like_reply() -> None:
    caps = Capabilities.from_reply(parse_reply(SES_LIKE))

    assert caps.domain == "email-smtp.amazonaws.com"
    assert caps.size == 10485760
    assert caps.starttls
    assert caps.eightbitmime
    assert caps.auth
    assert caps.auth_mechanisms == ("PLAIN", "LOGIN")
    assert not caps.pipelining
    assert not caps.chunking
    # "Ok" is a keyword by the grammar; the server uses it as a closing line.
    assert caps.has("OK")


def test_postfix_like_reply() -> None:
    caps = Capabilities.from_reply(parse_reply(POSTFIX_LIKE))

    assert caps.domain == "mail.test"
    assert caps.pipelining
    assert caps.dsn
    assert caps.smtputf8
    assert caps.chunking
    assert caps.enhanced_status_codes
    assert caps.auth_mechanisms == ("PLAIN", "LOGIN")
    assert caps.keywords["AUTH"] == ("PLAIN", "LOGIN")
    assert caps.problems == ()


def test_old_auth_form_only() -> None:
    caps = Capabilities.from_lines(["mx greets you", "AUTH=login cram-md5"])

    assert caps.auth
    assert caps.auth_mechanisms == ("LOGIN", "CRAM-MD5")
    assert caps.greeting == "greets you"


def test_auth_forms_union_in_order() -> None:
    caps = Capabilities.from_lines(["mx", "AUTH LOGIN PLAIN", "AUTH=PLAIN XOAUTH2", "auth login"])

    assert caps.auth_mechanisms == ("LOGIN", "PLAIN", "XOAUTH2")
    assert caps.offers_mechanism("xoauth2")
    assert not caps.offers_mechanism("CRAM-MD5")


def test_keywords_upper_cased() -> None:
    caps = Capabilities.from_lines(["mx", "starttls", "Size 100", "x-custom a b"])

    assert caps.starttls
    assert caps.size == 100
    assert caps.keywords["X-CUSTOM"] == ("a", "b")
    assert caps.has("x-custom")
    assert caps.params("X-Custom") == ("a", "b")
    assert caps.params("MISSING") == ()


def test_size_zero_kept() -> None:
    caps = Capabilities.from_lines(["mx", "SIZE 0"])

    assert caps.size == 0
    assert not caps.size_invalid


def test_size_without_param() -> None:
    caps = Capabilities.from_lines(["mx", "SIZE"])

    assert caps.has("SIZE")
    assert caps.size is None
    assert not caps.size_invalid


def test_size_invalid_flagged() -> None:
    caps = Capabilities.from_lines(["mx", "SIZE lots"])

    assert caps.size is None
    assert caps.size_invalid
    assert any("SIZE" in problem for problem in caps.problems)


def test_size_negative_flagged() -> None:
    caps = Capabilities.from_lines(["mx", "SIZE -5"])

    assert caps.size is None
    assert caps.size_invalid


def test_unparsed_lines_kept() -> None:
    caps = Capabilities.from_lines(["mx", "=weird", "", "OK"])

    assert caps.unparsed == ("=weird", "")
    assert len(caps.problems) == 2
    assert caps.has("OK")


def test_single_line_reply() -> None:
    caps = Capabilities.from_reply(parse_reply(b"250 mx.example.com Hello\r\n"))

    assert caps.domain == "mx.example.com"
    assert caps.keywords == {}
    assert caps.auth_mechanisms == ()
    assert not caps.starttls


def test_duplicate_keyword_keeps_first() -> None:
    caps = Capabilities.from_lines(["mx", "SIZE 100", "SIZE 200"])

    assert caps.size == 100


def test_empty_lines() -> None:
    caps = Capabilities.from_lines([])

    assert caps.domain == ""
    assert caps.keywords == {}


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.text(max_size=30), max_size=8))
def test_any_lines_parse(lines: list[str]) -> None:
    caps = Capabilities.from_lines(lines)

    assert all(keyword == keyword.upper() for keyword in caps.keywords)
    assert len(set(caps.auth_mechanisms)) == len(caps.auth_mechanisms)
    assert all(name == name.upper() for name in caps.auth_mechanisms)
    assert caps.size is None or caps.size >= 0
