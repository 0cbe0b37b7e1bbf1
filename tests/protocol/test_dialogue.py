"""Tests of the dialogue: phases, pending replies, secrets, advice and suggestions."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.dialogue import (
    Advice,
    Dialogue,
    Phase,
    SentLine,
)
from smtpconsole.protocol.replies import Reply, ReplyParser

EHLO_PLAIN = b"250-mx.example.com\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
EHLO_STARTTLS = (
    b"250-mx.example.com\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n250-STARTTLS\r\n"
    b"250-AUTH PLAIN LOGIN\r\n250 Ok\r\n"
)
EHLO_TLS = (
    b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-AUTH PLAIN LOGIN\r\n"
    b"250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
)


def reply(data: bytes) -> Reply:
    parser = ReplyParser()
    parser.feed(data if data.endswith(b"\n") else data + b"\r\n")
    result = parser.next_reply()
    assert isinstance(result, Reply)
    return result


def receive(dialogue: Dialogue, data: bytes) -> list[Advice]:
    return dialogue.reply_received(reply(data))


def send(dialogue: Dialogue, line: bytes) -> SentLine:
    return dialogue.line_sent(line)


def keys(advice: list[Advice]) -> list[str]:
    return [item.key for item in advice]


def greeted() -> Dialogue:
    dialogue = Dialogue()
    receive(dialogue, b"220 mx.example.com ESMTP")
    return dialogue


def ready(ehlo_reply: bytes = EHLO_PLAIN) -> Dialogue:
    dialogue = greeted()
    send(dialogue, b"EHLO client.example.com")
    receive(dialogue, ehlo_reply)
    return dialogue


def after_tls() -> Dialogue:
    """A dialogue after STARTTLS, the handshake and a second EHLO."""
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 Ready to start TLS")
    dialogue.tls_started()
    send(dialogue, b"EHLO client.example.com")
    receive(dialogue, EHLO_TLS)
    return dialogue


def authenticated() -> Dialogue:
    dialogue = after_tls()
    send(dialogue, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    receive(dialogue, b"235 2.7.0 Authentication successful")
    return dialogue


def with_recipient() -> Dialogue:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@example.com>")
    receive(dialogue, b"250 Ok")
    send(dialogue, b"RCPT TO:<b@example.com>")
    receive(dialogue, b"250 Ok")
    return dialogue


def in_data() -> Dialogue:
    dialogue = with_recipient()
    send(dialogue, b"DATA")
    receive(dialogue, b"354 End data with <CR><LF>.<CR><LF>")
    return dialogue


# --- Phases -----------------------------------------------------------------------------------


def test_happy_path_plain() -> None:
    dialogue = Dialogue()
    assert dialogue.phase is Phase.CONNECTING

    assert receive(dialogue, b"220 mx.example.com ESMTP") == []
    assert dialogue.phase is Phase.GREETED
    assert dialogue.greeting is not None
    assert dialogue.greeting.code == 220

    assert send(dialogue, b"EHLO client.example.com") == SentLine("EHLO", False, False, False)
    assert dialogue.pending == ("EHLO",)
    receive(dialogue, EHLO_PLAIN)
    assert dialogue.phase is Phase.READY
    assert dialogue.capabilities is not None
    assert dialogue.capabilities.size == 1000
    assert dialogue.pending == ()

    send(dialogue, b"MAIL FROM:<a@example.com>")
    receive(dialogue, b"250 2.1.0 Ok")
    assert dialogue.phase is Phase.MAIL

    send(dialogue, b"RCPT TO:<b@example.com>")
    receive(dialogue, b"250 2.1.5 Ok")
    assert dialogue.phase is Phase.RCPT
    assert dialogue.recipients_accepted == 1

    send(dialogue, b"DATA")
    assert keys(receive(dialogue, b"354 go ahead")) == ["data.started"]
    assert dialogue.phase is Phase.DATA
    assert dialogue.in_data

    for line in (b"Subject: test", b"", b"Hello."):
        assert send(dialogue, line) == SentLine("", False, True, False)
    assert dialogue.pending == ()
    assert send(dialogue, b".") == SentLine("", False, True, True)
    assert dialogue.pending == (".",)
    assert not dialogue.in_data
    assert dialogue.phase is Phase.DATA

    assert keys(receive(dialogue, b"250 2.0.0 Ok: queued as ABC")) == ["data.accepted"]
    assert dialogue.phase is Phase.READY
    assert dialogue.recipients_accepted == 0

    send(dialogue, b"QUIT")
    receive(dialogue, b"221 2.0.0 Bye")
    assert dialogue.phase is Phase.CLOSED


def test_starttls_path() -> None:
    dialogue = ready(EHLO_STARTTLS)
    assert dialogue.capabilities is not None
    assert dialogue.capabilities.starttls

    send(dialogue, b"STARTTLS")
    advice = receive(dialogue, b"220 2.0.0 Ready to start TLS")
    assert keys(advice) == ["starttls.capabilities_cleared"]
    assert "Capabilities cleared" in advice[0].text
    assert dialogue.phase is Phase.TLS_PENDING
    assert dialogue.capabilities is None

    advice = dialogue.tls_started()
    assert keys(advice) == ["tls.ehlo_again"]
    assert "EHLO again" in advice[0].text
    assert dialogue.phase is Phase.GREETED
    assert dialogue.tls_active
    assert dialogue.capabilities is None
    assert dialogue.hello_verb is None

    send(dialogue, b"EHLO client.example.com")
    receive(dialogue, EHLO_TLS)
    assert dialogue.phase is Phase.READY
    assert dialogue.capabilities is not None
    assert dialogue.capabilities.auth_mechanisms == ("PLAIN", "LOGIN")

    sent = send(dialogue, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    assert sent == SentLine("AUTH", True, False, False)
    assert keys(receive(dialogue, b"235 2.7.0 Authentication successful")) == ["auth.succeeded"]
    assert dialogue.authenticated
    assert dialogue.phase is Phase.READY


def test_tls_started_forgets_authentication() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")
    receive(dialogue, EHLO_STARTTLS)
    dialogue.authenticated = True
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 go")
    dialogue.tls_started()

    assert not dialogue.authenticated


def test_implicit_tls() -> None:
    dialogue = Dialogue(tls_active=True)
    assert dialogue.tls_active

    other = Dialogue()
    assert other.tls_started() == []
    assert other.tls_active
    assert other.phase is Phase.CONNECTING
    receive(other, b"220 hi")
    assert other.phase is Phase.GREETED


def test_pipelined_transaction_matches_fifo() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    receive(dialogue, b"235 ok")
    for line in (b"MAIL FROM:<a@x>", b"RCPT TO:<b@x>", b"RCPT TO:<c@x>", b"DATA"):
        send(dialogue, line)
    assert dialogue.pending == ("MAIL FROM", "RCPT TO", "RCPT TO", "DATA")

    receive(dialogue, b"250 2.1.0 Ok")
    assert dialogue.phase is Phase.MAIL
    receive(dialogue, b"250 2.1.5 Ok")
    assert dialogue.phase is Phase.RCPT
    assert keys(receive(dialogue, b"550 5.1.1 unknown user")) == ["rcpt.rejected"]
    assert dialogue.phase is Phase.RCPT
    assert dialogue.recipients_accepted == 1
    receive(dialogue, b"354 go")
    assert dialogue.phase is Phase.DATA
    assert dialogue.pending == ()


def test_pipelined_mail_rejected() -> None:
    dialogue = ready()
    for line in (b"MAIL FROM:<a@x>", b"RCPT TO:<b@x>", b"DATA"):
        send(dialogue, line)

    assert keys(receive(dialogue, b"530 5.7.0 Authentication required")) == ["mail.auth_required"]
    assert keys(receive(dialogue, b"503 5.5.1 need MAIL")) == ["rcpt.need_mail"]
    assert keys(receive(dialogue, b"503 5.5.1 Error: need RCPT command")) == ["data.need_rcpt"]
    assert dialogue.phase is Phase.READY
    assert dialogue.pending == ()


def test_pipelined_data_lines_after_dot() -> None:
    dialogue = in_data()
    send(dialogue, b"Subject: x")
    send(dialogue, b".")
    sent = send(dialogue, b"QUIT")

    assert sent.verb == "QUIT"
    assert not sent.data_line
    assert dialogue.pending == (".", "QUIT")
    receive(dialogue, b"250 queued")
    assert dialogue.phase is Phase.READY
    receive(dialogue, b"221 bye")
    assert dialogue.phase is Phase.CLOSED


def test_message_rejected_ends_transaction() -> None:
    dialogue = in_data()
    send(dialogue, b".")

    assert keys(receive(dialogue, b"554 5.7.1 rejected")) == ["data.rejected"]
    assert dialogue.phase is Phase.READY


def test_data_not_accepted_keeps_phase() -> None:
    dialogue = with_recipient()
    send(dialogue, b"DATA")
    receive(dialogue, b"451 try later")

    assert dialogue.phase is Phase.RCPT
    assert not dialogue.in_data


def test_bdat_path() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 10")
    dialogue.chunk_sent(10)
    receive(dialogue, b"250 2.0.0 10 octets received")
    assert dialogue.phase is Phase.RCPT

    send(dialogue, b"BDAT 5 LAST")
    assert dialogue.pending == ("BDAT",)
    receive(dialogue, b"250 2.0.0 Message accepted")
    assert dialogue.phase is Phase.READY


def test_bdat_failure_advises_rset() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 10")

    assert keys(receive(dialogue, b"552 too big")) == ["bdat.failed"]
    assert dialogue.phase is Phase.RCPT


def test_rset_ends_transaction() -> None:
    dialogue = with_recipient()
    send(dialogue, b"RSET")
    receive(dialogue, b"250 2.0.0 Ok")

    assert dialogue.phase is Phase.READY
    assert dialogue.recipients_accepted == 0


def test_rset_before_ehlo_stays_greeted() -> None:
    dialogue = greeted()
    send(dialogue, b"RSET")
    receive(dialogue, b"250 Ok")

    assert dialogue.phase is Phase.GREETED


def test_ehlo_resets_transaction() -> None:
    dialogue = with_recipient()
    send(dialogue, b"EHLO again")
    receive(dialogue, EHLO_TLS)

    assert dialogue.phase is Phase.READY
    assert dialogue.recipients_accepted == 0


def test_helo_gives_no_capabilities() -> None:
    dialogue = greeted()
    send(dialogue, b"HELO client.example.com")
    receive(dialogue, b"250 mx.example.com")

    assert dialogue.phase is Phase.READY
    assert dialogue.capabilities is None
    assert dialogue.hello_verb == "HELO"
    assert dialogue.check_line(b"MAIL FROM:<a@b>") == []


def test_ehlo_unsupported_suggests_helo() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")

    assert keys(receive(dialogue, b"502 command not implemented")) == ["ehlo.unsupported"]
    assert dialogue.phase is Phase.GREETED


def test_ehlo_offering_starttls_advises_upgrade() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")

    assert keys(receive(dialogue, EHLO_STARTTLS)) == ["ehlo.starttls_offered"]


def test_ehlo_with_bad_size_warns() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")

    assert keys(receive(dialogue, b"250-mx\r\n250 SIZE big\r\n")) == ["ehlo.unparsed"]


def test_quit_closes() -> None:
    dialogue = ready()
    send(dialogue, b"QUIT")
    receive(dialogue, b"221 bye")

    assert dialogue.phase is Phase.CLOSED
    assert dialogue.suggestions() == []
    assert keys(dialogue.check_line(b"NOOP")) == ["closed"]


@pytest.mark.parametrize("make", [greeted, ready, with_recipient, in_data])
def test_421_closes_from_any_phase(make: object) -> None:
    dialogue = make()  # type: ignore[operator]
    send(dialogue, b"NOOP")
    advice = receive(dialogue, b"421 4.4.2 Timeout waiting for data from client.")

    assert dialogue.phase is Phase.CLOSED
    assert dialogue.pending == ()
    assert keys(advice)[-1] == "reply.server_closing"
    assert advice[-1].level == "error"
    assert "Timeout" in advice[-1].text


def test_unsolicited_421_closes() -> None:
    dialogue = ready()
    advice = receive(dialogue, b"421 Timeout waiting for data from client.")

    assert keys(advice) == ["reply.server_closing"]
    assert dialogue.phase is Phase.CLOSED


def test_last_matched_verb() -> None:
    dialogue = Dialogue()
    receive(dialogue, b"220 hi")
    assert dialogue.last_matched_verb == "<greeting>"
    send(dialogue, b"mail from:<a@b>")
    receive(dialogue, b"503 need EHLO")
    assert dialogue.last_matched_verb == "MAIL FROM"
    receive(dialogue, b"250 extra")
    assert dialogue.last_matched_verb is None


def test_unsolicited_reply_warns() -> None:
    dialogue = ready()
    advice = receive(dialogue, b"250 extra")

    assert keys(advice) == ["reply.unsolicited"]
    assert dialogue.phase is Phase.READY


def test_greeting_554_rejected() -> None:
    dialogue = Dialogue()
    advice = receive(dialogue, b"554 No SMTP service here")

    assert keys(advice) == ["greeting.rejected"]
    assert dialogue.greeting_rejected
    assert dialogue.phase is Phase.GREETED
    assert "greeting.rejected" in keys(dialogue.check_line(b"EHLO me"))
    assert "greeting.rejected" not in keys(dialogue.check_line(b"QUIT"))
    assert [suggestion.verb for suggestion in dialogue.suggestions()] == ["QUIT"]


def test_greeting_421_closes() -> None:
    dialogue = Dialogue()
    advice = receive(dialogue, b"421 Service not available")

    assert dialogue.phase is Phase.CLOSED
    assert keys(advice) == ["reply.server_closing"]


def test_greeting_other_4xx_closes() -> None:
    dialogue = Dialogue()

    assert keys(receive(dialogue, b"450 busy")) == ["greeting.unavailable"]
    assert dialogue.phase is Phase.CLOSED


def test_command_before_greeting_waits_for_it() -> None:
    dialogue = Dialogue()
    assert keys(dialogue.check_line(b"EHLO me")) == ["greeting.not_yet"]
    send(dialogue, b"EHLO me")

    receive(dialogue, b"220 hello")
    assert dialogue.phase is Phase.GREETED
    assert dialogue.pending == ("EHLO",)
    receive(dialogue, EHLO_PLAIN)
    assert dialogue.phase is Phase.READY


def test_reply_during_tls_pending_is_suspect() -> None:
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 go")

    assert keys(receive(dialogue, b"250 injected")) == ["tls.reply_before_handshake"]
    assert dialogue.phase is Phase.TLS_PENDING


def test_lines_during_tls_pending() -> None:
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 go")

    assert keys(dialogue.check_line(b"EHLO me")) == ["tls.pending"]
    send(dialogue, b"EHLO me")
    assert keys(dialogue.tls_started()) == ["tls.ehlo_again", "tls.lines_before_handshake"]
    assert dialogue.pending == ()


def test_starttls_rejected() -> None:
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")

    assert keys(receive(dialogue, b"454 TLS not available")) == ["starttls.rejected"]
    assert dialogue.phase is Phase.READY
    assert dialogue.capabilities is not None


def test_connection_closed() -> None:
    dialogue = ready()
    send(dialogue, b"NOOP")
    dialogue.connection_closed()

    assert dialogue.phase is Phase.CLOSED
    assert dialogue.pending == ()


# --- AUTH exchange and secrets ------------------------------------------------------------------


def test_auth_login_exchange() -> None:
    dialogue = after_tls()
    sent = send(dialogue, b"AUTH LOGIN")
    assert sent == SentLine("AUTH", False, False, False)
    assert dialogue.auth_mechanism == "LOGIN"

    advice = receive(dialogue, b"334 VXNlcm5hbWU6")
    assert keys(advice) == ["auth.challenge"]
    assert "Username:" in advice[0].text
    assert dialogue.phase is Phase.AUTH_EXCHANGE
    assert dialogue.awaiting_auth_response

    assert send(dialogue, b"YWxpY2U=") == SentLine("", True, False, False)
    assert not dialogue.awaiting_auth_response
    assert dialogue.pending == ("AUTH",)
    receive(dialogue, b"334 UGFzc3dvcmQ6")
    assert dialogue.awaiting_auth_response
    assert send(dialogue, b"c2VjcmV0") == SentLine("", True, False, False)

    advice = receive(dialogue, b"535 5.7.8 Authentication credentials invalid")
    assert keys(advice) == ["auth.failed"]
    assert "535" in advice[0].text
    assert dialogue.phase is Phase.READY
    assert not dialogue.authenticated
    assert not dialogue.awaiting_auth_response
    assert send(dialogue, b"NOOP").secret is False


def test_auth_cancel() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    receive(dialogue, b"334 VXNlcm5hbWU6")
    assert dialogue.check_line(b"*") == []
    assert send(dialogue, b"*").secret

    receive(dialogue, b"501 5.7.0 Authentication cancelled")
    assert dialogue.phase is Phase.READY


def test_auth_response_sent_before_challenge_is_secret() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")

    sent = send(dialogue, b"YWxpY2U=")
    assert sent.secret
    assert dialogue.pending == ("AUTH", "AUTH")
    receive(dialogue, b"334 VXNlcm5hbWU6")
    receive(dialogue, b"334 UGFzc3dvcmQ6")
    assert dialogue.awaiting_auth_response


def test_command_after_pending_auth_is_not_secret() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==")

    sent = send(dialogue, b"MAIL FROM:<a@b>")
    assert sent.verb == "MAIL FROM"
    assert not sent.secret


def test_auth_secret_rule() -> None:
    dialogue = after_tls()

    assert dialogue.line_sent(b"auth plain AGFsaWNlAHNlY3JldA==").secret
    receive(dialogue, b"535 no")
    assert not dialogue.line_sent(b"AUTH PLAIN").secret
    receive(dialogue, b"334 ")
    assert dialogue.awaiting_auth_response
    assert dialogue.line_sent(b"AGFsaWNlAHNlY3JldA==").secret


def test_data_lines_not_secret() -> None:
    dialogue = in_data()

    assert not send(dialogue, b"AUTH PLAIN xyz").secret


@pytest.mark.parametrize(
    ("code", "hint"),
    [(530, "STARTTLS"), (535, "password"), (504, "LOGIN"), (538, "STARTTLS"), (599, "explanation")],
)
def test_auth_failure_hints(code: int, hint: str) -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    advice = receive(dialogue, b"%d no" % code)

    assert keys(advice) == ["auth.failed"]
    assert hint in advice[0].text


def test_auth_challenge_not_text() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH CRAM-MD5")
    advice = receive(dialogue, b"334 AAEC")

    assert keys(advice) == ["auth.challenge"]
    assert "decodes" not in advice[0].text


# --- Advice before sending -----------------------------------------------------------------------


def test_check_line_changes_nothing() -> None:
    dialogue = with_recipient()
    before = copy.deepcopy(vars(dialogue))
    for line in (b"DATA", b"MAIL FROM:<x@y>", b"AUTH PLAIN", b".", b"", b"QUIT"):
        dialogue.check_line(line)

    assert vars(dialogue) == before


def test_auth_before_starttls() -> None:
    advice = ready(EHLO_STARTTLS).check_line(b"AUTH PLAIN")

    assert keys(advice) == ["auth.before_starttls"]
    assert "530 Must issue a STARTTLS command first" in advice[0].text
    assert advice[0].level == "warning"


def test_auth_mechanism_not_offered() -> None:
    advice = after_tls().check_line(b"AUTH CRAM-MD5")

    assert keys(advice) == ["auth.mechanism_not_offered"]
    assert "PLAIN, LOGIN" in advice[0].text


def test_auth_lowercase_mechanism_offered() -> None:
    assert after_tls().check_line(b"auth plain") == []


def test_auth_not_advertised() -> None:
    assert keys(ready().check_line(b"AUTH PLAIN")) == ["auth.not_advertised"]


def test_auth_before_ehlo() -> None:
    assert keys(greeted().check_line(b"AUTH PLAIN")) == ["auth.before_ehlo"]


def test_auth_without_mechanism() -> None:
    assert keys(after_tls().check_line(b"AUTH")) == ["auth.no_mechanism"]


def test_auth_twice() -> None:
    assert keys(authenticated().check_line(b"AUTH PLAIN")) == ["auth.already_authenticated"]


def test_auth_in_transaction() -> None:
    dialogue = after_tls()
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")

    assert keys(dialogue.check_line(b"AUTH PLAIN")) == ["auth.in_transaction"]


def test_mail_before_ehlo() -> None:
    assert keys(greeted().check_line(b"MAIL FROM:<a@b>")) == ["mail.before_ehlo"]


def test_mail_before_auth_is_info() -> None:
    advice = after_tls().check_line(b"MAIL FROM:<a@b>")

    assert keys(advice) == ["mail.before_auth"]
    assert advice[0].level == "info"


def test_mail_nested() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")

    assert keys(dialogue.check_line(b"MAIL FROM:<c@d>")) == ["mail.nested"]


def test_mail_syntax() -> None:
    assert keys(authenticated().check_line(b"MAIL a@b")) == ["mail.syntax"]
    assert keys(authenticated().check_line(b"MAIL FROM: a@b")) == ["mail.syntax"]


def test_mail_size_over_limit() -> None:
    dialogue = ready()
    advice = dialogue.check_line(b"MAIL FROM:<a@b> SIZE=2000")

    assert keys(advice) == ["mail.size_over_limit"]
    assert "1000" in advice[0].text
    assert dialogue.check_line(b"MAIL FROM:<a@b> SIZE=1000") == []


def test_mail_size_zero_limit_means_none() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")
    receive(dialogue, b"250-mx\r\n250 SIZE 0\r\n")

    assert dialogue.check_line(b"MAIL FROM:<a@b> SIZE=99999999") == []


@pytest.mark.parametrize(
    ("line", "key"),
    [
        (b"MAIL FROM:<a@b> SMTPUTF8", "param.smtputf8_not_offered"),
        (b"MAIL FROM:<a@b> BODY=BINARYMIME", "param.binarymime_not_offered"),
        (b"MAIL FROM:<a@b> RET=HDRS", "param.dsn_not_offered"),
        (b"MAIL FROM:<a@b> ENVID=x", "param.dsn_not_offered"),
        (b"MAIL FROM:<a@b> AUTH=<>", "param.auth_not_offered"),
        (b"RCPT TO:<a@b> NOTIFY=NEVER", "param.dsn_not_offered"),
    ],
)
def test_params_not_offered(line: bytes, key: str) -> None:
    dialogue = ready()
    if line.startswith(b"RCPT"):
        send(dialogue, b"MAIL FROM:<x@y>")
        receive(dialogue, b"250 ok")

    assert keys(dialogue.check_line(line)) == [key]


def test_8bitmime_not_offered() -> None:
    dialogue = greeted()
    send(dialogue, b"EHLO me")
    receive(dialogue, b"250-mx\r\n250 SIZE 100\r\n")

    assert keys(dialogue.check_line(b"MAIL FROM:<a@b> BODY=8BITMIME")) == [
        "param.8bitmime_not_offered"
    ]


def test_offered_params_no_advice() -> None:
    dialogue = authenticated()

    assert dialogue.check_line(b"MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS") == []


def test_utf8_address_needs_smtputf8() -> None:
    dialogue = authenticated()

    assert keys(dialogue.check_line("MAIL FROM:<jörg@x.de>".encode())) == ["mail.utf8_address"]
    assert dialogue.check_line("MAIL FROM:<jörg@x.de> SMTPUTF8".encode()) == []


def test_rcpt_before_mail() -> None:
    advice = ready().check_line(b"RCPT TO:<a@b>")

    assert keys(advice) == ["rcpt.before_mail"]
    assert "503" in advice[0].text


def test_rcpt_after_pipelined_mail() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")

    assert dialogue.check_line(b"RCPT TO:<c@d>") == []


def test_rcpt_syntax_and_empty() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")

    assert keys(dialogue.check_line(b"RCPT c@d")) == ["rcpt.syntax"]
    assert keys(dialogue.check_line(b"RCPT TO:<>")) == ["rcpt.empty"]


def test_data_before_rcpt() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")
    advice = dialogue.check_line(b"DATA")

    assert keys(advice) == ["data.before_rcpt"]
    assert "503 need RCPT" in advice[0].text


def test_data_after_pipelined_rcpt() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")
    send(dialogue, b"RCPT TO:<c@d>")

    assert dialogue.check_line(b"DATA") == []


def test_data_with_argument() -> None:
    assert keys(with_recipient().check_line(b"DATA now")) == ["data.argument"]


def test_bdat_advice() -> None:
    assert keys(ready().check_line(b"BDAT 5 LAST")) == [
        "param.chunking_not_offered",
        "bdat.before_rcpt",
        "bdat.octets_follow",
    ]
    assert keys(with_recipient().check_line(b"BDAT 5 LAST")) == ["bdat.octets_follow"]


def test_starttls_not_offered() -> None:
    assert keys(ready().check_line(b"STARTTLS")) == ["starttls.not_offered"]


def test_starttls_already_active() -> None:
    assert keys(after_tls().check_line(b"STARTTLS")) == ["starttls.already_active"]


def test_starttls_before_ehlo() -> None:
    advice = greeted().check_line(b"STARTTLS")

    assert keys(advice) == ["starttls.before_ehlo"]
    assert advice[0].level == "info"


def test_starttls_offered_no_advice() -> None:
    assert ready(EHLO_STARTTLS).check_line(b"starttls") == []


def test_ehlo_without_domain() -> None:
    assert keys(greeted().check_line(b"EHLO")) == ["ehlo.missing_domain"]


@pytest.mark.parametrize("line", [b"ehlo me", b"Ehlo me", b"helo me", b"noop", b"help", b"quit"])
def test_lowercase_verbs_fine(line: bytes) -> None:
    assert greeted().check_line(line) == []


def test_lowercase_transaction_fine() -> None:
    dialogue = authenticated()
    assert dialogue.check_line(b"mail from:<a@b>") == []
    send(dialogue, b"mail from:<a@b>")
    receive(dialogue, b"250 ok")
    assert dialogue.check_line(b"rcpt to:<c@d>") == []


def test_vrfy_needs_argument() -> None:
    assert keys(ready().check_line(b"VRFY")) == ["command.missing_argument"]
    assert ready().check_line(b"VRFY alice") == []


def test_empty_line() -> None:
    assert keys(ready().check_line(b"")) == ["line.empty"]


def test_unknown_command() -> None:
    advice = ready().check_line(b"XYZZY")

    assert keys(advice) == ["command.unknown"]
    assert advice[0].level == "info"


def test_long_command_line() -> None:
    line = b"NOOP " + b"x" * 600

    assert keys(ready().check_line(line)) == ["line.too_long"]


def test_pipelining_not_offered() -> None:
    dialogue = ready()
    send(dialogue, b"MAIL FROM:<a@b>")

    assert "pipelining.not_offered" in keys(dialogue.check_line(b"RCPT TO:<c@d>"))


def test_pipelining_after_group_end() -> None:
    dialogue = authenticated()
    send(dialogue, b"NOOP")

    assert keys(dialogue.check_line(b"MAIL FROM:<a@b>")) == ["pipelining.after_group_end"]


def test_pipelining_offered() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")

    assert dialogue.check_line(b"RCPT TO:<c@d>") == []


def test_command_during_auth_exchange() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    receive(dialogue, b"334 VXNlcm5hbWU6")

    assert keys(dialogue.check_line(b"QUIT")) == ["auth.command_during_exchange"]
    assert keys(dialogue.check_line(b"mail from:<a@b>")) == ["auth.command_during_exchange"]
    assert dialogue.check_line(b"*") == []


def test_auth_response_not_base64() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    receive(dialogue, b"334 VXNlcm5hbWU6")

    assert keys(dialogue.check_line(b"alice smith")) == ["auth.response_not_base64"]
    assert dialogue.check_line(b"YWxpY2U=") == []


# --- Advice on message lines ---------------------------------------------------------------------


def test_data_leading_dot() -> None:
    dialogue = in_data()
    send(dialogue, b"Subject: x")
    send(dialogue, b"")
    advice = dialogue.check_line(b".hidden")

    assert keys(advice) == ["data.leading_dot"]
    assert "'.'" in advice[0].text
    assert dialogue.check_line(b"..doubled") == []


def test_data_single_dot_ends() -> None:
    dialogue = in_data()
    for line in (b"From: a@example.com", b"Date: Fri, 4 Dec 2026 21:00:00 +0000", b"", b"hi"):
        send(dialogue, line)
    advice = dialogue.check_line(b".")

    assert keys(advice) == ["data.end"]
    assert advice[0].level == "info"


def test_end_of_data_missing_headers() -> None:
    dialogue = in_data()
    send(dialogue, b"Subject: no sender")
    send(dialogue, b"")
    send(dialogue, b"From: a@example.com")
    advice = dialogue.check_line(b".")

    assert keys(advice) == ["data.end", "data.missing_from", "data.missing_date"]
    assert advice[1].level == "warning"
    assert advice[2].level == "info"


def test_headers_forgotten_after_new_data() -> None:
    dialogue = in_data()
    send(dialogue, b"From: a@example.com")
    send(dialogue, b"Date: today")
    send(dialogue, b".")
    receive(dialogue, b"250 ok")
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")
    send(dialogue, b"RCPT TO:<c@d>")
    receive(dialogue, b"250 ok")
    send(dialogue, b"DATA")
    receive(dialogue, b"354 go")

    assert "data.missing_from" in keys(dialogue.check_line(b"."))


@pytest.mark.parametrize(
    ("header", "intended"),
    [
        (b"Subjet: hello", "Subject"),
        (b"subjet: hello", "Subject"),
        (b"Form: a@b", "From"),
        (b"Reply-Too: a@b", "Reply-To"),
        (b"Mesage-ID: <x@y>", "Message-ID"),
        (b"Dat: today", "Date"),
    ],
)
def test_header_misspelled(header: bytes, intended: str) -> None:
    advice = in_data().check_line(header)

    assert keys(advice) == ["data.header_misspelled"]
    assert f"'{intended}:'" in advice[0].text


@pytest.mark.parametrize(
    "header",
    [
        b"Subject: hi",
        b"subject: hi",
        b"From: a@b",
        b"In-Reply-To: <x@y>",
        b"Message-Id: <x@y>",
        b"X-Subjet: custom",
        b"Content-Type: text/plain",
        b"Resent-To: a@b",
        b"\tcontinued",
        b"Sender: a@b",
    ],
)
def test_header_fine(header: bytes) -> None:
    assert in_data().check_line(header) == []


def test_header_check_stops_at_body() -> None:
    dialogue = in_data()
    send(dialogue, b"Subject: x")
    send(dialogue, b"")

    assert dialogue.check_line(b"Subjet: this is body text") == []
    assert dialogue.check_line(b"plain body line") == []


def test_body_line_in_headers() -> None:
    assert keys(in_data().check_line(b"Hello Bob,")) == ["data.not_a_header"]


def test_data_line_too_long() -> None:
    dialogue = in_data()
    send(dialogue, b"")

    assert keys(dialogue.check_line(b"x" * 999)) == ["data.line_too_long"]
    assert dialogue.check_line(b"x" * 998) == []


def test_data_lines_not_commands() -> None:
    dialogue = in_data()
    send(dialogue, b"")

    assert dialogue.check_line(b"QUIT") == []
    sent = send(dialogue, b"QUIT")
    assert sent.data_line
    assert dialogue.pending == ()


# --- Suggestions ---------------------------------------------------------------------------------


def verbs(dialogue: Dialogue) -> list[str]:
    return [suggestion.verb for suggestion in dialogue.suggestions()]


def recommended(dialogue: Dialogue) -> list[str]:
    return [suggestion.verb for suggestion in dialogue.suggestions() if suggestion.recommended]


def test_suggestions_before_greeting() -> None:
    assert Dialogue().suggestions() == []


def test_suggestions_greeted() -> None:
    dialogue = greeted()

    assert recommended(dialogue) == ["EHLO"]
    assert verbs(dialogue) == ["EHLO", "HELO", "NOOP", "VRFY", "HELP", "QUIT"]


def test_suggestions_after_handshake() -> None:
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 go")
    dialogue.tls_started()
    ehlo = dialogue.suggestions()[0]

    assert ehlo.verb == "EHLO"
    assert ehlo.recommended
    assert "over TLS" in ehlo.reason


def test_suggestions_starttls_offered() -> None:
    dialogue = ready(EHLO_STARTTLS)

    assert recommended(dialogue) == ["STARTTLS"]
    assert verbs(dialogue)[:3] == ["STARTTLS", "AUTH", "MAIL FROM"]


def test_suggestions_after_tls() -> None:
    dialogue = after_tls()
    auth = next(item for item in dialogue.suggestions() if item.verb == "AUTH")

    assert recommended(dialogue) == ["AUTH"]
    assert auth.mechanisms == ("PLAIN", "LOGIN")
    assert "STARTTLS" not in verbs(dialogue)


def test_suggestions_after_auth() -> None:
    dialogue = authenticated()
    mail = next(item for item in dialogue.suggestions() if item.verb == "MAIL FROM")

    assert recommended(dialogue) == ["MAIL FROM"]
    assert mail.params == ("SIZE=", "BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", "ENVID=")
    assert "AUTH" not in verbs(dialogue)


def test_suggestions_plain_server() -> None:
    dialogue = ready()
    mail = next(item for item in dialogue.suggestions() if item.verb == "MAIL FROM")

    assert recommended(dialogue) == ["MAIL FROM"]
    assert mail.params == ("SIZE=", "BODY=8BITMIME")


def test_suggestions_in_transaction() -> None:
    dialogue = authenticated()
    send(dialogue, b"MAIL FROM:<a@b>")
    receive(dialogue, b"250 ok")
    rcpt = next(item for item in dialogue.suggestions() if item.verb == "RCPT TO")

    assert recommended(dialogue) == ["RCPT TO"]
    assert rcpt.params == ("NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;")
    assert "RSET" in verbs(dialogue)
    assert "MAIL FROM" not in verbs(dialogue)
    assert "DATA" not in verbs(dialogue)


def test_suggestions_with_recipient() -> None:
    dialogue = with_recipient()

    assert recommended(dialogue) == ["DATA"]
    assert {"RCPT TO", "DATA", "BDAT", "RSET", "QUIT"} <= set(verbs(dialogue))


def test_suggestions_in_data() -> None:
    assert verbs(in_data()) == ["."]


def test_suggestions_auth_exchange() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    receive(dialogue, b"334 VXNlcm5hbWU6")

    assert verbs(dialogue) == ["*"]


def test_suggestions_tls_pending() -> None:
    dialogue = ready(EHLO_STARTTLS)
    send(dialogue, b"STARTTLS")
    receive(dialogue, b"220 go")

    assert dialogue.suggestions() == []


@pytest.mark.parametrize("make", [greeted, ready, after_tls, authenticated, with_recipient])
def test_every_suggestion_explained(make: object) -> None:
    dialogue = make()  # type: ignore[operator]
    suggestions = dialogue.suggestions()

    assert suggestions
    assert "QUIT" in [item.verb for item in suggestions]
    for item in suggestions:
        assert item.reason.endswith(".")
        assert item.template.upper().startswith(item.verb)


# --- Properties ----------------------------------------------------------------------------------

LINES = [
    b"EHLO me", b"HELO me", b"STARTTLS", b"AUTH PLAIN", b"AUTH LOGIN", b"YWxpY2U=", b"*",
    b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"BDAT 3 LAST", b"Subject: x", b"", b".",
    b"RSET", b"NOOP", b"QUIT", b"garbage",
]  # fmt: skip
CODES = [220, 221, 235, 250, 251, 334, 354, 421, 450, 500, 503, 530, 535, 550, 554]

event = st.one_of(
    st.tuples(st.just("send"), st.sampled_from(LINES)),
    st.tuples(st.just("reply"), st.sampled_from(CODES)),
    st.tuples(st.just("tls"), st.none()),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(event, max_size=30))
def test_any_event_sequence(events: list[tuple[str, object]]) -> None:
    """No sequence of lines, replies and TLS starts raises, and check_line never changes state."""
    dialogue = Dialogue()
    for kind, value in events:
        if kind == "send":
            assert isinstance(value, bytes)
            before = copy.deepcopy(vars(dialogue))
            advice = dialogue.check_line(value)
            assert vars(dialogue) == before
            assert all(item.level in ("info", "warning", "error") for item in advice)
            dialogue.line_sent(value)
        elif kind == "reply":
            assert isinstance(value, int)
            dialogue.reply_received(reply(b"%d text" % value))
        else:
            dialogue.tls_started()
        assert isinstance(dialogue.phase, Phase)
        assert all(item.reason for item in dialogue.suggestions())
        if dialogue.phase is Phase.CLOSED:
            assert dialogue.pending == () or kind == "send"
        if dialogue.capabilities is not None:
            assert isinstance(dialogue.capabilities, Capabilities)


def test_typed_chunk_octets_count_against_the_bdat_size() -> None:
    dialogue = with_recipient()
    dialogue.line_sent(b"BDAT 9 LAST")
    assert dialogue.chunk_octets_left == 9
    assert keys(dialogue.check_line(b"abc")) == ["bdat.chunk"]
    assert keys(dialogue.check_line(b"abcdefghij")) == ["bdat.chunk_overrun"]

    sent = dialogue.line_sent(b"abc")
    assert sent.chunk and sent.data_line
    assert dialogue.chunk_octets_left == 4
    assert dialogue.line_sent(b"de").chunk
    assert dialogue.chunk_octets_left == 0
    assert dialogue.pending == ("BDAT",)
    assert not dialogue.line_sent(b"NOOP").chunk


def test_reply_before_the_chunk_ends_the_octet_count() -> None:
    dialogue = with_recipient()
    send(dialogue, b"BDAT 9 LAST")
    receive(dialogue, b"500 5.5.2 Error: command not recognized")

    assert dialogue.chunk_octets_left == 0
    assert not dialogue.line_sent(b"RSET").chunk


def test_command_before_final_auth_reply() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH PLAIN")
    receive(dialogue, b"334 ")
    assert send(dialogue, b"AGFsaWNlAHNlY3JldA==").secret

    sent = send(dialogue, b"MAIL FROM:<a@example.com>")
    assert sent.verb == "MAIL FROM"
    assert not sent.secret
    receive(dialogue, b"235 2.7.0 Authentication successful")
    receive(dialogue, b"250 2.1.0 Ok")
    assert dialogue.authenticated
    assert dialogue.phase is Phase.MAIL


def test_word_before_next_challenge_is_response() -> None:
    dialogue = after_tls()
    send(dialogue, b"AUTH LOGIN")
    receive(dialogue, b"334 VXNlcm5hbWU6")
    send(dialogue, b"YWxpY2U=")

    assert send(dialogue, b"c2VjcmV0").secret
    assert dialogue.pending == ("AUTH", "AUTH")
