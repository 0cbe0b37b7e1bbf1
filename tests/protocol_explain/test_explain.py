"""explain: every reply code and enhanced status code in the tables, fallbacks, provider hints."""

from __future__ import annotations

import pytest

from smtpconsole.protocol.explain import explain, explain_code, explain_enhanced
from smtpconsole.protocol.explain_tables import REPLY_CODES, STATUS_DETAILS
from smtpconsole.protocol.replies import Reply, ReplyParser

RFC_5321_CODES = [
    211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 450, 451, 452, 454, 455, 500, 501,
    502, 503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
]  # fmt: skip

# (subject, highest detail) per RFC 3463 and the later registrations.
REGISTERED_DETAILS = {0: 0, 1: 10, 2: 4, 3: 6, 4: 7, 5: 6, 6: 10, 7: 27}
LATER_SECURITY_DETAILS = [(7, 29), (7, 30)]


def parse(text: str) -> Reply:
    parser = ReplyParser()
    parser.feed(text.replace("\n", "\r\n").encode() + b"\r\n")
    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    return reply


def all_registered_details() -> list[tuple[int, int]]:
    pairs = [(s, d) for s, last in REGISTERED_DETAILS.items() for d in range(last + 1)]
    return pairs + LATER_SECURITY_DETAILS


@pytest.mark.parametrize("code", RFC_5321_CODES)
def test_every_reply_code_explained(code: int) -> None:
    meaning = explain_code(code)
    assert meaning.known
    assert meaning.title
    assert meaning.meaning
    assert meaning.action
    assert meaning.source.startswith("RFC ")


def test_table_has_no_extra_unlisted_codes() -> None:
    assert set(REPLY_CODES) == set(RFC_5321_CODES) | {432}


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (299, "Positive completion"),
        (399, "Positive intermediate"),
        (471, "Transient negative completion"),
        (599, "Permanent negative completion"),
    ],
)
def test_unknown_code_falls_back_by_class(code: int, title: str) -> None:
    meaning = explain_code(code)
    assert not meaning.known
    assert meaning.title == title
    assert meaning.meaning
    assert meaning.action


@pytest.mark.parametrize("code", [0, 199, 600])
def test_code_outside_smtp_range(code: int) -> None:
    meaning = explain_code(code)
    assert not meaning.known
    assert meaning.title == "Not an SMTP reply code"


@pytest.mark.parametrize("klass", [2, 4, 5])
@pytest.mark.parametrize(("subject", "detail"), all_registered_details())
def test_every_enhanced_status_explained(klass: int, subject: int, detail: int) -> None:
    meaning = explain_enhanced(f"{klass}.{subject}.{detail}")
    assert meaning.known
    assert meaning.title
    assert meaning.meaning
    assert meaning.source.startswith("RFC ")


def test_enhanced_table_matches_registrations() -> None:
    assert set(STATUS_DETAILS) == set(all_registered_details())


@pytest.mark.parametrize(
    ("status", "source"),
    [
        ("5.5.6", "RFC 4954"), ("5.6.7", "RFC 6531"), ("5.7.8", "RFC 4954"),
        ("5.7.10", "RFC 5248"), ("5.7.13", "RFC 5248"), ("5.7.23", "RFC 7372"),
        ("5.1.10", "RFC 7505"), ("5.7.27", "RFC 7505"), ("5.3.6", "RFC 6710"),
    ],
)  # fmt: skip
def test_later_codes_cite_their_rfc(status: str, source: str) -> None:
    assert explain_enhanced(status).source == source


def test_class_and_subject_titles() -> None:
    meaning = explain_enhanced("4.7.0")
    assert meaning.class_title == "Persistent Transient Failure"
    assert meaning.subject_title == "Security or Policy Status"
    assert meaning.title == "Other or undefined security status"


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        ("2.1.0", "About the address: OK."),
        ("2.1.5", "The recipient address is valid."),
        ("2.0.0", "No further detail is given."),
        ("2.6.0", "About the message content: OK."),
        ("2.7.0", "About security or policy: OK."),
        ("2.1.99", "About the address: OK."),
    ],
)
def test_success_status_meaning_is_neutral(status: str, meaning: str) -> None:
    explained = explain_enhanced(status)
    assert explained.meaning == meaning
    assert explained.action is None


@pytest.mark.parametrize("subject", range(8))
def test_success_subject_never_reads_as_failure(subject: int) -> None:
    meaning = explain_enhanced(f"2.{subject}.0").meaning
    assert "wrong" not in meaning
    assert "problem" not in meaning
    assert "stopped" not in meaning


def test_failure_status_keeps_failure_meaning() -> None:
    assert explain_enhanced("5.1.0").meaning == "Something about an address is wrong."
    assert explain_enhanced("5.7.8").action is not None


def test_reply_250_with_2_1_0_is_neutral() -> None:
    explained = explain(parse("250 2.1.0 Ok"), last_verb="MAIL FROM")
    assert explained.enhanced_meaning == "2.1.0 Other address status: About the address: OK."


def test_unregistered_detail_falls_back_to_subject() -> None:
    meaning = explain_enhanced("5.1.99")
    assert not meaning.known
    assert meaning.title == "Addressing Status"
    assert meaning.meaning


def test_unknown_subject_falls_back_to_class() -> None:
    meaning = explain_enhanced("4.9.1")
    assert not meaning.known
    assert meaning.title == "Persistent Transient Failure"
    assert "temporary" in meaning.meaning


