"""Each practice-server rule and each SES-like reply, at the moment it is due, through smtplib."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable

import pytest

from smtpconsole.practice.server import PracticeServer

from .conftest import MESSAGE, client_context, connect, logged_in
from .raw_client import RawClient

EHLO_BEFORE_TLS = ("localhost", "8BITMIME", "SIZE 10485760", "STARTTLS", "AUTH PLAIN LOGIN", "Ok")
EHLO_AFTER_TLS = ("localhost", "8BITMIME", "SIZE 10485760", "AUTH PLAIN LOGIN", "Ok")
NOT_VERIFIED = (
    "Message rejected: Email address is not verified. The following identities failed the "
    "check in region PRACTICE-LOCAL-1: "
)


def test_greeting_is_one_line_with_session_id(practice: PracticeServer) -> None:
    client = RawClient(practice.host, practice.port)
    greeting = client.reply()
    client.close()
    assert greeting.code == 220
    assert len(greeting.lines) == 1
    assert re.fullmatch(
        r"localhost ESMTP SmtpConsolePractice-[0-9a-f]{16} practice server on localhost",
        greeting.text,
    )


def test_session_id_differs_per_connection(practice: PracticeServer) -> None:
    first = RawClient(practice.host, practice.port)
    second = RawClient(practice.host, practice.port)
    assert first.reply().text != second.reply().text
    first.close()
    second.close()


def test_ehlo_lists_auth_before_tls(practice: PracticeServer) -> None:
    client = RawClient(practice.host, practice.port)
    client.reply()
    reply = client.command("EHLO client.example")
    client.close()
    assert reply.code == 250
    assert reply.lines == EHLO_BEFORE_TLS


def test_ehlo_after_starttls_drops_starttls(practice: PracticeServer) -> None:
    client = RawClient(practice.host, practice.port)
    client.reply()
    client.command("EHLO client.example")
    assert client.command("STARTTLS").format_lines() == ["220 Ready to start TLS"]
    client.starttls(client_context(practice))
    reply = client.command("EHLO client.example")
    client.close()
    assert reply.lines == EHLO_AFTER_TLS


@pytest.mark.parametrize("line", ["AUTH PLAIN", "AUTH LOGIN", "MAIL FROM:<sender@example.com>"])
def test_commands_before_starttls_get_530(practice: PracticeServer, line: str) -> None:
    client = connect(practice)
    client.ehlo()
    code, text = client.docmd(line)
    client.close()
    assert (code, text) == (530, b"Must issue a STARTTLS command first")


def test_noop_allowed_before_starttls(practice: PracticeServer) -> None:
    client = connect(practice)
    assert client.noop() == (250, b"Ok")
    client.close()


def test_auth_plain_succeeds(practice: PracticeServer) -> None:
    client = connect(practice)
    client.starttls(context=client_context(practice))
    assert client.login(practice.user, practice.password) == (235, b"Authentication successful.")
    client.close()


def test_auth_login_prompts_like_ses(practice: PracticeServer) -> None:
    client = RawClient(practice.host, practice.port)
    client.reply()
    client.command("EHLO client.example")
    client.command("STARTTLS")
    client.starttls(client_context(practice))
    client.command("EHLO client.example")
    # base64 of "Username:" and "Password:", as SES sends them.
    assert client.command("AUTH LOGIN").format_lines() == ["334 VXNlcm5hbWU6"]
    assert client.command("cHJhY3RpY2UtdXNlcg==").format_lines() == ["334 UGFzc3dvcmQ6"]
    assert client.command("d3Jvbmc=").format_lines() == ["535 Authentication Credentials Invalid"]
    client.close()


def test_wrong_password_gets_535(practice: PracticeServer) -> None:
    client = connect(practice)
    client.starttls(context=client_context(practice))
    client.ehlo()
    code, text = client.docmd("AUTH", "PLAIN AHByYWN0aWNlLXVzZXIAd3Jvbmc=")
    client.close()
    assert (code, text) == (535, b"Authentication Credentials Invalid")


def test_mail_before_auth_gets_530(practice: PracticeServer) -> None:
    client = connect(practice)
    client.starttls(context=client_context(practice))
    client.ehlo()
    code, text = client.docmd("MAIL FROM:<sender@example.com>")
    client.close()
    assert (code, text) == (530, b"Authentication required")


def test_transaction_replies_like_ses(practice: PracticeServer) -> None:
    client = logged_in(practice)
    assert client.docmd("DATA") == (503, b"Error: need RCPT command")
    assert client.docmd("MAIL FROM:<sender@example.com>") == (250, b"Ok")
    assert client.docmd("RCPT TO:<friend@example.net>") == (250, b"Ok")
    assert client.docmd("DATA") == (354, b"End data with <CR><LF>.<CR><LF>")
    client.send(MESSAGE + b".\r\n")
    code, text = client.getreply()
    client.close()
    assert code == 250
    message_id = practice.mailbox.messages()[0].message_id
    assert text.decode() == f"Ok {message_id}"
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f-]{36}-000000", message_id)


def test_accepted_message_is_stored(practice: PracticeServer) -> None:
    client = logged_in(practice)
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    client.close()
    [message] = practice.mailbox.messages()
    assert message.mail_from == "sender@example.com"
    assert message.rcpt_to == ("friend@example.net",)
    assert message.raw == MESSAGE
    assert message.username == practice.user
    assert message.tls is True
    assert message.subject == "Hello"
    assert message.warnings == ()


def test_header_warnings_are_kept(practice: PracticeServer) -> None:
    client = logged_in(practice)
    client.sendmail(
        "sender@example.com",
        ["friend@example.net"],
        b"From: sender@example.com\r\nSubjet: hi\r\n\r\nx\r\n",
    )
    client.close()
    [message] = practice.mailbox.messages()
    assert any("Subjet" in warning for warning in message.warnings)
    assert any("Date" in warning for warning in message.warnings)


def test_unverified_sender_rejected_at_data_end(practice: PracticeServer) -> None:
    client = logged_in(practice)
    assert client.docmd("MAIL FROM:<stranger@example.org>") == (250, b"Ok")
    assert client.docmd("RCPT TO:<friend@example.net>") == (250, b"Ok")
    code, text = client.data(MESSAGE)
    client.close()
    assert code == 554
    assert text.decode() == NOT_VERIFIED + "stranger@example.org"
    assert practice.mailbox.messages() == []


def test_unverified_from_header_listed(practice: PracticeServer) -> None:
    client = logged_in(practice)
    message = MESSAGE.replace(b"Sender <sender@example.com>", b"Other <other@example.org>")
    with pytest.raises(smtplib.SMTPDataError) as raised:
        client.sendmail("stranger@example.org", ["friend@example.net"], message)
    client.close()
    assert raised.value.smtp_code == 554
    assert (
        raised.value.smtp_error
        == (NOT_VERIFIED + "stranger@example.org, other@example.org").encode()
    )


def test_verified_domain_accepts_any_address(practice: PracticeServer) -> None:
    client = logged_in(practice)
    message = MESSAGE.replace(b"sender@example.com", b"anyone@verified.example")
    client.sendmail("anyone@VERIFIED.example", ["friend@example.net"], message)
    client.close()
    assert len(practice.mailbox) == 1


def test_sandbox_checks_recipients(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(sandbox=True)
    client = logged_in(server)
    with pytest.raises(smtplib.SMTPDataError) as raised:
        client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    client.close()
    assert raised.value.smtp_error == (NOT_VERIFIED + "friend@example.net").encode()


def test_size_over_limit_rejected_at_mail(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(max_message_bytes=1000)
    client = logged_in(server)
    assert client.ehlo_resp is not None and b"SIZE 1000" in client.ehlo_resp
    code, _ = client.docmd("MAIL FROM:<sender@example.com> SIZE=5000")
    client.close()
    assert code == 552


def test_data_over_limit_rejected(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(max_message_bytes=1000)
    client = logged_in(server)
    client.docmd("MAIL FROM:<sender@example.com>")
    client.docmd("RCPT TO:<friend@example.net>")
    code, _ = client.data(MESSAGE + b"x" * 70 + b"\r\n" * 20 + b"y" * 900 + b"\r\n")
    client.close()
    assert code == 552
    assert len(server.mailbox) == 0


def test_idle_timeout_sends_421_and_closes(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(idle_timeout=0.5)
    client = RawClient(server.host, server.port)
    client.reply()
    reply = client.reply()
    assert reply.format_lines() == ["421 Timeout waiting for data from client."]
    assert client.is_closed()
    client.close()


def test_idle_timeout_over_tls(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(idle_timeout=0.5)
    client = RawClient(server.host, server.port)
    client.reply()
    client.command("EHLO client.example")
    client.command("STARTTLS")
    client.starttls(client_context(server))
    assert client.reply().format_lines() == ["421 Timeout waiting for data from client."]
    assert client.is_closed()
    client.close()


def test_typing_in_data_resets_idle_timer(start_practice: Callable[..., PracticeServer]) -> None:
    import time

    server = start_practice(idle_timeout=0.6, require_starttls=False, require_auth=False)
    client = RawClient(server.host, server.port)
    client.reply()
    client.command("EHLO client.example")
    client.command("MAIL FROM:<sender@example.com>")
    client.command("RCPT TO:<friend@example.net>")
    assert client.command("DATA").code == 354
    # Five lines 0.3 s apart: 1.5 s in DATA, each gap shorter than the 0.6 s idle timeout.
    for line in (b"From: sender@example.com", b"Subject: slow", b"", b"typed", b"by hand"):
        time.sleep(0.3)
        client.send(line)
    reply = client.command(".")
    client.close()
    assert reply.code == 250


def test_bad_commands_limit_sends_421(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(max_bad_commands=3)
    client = RawClient(server.host, server.port)
    client.reply()
    replies = [client.command("EHLO") for _ in range(3)]
    assert [reply.code for reply in replies] == [501, 501, 501]
    assert client.reply().format_lines() == ["421 Too many bad commands, closing connection."]
    assert client.is_closed()
    client.close()


def test_unknown_verbs_limit_sends_421(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(require_starttls=False)
    client = RawClient(server.host, server.port)
    client.reply()
    # aiosmtpd 1.4.6 closes on the fifth unrecognised verb.
    codes = [client.command(f"BOGUS{i}").code for i in range(4)]
    last = client.command("BOGUS4")
    assert codes == [500, 500, 500, 500]
    assert last.format_lines() == ["421 Too many bad commands, closing connection."]
    assert client.is_closed()
    client.close()


def test_open_rules_allow_mail_without_tls(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice(require_starttls=False, require_auth=False)
    client = connect(server)
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    code, text = client.docmd("AUTH PLAIN")
    client.close()
    assert len(server.mailbox) == 1
    assert server.mailbox.messages()[0].tls is False
    assert (code, text) == (530, b"Must issue a STARTTLS command first")


def test_dot_stuffing_undone(practice: PracticeServer) -> None:
    client = logged_in(practice)
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE + b".hidden\r\n")
    client.close()
    assert practice.mailbox.messages()[0].raw.endswith(b"\r\n.hidden\r\n")


def test_quit_replies_221(practice: PracticeServer) -> None:
    client = connect(practice)
    assert client.quit() == (221, b"Bye")
