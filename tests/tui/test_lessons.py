"""Practice lessons in the console: the lesson panel follows a real practice server session."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList

from smtpconsole.practice import cli as practice_cli
from smtpconsole.practice.lessons import get_lesson
from smtpconsole.practice.server import PracticeServer
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.screens.lesson_picker import LessonPickerScreen
from smtpconsole.tui.widgets.lesson_panel import (
    MARK_CURRENT,
    MARK_DONE,
    MARK_SKIPPED,
    LessonPanel,
)
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    main_screen,
    pane_text,
    type_line,
    wait_for,
    wait_for_pane,
)

MESSAGE_LINES = (
    "From: sender@example.com",
    "To: friend@example.net",
    "Subject: Hello",
    "",
    "Hello from the lesson.",
    ".",
)


@pytest.fixture
def practice_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restore the password variable that ``console_options`` sets in this process."""
    monkeypatch.setenv(practice_cli.PASSWORD_ENV, "")


@pytest.fixture
def lesson_server(practice_env: None) -> Iterator[PracticeServer]:
    """A practice server running the starttls-auth lesson, as ``practice --lesson`` starts it."""
    lesson = get_lesson("starttls-auth")
    with PracticeServer(rules=lesson.rules) as server:
        server.lesson = lesson
        yield server


def lesson_panel(app: SmtpConsoleApp) -> LessonPanel:
    return main_screen(app).query_one(LessonPanel)


async def wait_until_idle(pilot: Pilot[Any], app: SmtpConsoleApp) -> None:
    """Wait until the session is READY with no reply pending, so the test ends between commands."""

    def idle() -> bool:
        controller = main_screen(app).controller
        session = controller.session if controller is not None else None
        if session is None:
            return False
        return session.dialogue.phase.name == "READY" and not session.dialogue.pending

    await wait_for(pilot, idle, "the session to be READY with no reply pending")


def plain_token(server: PracticeServer) -> str:
    return base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()


async def wait_for_mark(pilot: Pilot[Any], app: SmtpConsoleApp, step: int, mark: str) -> None:
    panel = lesson_panel(app)
    await wait_for(
        pilot,
        lambda: panel.step_marks()[step] == mark,
        f"step {step + 1} marked {mark!r}; marks {panel.step_marks()}, pane:\n{pane_text(app)}",
    )


async def test_starttls_auth_lesson_completes(lesson_server: PracticeServer) -> None:
    server = lesson_server
    app = create_app(practice_cli.console_options(server), server)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for_pane(pilot, app, "220 ")
        panel = lesson_panel(app)
        assert panel.border_title == "Lesson: STARTTLS and AUTH PLAIN, as on AWS SES"
        assert panel.step_marks()[0] == MARK_CURRENT
        assert panel.login == f"Practice login: user {server.user}, password {server.password}"
        assert "EHLO" not in pane_text(app).split("220 ", 1)[1], "the lesson connects manually"

        await type_line(pilot, "EHLO me.example")
        await wait_for_mark(pilot, app, 0, MARK_DONE)
        await type_line(pilot, "AUTH PLAIN")
        await wait_for_mark(pilot, app, 1, MARK_DONE)
        assert any("530" in message for message in panel.feedback)

        await type_line(pilot, "STARTTLS")
        await wait_for_mark(pilot, app, 3, MARK_DONE)
        await type_line(pilot, "EHLO me.example")
        await wait_for_mark(pilot, app, 4, MARK_DONE)
        await type_line(pilot, f"AUTH PLAIN {plain_token(server)}")
        await wait_for_mark(pilot, app, 5, MARK_DONE)
        assert panel.step_marks()[6] == MARK_CURRENT

        for line in ("MAIL FROM:<sender@example.com>", "RCPT TO:<friend@example.net>", "DATA"):
            await type_line(pilot, line)
            await wait_for_pane(pilot, app, "S: 354" if line == "DATA" else f"C: {line}")
        for line in MESSAGE_LINES:
            await type_line(pilot, line)
        await wait_for(pilot, lambda: panel.progress.done, "the lesson to be done")

        assert panel.step_marks() == [MARK_DONE] * 7
        assert panel.border_subtitle == "done"
        assert panel.feedback[-1] == get_lesson("starttls-auth").outro
        assert len(server.mailbox) == 1


