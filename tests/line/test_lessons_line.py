"""Practice lessons in the line mode: lesson messages print between the transcript lines."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput

from smtpconsole.cli import main
from smtpconsole.line.lesson import LESSON_MARK
from smtpconsole.line.plain import run_plain
from smtpconsole.practice import cli as practice_cli
from smtpconsole.practice.lessons import LessonProgress, get_lesson
from smtpconsole.practice.server import PracticeServer
from tests.line.line_helpers import CTRL_D, create_console, pipe, running_console

__all__ = ["pipe"]

FIRST_MAIL_LINES = (
    "EHLO me.example",
    "MAIL FROM:<sender@example.com>",
    "RCPT TO:<friend@example.net>",
    "DATA",
    "From: sender@example.com",
    "To: friend@example.net",
    "Subject: Hello",
    "",
    "Hello from the line mode.",
    ".",
    "QUIT",
)


@pytest.fixture
def first_mail_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PracticeServer]:
    """A practice server for the first-mail lesson; the password variable is restored after."""
    monkeypatch.setenv(practice_cli.PASSWORD_ENV, "")
    lesson = get_lesson("first-mail")
    with PracticeServer(rules=lesson.rules) as server:
        server.lesson = lesson
        yield server


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def count_replies(lines: list[str]) -> int:
    """Return the number of final reply lines (``S: 250 ...``, not ``S: 250-...``) printed."""
    return sum(1 for line in lines if line.startswith("S: ") and line[6:7] != "-")


async def wait_for_replies(lines: list[str], count: int) -> None:
    await wait_for(lambda: count_replies(lines) >= count)


def greeted(lines: list[str]) -> bool:
    return any(line.startswith("S: 220") for line in lines)


def lesson_output(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(LESSON_MARK)]


async def test_console_prints_lesson_messages(
    first_mail_server: PracticeServer, pipe: PipeInput, tmp_path: Path
) -> None:
    server = first_mail_server
    options = practice_cli.console_options(server)
    progress = LessonProgress(get_lesson("first-mail"))
    console, lines = create_console(options, pipe, tmp_path, lesson=progress)
    async with running_console(console, pipe, lambda: greeted(lines), timeout=10.0) as task:
        # Each command waits for its reply, as a user would: message lines typed before the 354
        # arrives would reach the lesson's dialogue as commands.
        for text in FIRST_MAIL_LINES:
            expected_replies = count_replies(lines) + 1
            pipe.send_text(text + "\r")
            if not console.session.dialogue.in_data or text == ".":
                await wait_for_replies(lines, expected_replies)
        await wait_for(lambda: progress.done)
        pipe.send_text(CTRL_D)
        assert await asyncio.wait_for(task, 10) == 0

    shown = lesson_output(lines)
    assert shown[0] == f"{LESSON_MARK} Your first mail in plain SMTP"
    assert f"{LESSON_MARK} Step 1 of 6: Greet the server: `EHLO me.example`." in shown
    assert f"{LESSON_MARK} {get_lesson('first-mail').outro}" == shown[-1]
    assert len(server.mailbox) == 1


async def test_lesson_message_follows_its_reply(
    first_mail_server: PracticeServer, pipe: PipeInput, tmp_path: Path
) -> None:
    options = practice_cli.console_options(first_mail_server)
    progress = LessonProgress(get_lesson("first-mail"))
    console, lines = create_console(options, pipe, tmp_path, lesson=progress)
    async with running_console(console, pipe, lambda: greeted(lines), timeout=10.0) as task:
        pipe.send_text("MAIL FROM:<sender@example.com>\r")
        await wait_for(lambda: any("wants EHLO before MAIL FROM" in line for line in lines))
        pipe.send_text(CTRL_D)
        await asyncio.wait_for(task, 10)

    reply_index = next(i for i, line in enumerate(lines) if line.startswith("S: 503"))
    reply_text = lines[reply_index].removeprefix("S: ")
    assert lines[reply_index + 1] == f"{LESSON_MARK} {reply_text}"
    assert "wants EHLO before MAIL FROM" in lines[reply_index + 2]


async def test_plain_mode_prints_lesson_messages(first_mail_server: PracticeServer) -> None:
    options = practice_cli.console_options(first_mail_server)
    stdin = io.StringIO("".join(line + "\n" for line in FIRST_MAIL_LINES))
    stdout = io.StringIO()
    progress = LessonProgress(get_lesson("first-mail"))

    status = await run_plain(options, stdin, stdout, lesson=progress)

    output = stdout.getvalue().splitlines()
    assert status == 0
    assert output[0] == f"{LESSON_MARK} Your first mail in plain SMTP"
    assert progress.done
    assert f"{LESSON_MARK} {get_lesson('first-mail').outro}" in output


def test_start_messages_give_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(practice_cli.PASSWORD_ENV, "")
    lesson = get_lesson("starttls-auth")
    with PracticeServer(rules=lesson.rules) as server:
        server.lesson = lesson
        guide = practice_cli.lesson_progress(server)
        assert guide is not None
        messages = guide.start_messages()

    assert messages[0] == lesson.title
    assert messages[2] == f"Practice login: user {server.user}, password {server.password}"
    assert messages[3].startswith("Step 1 of 7: ")


def test_no_login_without_auth(first_mail_server: PracticeServer) -> None:
    guide = practice_cli.lesson_progress(first_mail_server)

    assert guide is not None
    assert not any("Practice login" in message for message in guide.start_messages())


def test_line_needs_lesson_name(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["practice", "--lesson", "--line"])

    assert status == 2
    assert "--lesson needs a NAME with --line" in capsys.readouterr().err


def test_unknown_lesson_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["practice", "--lesson", "no-such-lesson", "--line"])

    error = capsys.readouterr().err
    assert status == 2
    assert "unknown lesson 'no-such-lesson'" in error
    assert "first-mail" in error
