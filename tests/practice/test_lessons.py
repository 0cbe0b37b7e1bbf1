"""Lessons: steps advance on the right replies, mistakes are explained, and a Session run works."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from smtpconsole.errors import UsageError
from smtpconsole.options import ConnectOptions, TlsOptions
from smtpconsole.practice.lessons import (
    LESSONS,
    LessonProgress,
    get_lesson,
    lesson_names,
    rules_for,
)
from smtpconsole.practice.server import PracticeServer
from smtpconsole.protocol.replies import Reply, ReplyParser
from smtpconsole.session import Session
from smtpconsole.tls import TlsInfo
from smtpconsole.transcript import ConnectionClosed, Event, LineSent, ReplyReceived, TlsStarted


def reply(text: str) -> ReplyReceived:
    parser = ReplyParser()
    parser.feed(text.replace("\n", "\r\n").encode() + b"\r\n")
    parsed = parser.next_reply()
    assert isinstance(parsed, Reply)
    return ReplyReceived(parsed)


def sent(line: str) -> LineSent:
    return LineSent(line.encode() + b"\r\n", "typed")


TLS_STARTED = TlsStarted(TlsInfo("TLSv1.3", "TLS_AES_256_GCM_SHA384", True, None, "localhost"))
GREETING = reply("220 localhost ESMTP practice")
EHLO_OK = reply("250-localhost\n250 Ok")


def feed(progress: LessonProgress, events: list[Event]) -> list[str]:
    messages: list[str] = []
    for event in events:
        messages += progress.observe(event)
    return messages


def transaction(last_line: str = "Hello") -> list[Event]:
    return [
        sent("MAIL FROM:<sender@example.com>"), reply("250 Ok"),
        sent("RCPT TO:<friend@example.net>"), reply("250 Ok"),
        sent("DATA"), reply("354 End data with <CR><LF>.<CR><LF>"),
        sent("From: sender@example.com"), sent(""), sent(last_line), sent("."),
        reply("250 Ok 0001"),
    ]  # fmt: skip


def test_lesson_names_in_teaching_order() -> None:
    assert lesson_names() == [
        "first-mail", "starttls-auth", "need-rcpt", "timeouts", "dot-stuffing",
    ]  # fmt: skip


def test_unknown_lesson_raises_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown lesson 'nope'"):
        get_lesson("nope")


@pytest.mark.parametrize("name", lesson_names())
def test_lesson_texts_are_complete(name: str) -> None:
    lesson = LESSONS[name]
    assert lesson.title
    assert lesson.intro
    assert lesson.outro
    assert lesson.steps
    for step in lesson.steps:
        assert step.instruction


def test_rules_for_keeps_lesson_rules() -> None:
    rules = rules_for(get_lesson("first-mail"), idle_timeout=3.0)
    assert rules.require_starttls is False
    assert rules.idle_timeout == 3.0
    assert rules_for(None, 5.0).require_starttls is True


def test_start_messages_give_first_step() -> None:
    progress = LessonProgress(get_lesson("first-mail"))
    messages = progress.start_messages()
    assert messages[0] == "Your first mail in plain SMTP"
    assert messages[2].startswith("Step 1 of 6: Greet the server")


def test_first_mail_completes() -> None:
    progress = LessonProgress(get_lesson("first-mail"))
    feed(progress, [GREETING, sent("EHLO me.example"), EHLO_OK])
    assert progress.index == 1
    feed(progress, transaction())
    assert progress.index == 5
    messages = feed(progress, [sent("QUIT"), reply("221 Bye")])
    assert progress.done
    assert progress.current_step is None
    assert messages[-1].startswith("Lesson done")


def test_greeting_does_not_count_as_ehlo() -> None:
    progress = LessonProgress(get_lesson("first-mail"))
    feed(progress, [reply("250 Ok")])
    assert progress.index == 0


def test_mail_before_ehlo_explained() -> None:
    progress = LessonProgress(get_lesson("first-mail"))
    messages = feed(
        progress, [GREETING, sent("MAIL FROM:<a@b.c>"), reply("503 Error: send HELO first")]
    )
    assert messages == [
        "503 Error: send HELO first\nThe server wants EHLO before MAIL FROM. "
        "Send `EHLO me.example`."
    ]
    assert progress.index == 0


def test_unverified_sender_explained() -> None:
    progress = LessonProgress(get_lesson("first-mail"))
    events = transaction()
    events[-1] = reply("554 Message rejected: Email address is not verified.")
    messages = feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, *events])
    assert any("verified identities" in message for message in messages)
    assert progress.index == 4


def test_unmatched_error_falls_back_to_explain() -> None:
    progress = LessonProgress(get_lesson("timeouts"))
    messages = feed(progress, [GREETING, sent("VRFY x"), reply("502 Could not VRFY x")])
    assert messages == [
        "502 means: The server recognises the command but does not implement it. "
        "Next: Use another command; EHLO lists the extensions the server supports."
    ]


def test_starttls_auth_skips_optional_step() -> None:
    progress = LessonProgress(get_lesson("starttls-auth"))
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK])
    assert progress.index == 1
    feed(progress, [sent("STARTTLS"), reply("220 Ready to start TLS")])
    assert progress.index == 3
    feed(progress, [TLS_STARTED])
    assert progress.index == 4


def test_starttls_auth_completes_with_auth_exchange() -> None:
    progress = LessonProgress(get_lesson("starttls-auth"))
    events: list[Event] = [
        GREETING, sent("EHLO x"), EHLO_OK,
        sent("AUTH PLAIN"), reply("530 Must issue a STARTTLS command first"),
        sent("STARTTLS"), reply("220 Ready to start TLS"), TLS_STARTED,
        sent("EHLO x"), EHLO_OK,
        sent("AUTH PLAIN"), reply("334 "), LineSent(b"AHUAcA==\r\n", "auth", secret=True),
        reply("235 Authentication successful."),
    ]  # fmt: skip
    feed(progress, events)
    assert progress.index == 6
    feed(progress, transaction())
    assert progress.done


def test_auth_530_is_a_step_not_a_mistake() -> None:
    progress = LessonProgress(get_lesson("starttls-auth"))
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, sent("AUTH PLAIN")])
    messages = progress.observe(reply("530 Must issue a STARTTLS command first"))
    assert messages[0].startswith("Done: 530 Must issue a STARTTLS command first")
    assert messages[1].startswith("Step 3 of 7: Upgrade the connection")


def test_wrong_password_explained() -> None:
    progress = LessonProgress(get_lesson("starttls-auth"))
    events: list[Event] = [
        GREETING, sent("EHLO x"), EHLO_OK, sent("STARTTLS"), reply("220 Ready"), TLS_STARTED,
        sent("EHLO x"), EHLO_OK, sent("AUTH PLAIN AHUAcA=="),
    ]  # fmt: skip
    feed(progress, events)
    [message] = progress.observe(reply("535 Authentication Credentials Invalid"))
    assert message.startswith("535 Authentication Credentials Invalid\nThe user name or password")
    assert "IAM access keys" in message


def test_need_rcpt_expects_503() -> None:
    progress = LessonProgress(get_lesson("need-rcpt"))
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, sent("MAIL FROM:<s@example.com>")])
    feed(progress, [reply("250 Ok"), sent("DATA")])
    messages = progress.observe(reply("503 Error: need RCPT command"))
    assert progress.index == 3
    assert "nowhere to deliver" in messages[0]


def test_timeouts_lesson_sees_421_and_close() -> None:
    progress = LessonProgress(get_lesson("timeouts"))
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, sent("NOOP"), reply("250 Ok")])
    feed(progress, [reply("421 Timeout waiting for data from client.")])
    assert progress.index == 3
    feed(progress, [ConnectionClosed("server closed the connection")])
    assert progress.done


def test_dot_stuffing_single_dot_explained() -> None:
    progress = LessonProgress(get_lesson("dot-stuffing"))
    events = transaction()[:6]
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, *events])
    assert progress.index == 4
    [message] = progress.observe(sent(".hidden"))
    assert message.startswith("The line '.hidden' starts with one dot.")
    assert progress.observe(sent("..hidden"))[0].startswith("Done: You doubled the dot")


def test_dot_stuffing_texts_name_lines_sent() -> None:
    progress = LessonProgress(get_lesson("dot-stuffing"))
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, *transaction()[:6], sent("Subject: Dots")])
    progress.observe(sent(".hidden"))

    [done, _] = progress.observe(sent("..shown"))
    messages = feed(progress, [sent("."), reply("250 Ok 1")])

    assert (
        done == "Done: You doubled the dot. The server removes one, so the message holds `.shown`."
    )
    assert progress.done
    assert messages[0].startswith("Done: Accepted.")
    assert messages[0].endswith("so those lines read `hidden` and `.shown`.")


def test_dot_stuffing_payload_event_split_into_lines() -> None:
    progress = LessonProgress(get_lesson("dot-stuffing"))
    events = transaction()[:6]
    feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, *events])
    payload = LineSent(b"Subject: Dots\r\n\r\n..hidden\r\n.\r\n", "data")
    feed(progress, [payload, reply("250 Ok 1")])
    assert progress.done


def test_dot_stuffing_early_end_explained() -> None:
    progress = LessonProgress(get_lesson("dot-stuffing"))
    messages = feed(progress, [GREETING, sent("EHLO x"), EHLO_OK, *transaction()])
    assert any(message.startswith("The message ended before") for message in messages)
    assert progress.index == 4


async def test_starttls_auth_lesson_through_session(
    start_practice: Callable[..., PracticeServer],
) -> None:
    server = start_practice()
    progress = LessonProgress(get_lesson("starttls-auth"))
    messages: list[str] = []
    options = ConnectOptions(
        host=server.host,
        port=server.port,
        security="plain",
        manual=True,
        ehlo_name="client.example",
        tls=TlsOptions(ca_file=str(server.ca_file), sni="localhost"),
        read_timeout=5,
    )
    session = Session(options)
    session.subscribe(lambda event: messages.extend(progress.observe(event)))

    await session.connect()
    await session.send_command("EHLO client.example", source="typed")
    assert (await session.send_command("AUTH PLAIN", source="typed")).code == 530
    assert (await session.send_command("STARTTLS", source="typed")).code == 220
    await session.start_tls()
    await session.send_command("EHLO client.example", source="typed")

    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
    assert (await session.send_command(f"AUTH PLAIN {token}", source="typed")).code == 235

    await session.send_command("MAIL FROM:<sender@example.com>", source="typed")
    await session.send_command("RCPT TO:<friend@example.net>", source="typed")
    await session.send_command("DATA", source="typed")
    final = await session.send_data(b"From: sender@example.com\r\nSubject: hi\r\n\r\nx\r\n.\r\n")
    await session.close()

    assert final.code == 250, messages
    assert progress.done, messages
    assert len(server.mailbox) == 1