async def test_optional_step_marked_skipped(lesson_server: PracticeServer) -> None:
    app = create_app(practice_cli.console_options(lesson_server), lesson_server)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for_pane(pilot, app, "220 ")
        await type_line(pilot, "EHLO me.example")
        await wait_for_mark(pilot, app, 0, MARK_DONE)
        await type_line(pilot, "STARTTLS")
        await wait_for_mark(pilot, app, 3, MARK_DONE)

        assert lesson_panel(app).step_marks()[1] == MARK_SKIPPED
        assert lesson_panel(app).step_marks()[2] == MARK_DONE


async def test_mistake_explained_in_panel(lesson_server: PracticeServer) -> None:
    app = create_app(practice_cli.console_options(lesson_server), lesson_server)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for_pane(pilot, app, "220 ")
        panel = lesson_panel(app)
        await type_line(pilot, "MAIL FROM:<sender@example.com>")
        await wait_for(pilot, lambda: panel.feedback != [panel.progress.lesson.intro], "feedback")

        assert "Send STARTTLS first" in panel.feedback[0]
        assert panel.step_marks()[0] == MARK_CURRENT


async def test_no_lesson_no_panel(practice_env: None) -> None:
    with PracticeServer() as server:
        app = create_app(practice_cli.console_options(server), server)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for_pane(pilot, app, "== TLS started")
            await wait_until_idle(pilot, app)

            assert not main_screen(app).query(LessonPanel)


async def choose_in_picker(pilot: Pilot[Any], app: SmtpConsoleApp, option_id: str) -> None:
    """Open the picker with F12, choose ``option_id`` and wait for the new main screen."""
    previous = main_screen(app)
    await pilot.press("f12")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonPickerScreen), "the picker")
    option_list = app.screen.query_one(OptionList)
    option_list.highlighted = option_list.get_option_index(option_id)
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: app.main_screen is not previous and app.screen is app.main_screen,
        f"the main screen for {option_id}",
    )


async def test_picker_starts_lesson(practice_env: None) -> None:
    with PracticeServer() as server:
        app = create_app(practice_cli.console_options(server), server)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for_pane(pilot, app, "== TLS started")
            await choose_in_picker(pilot, app, "first-mail")
            await wait_for_pane(pilot, app, "220 ")

            assert server.lesson is not None
            assert server.lesson.name == "first-mail"
            assert not server.rules.require_starttls
            assert lesson_panel(app).border_title == "Lesson: Your first mail in plain SMTP"
            assert lesson_panel(app).login is None, "first-mail needs no AUTH"
            await type_line(pilot, "EHLO me.example")
            await wait_for_mark(pilot, app, 0, MARK_DONE)


async def test_picker_back_to_free_practice(practice_env: None) -> None:
    with PracticeServer() as server:
        app = create_app(practice_cli.console_options(server), server)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for_pane(pilot, app, "220 ")
            await choose_in_picker(pilot, app, "need-rcpt")
            await wait_for_pane(pilot, app, "220 ")
            await choose_in_picker(pilot, app, "free")
            await wait_for_pane(pilot, app, "== TLS started")
            await wait_until_idle(pilot, app)

            assert server.lesson is None
            assert server.rules.require_starttls
            assert not main_screen(app).query(LessonPanel)
            assert len(app.screen_stack) == 2


async def test_palette_opens_picker(practice_env: None) -> None:
    with PracticeServer() as server:
        app = create_app(practice_cli.console_options(server), server)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_until_idle(pilot, app)
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
            await pilot.press(*"practice: choose lesson")

            def first_hit() -> str:
                hits = app.screen.query_one(CommandList)
                return str(hits.get_option_at_index(0).prompt) if hits.option_count else ""

            await wait_for(pilot, lambda: "practice: choose lesson" in first_hit(), "the hit")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LessonPickerScreen), "picker")


async def test_picker_shown_at_start(practice_env: None) -> None:
    with PracticeServer() as server:
        app = create_app(practice_cli.console_options(server), server, choose_lesson=True)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, LessonPickerScreen), "picker")
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.main_screen, "the main screen")
            await wait_until_idle(pilot, app)

            assert server.lesson is None