@pytest.mark.parametrize("status", ["6.1.1", "5.1", "abc", "5.1.1.1", ""])
def test_invalid_status_raises(status: str) -> None:
    with pytest.raises(ValueError, match="invalid enhanced status code"):
        explain_enhanced(status)


def test_reply_with_enhanced_status() -> None:
    explanation = explain(parse("550 5.1.1 <nobody@example.com>: Recipient unknown"))
    assert explanation.code == 550
    assert explanation.enhanced_status == "5.1.1"
    assert explanation.enhanced_meaning is not None
    assert explanation.enhanced_meaning.startswith("5.1.1 Bad destination mailbox address:")
    assert explanation.action == "Check the recipient address for typos."


@pytest.mark.parametrize(
    ("text", "verb", "fragment"),
    [
        ("220 Ready to start TLS", "STARTTLS", "TLS handshake"),
        ("220 mail.example.com ESMTP", "<greeting>", "Send EHLO"),
        ("250 Ok 0100", ".", "took responsibility for the message"),
        ("250 Ok 0100", "DATA-END", "took responsibility for the message"),
        ("503 Error: need RCPT command", "DATA", "at least one accepted recipient"),
        ("503 Error: need MAIL command", "RCPT TO", "after a sender"),
        ("552 Error: message size exceeds fixed maximum", "MAIL FROM", "SIZE given"),
        ("554 No SMTP service here", "GREETING", "refuses to talk to you"),
    ],
)
def test_meaning_depends_on_command(text: str, verb: str, fragment: str) -> None:
    explanation = explain(parse(text), last_verb=verb)
    assert fragment in explanation.meaning + " " + explanation.action


def test_starttls_530_explained_after_any_command() -> None:
    for verb in ("AUTH", "MAIL FROM", None):
        explanation = explain(parse("530 Must issue a STARTTLS command first"), last_verb=verb)
        assert explanation.meaning == "The server accepts this command only over TLS."


def test_plain_reply_has_no_hint() -> None:
    explanation = explain(parse("250 Ok"), host="mail.example.com", last_verb="NOOP")
    assert explanation.provider_hint is None
    assert explanation.meaning.startswith("The server is alive")


@pytest.mark.parametrize(
    ("text", "host", "provider", "fragment"),
    [
        (
            "554 Message rejected: Email address is not verified. The following identities "
            "failed the check in region US-EAST-1: a@example.com",
            "email-smtp.us-east-1.amazonaws.com", "AWS SES", "verified in the SES console",
        ),
        ("535 Authentication Credentials Invalid", None, "AWS SES", "not the IAM access key"),
        (
            "535 5.7.8 Authentication credentials invalid",
            "email-smtp.eu-west-1.amazonaws.com", "Amazon SES", "bound to one region",
        ),
        (
            "454 Throttling failure: Daily message quota exceeded.", None, "AWS SES",
            "24-hour sending quota",
        ),
        (
            "454 Throttling failure: Maximum sending rate exceeded.", None, "AWS SES",
            "maximum send rate",
        ),
        (
            "535-5.7.8 Username and Password not accepted. For more information, go to\n"
            "535 5.7.8  https://support.google.com/mail/?p=BadCredentials",
            "smtp.gmail.com", "Gmail", "app password",
        ),
        (
            "534-5.7.9 Application-specific password required.\n534 5.7.9 Learn more",
            "smtp.gmail.com", "Gmail", "app password",
        ),
        (
            "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's "
            "DMARC policy.", "gmail-smtp-in.l.google.com", "Gmail", "DMARC policy",
        ),
        (
            "550 5.7.1 [192.0.2.1] Messages missing a valid address in From: header",
            "gmail-smtp-in.l.google.com", "Gmail", "SPF, DKIM and DMARC",
        ),
        ("530 5.7.0 Authentication Required.", "smtp.gmail.com", "Gmail", "only after AUTH"),
        (
            "530 5.7.0 Must issue a STARTTLS command first.", "smtp.gmail.com", "Any provider",
            "send STARTTLS",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
            "the Tenant.", "smtp.office365.com", "Office 365", "Set-CASMailbox",
        ),
        (
            "530 5.7.57 Client not authenticated to send mail. Error: 530 5.7.57",
            "smtp.office365.com", "Office 365", "only from authenticated clients",
        ),
        (
            "535 5.7.3 Authentication unsuccessful", "smtp.office365.com", "Office 365",
            "SmtpClientAuthenticationDisabled",
        ),
        (
            "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
            "smtp.office365.com", "Office 365", "Send As",
        ),
        ("554 5.7.1 <a@example.org>: Relay access denied", "mx.example.com", "Postfix", "relays"),
        ("503 5.5.1 Error: need RCPT command", None, "Postfix", "before DATA"),
        ("503 5.5.1 Error: need MAIL command", None, "Postfix", "MAIL FROM:<sender>"),
        (
            "553 5.7.1 <a@example.com>: Sender address rejected: not owned by user bob",
            "mail.example.com", "Postfix", "reject_sender_login_mismatch",
        ),
        (
            "450 4.1.2 <a@nowhere.example>: Recipient address rejected: Domain not found",
            None, "Postfix", "recipient restrictions",
        ),
    ],
)  # fmt: skip
def test_provider_hints(text: str, host: str | None, provider: str, fragment: str) -> None:
    hint = explain(parse(text), host=host).provider_hint
    assert hint is not None
    assert hint.startswith(provider + ":")
    assert fragment in hint


def test_lowercase_credentials_text_is_not_ses() -> None:
    reply = parse("535 5.7.8 Authentication credentials invalid")
    assert explain(reply, host="mail.example.com").provider_hint is None
