"""Layout at several terminal sizes: the pane's share of the width, the side column, the status.

The console runs on the practice server as ``smtpconsole practice`` starts it (STARTTLS on
connect), so the status bar has a real TLS state to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from smtpconsole.practice import cli as practice_cli
from smtpconsole.practice.lessons import get_lesson
from smtpconsole.practice.server import PracticeServer
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.screens.main import SIDE_PANEL_HINT
from smtpconsole.tui.widgets.lesson_panel import LessonPanel
from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
from smtpconsole.tui.widgets.raw_input import RawInput
from smtpconsole.tui.widgets.status_bar import (
    STATUS_REDUCTIONS,
    SessionStatus,
    StatusBar,
    fields_width,
    status_fields,
)
from tests.tui.tui_helpers import (
    main_screen,
    status_of,
    wait_for,
    wait_for_pane,
    wait_until_ready,
)

pytestmark = pytest.mark.timeout(60)

TLS_STATUS = SessionStatus(
    target="127.0.0.1:58725",
    security="TLSv1.3 TLS_AES_256_GCM_SHA384 verified",
    security_brief="TLSv1.3 verified",
    verified=True,
    phase="READY",
    connected=True,
    last_reply_at=0.0,
)


@pytest.fixture
def practice_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PracticeServer]:
    """A practice server without a lesson; the password variable is restored afterwards."""
    monkeypatch.setenv(practice_cli.PASSWORD_ENV, "")
    with PracticeServer() as server:
        yield server


@pytest.fixture
def lesson_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[PracticeServer]:
    """A practice server running the first-mail lesson, whose steps include long commands."""
    monkeypatch.setenv(practice_cli.PASSWORD_ENV, "")
    lesson = get_lesson("first-mail")
    with PracticeServer(rules=lesson.rules) as server:
        server.lesson = lesson
        yield server


def _app(server: PracticeServer) -> SmtpConsoleApp:
    return create_app(practice_cli.console_options(server), server)


def _pane_share(app: SmtpConsoleApp) -> float:
    pane = main_screen(app).query_one(ProtocolPane)
    return pane.outer_size.width / app.size.width


def _status_line(app: SmtpConsoleApp) -> str:
    bar = main_screen(app).query_one(StatusBar)
    return bar.render().plain


def _side_column_shown(app: SmtpConsoleApp) -> bool:
    right = main_screen(app).query_one("#right")
    return right.display and right.outer_size.width > 0


async def _ready(pilot: Pilot[Any], app: SmtpConsoleApp) -> None:
    await wait_until_ready(pilot, app)
    await pilot.pause(0.1)


def _assert_status_essentials(app: SmtpConsoleApp) -> None:
    line = _status_line(app)
    width = main_screen(app).query_one(StatusBar).size.width
    assert len(line) <= width, f"status wider than the bar: {line!r}"
    assert line.lstrip().startswith("READY"), line
    assert "TLSv1." in line, line
    assert "verified" in line, line
    assert "not authenticated" in line, line
    assert "…" not in line, line


@pytest.mark.parametrize("size", [(60, 30), (80, 24)])
async def test_narrow_terminal_gives_pane_width(
    practice_server: PracticeServer, size: tuple[int, int]
) -> None:
    app = _app(practice_server)
    async with app.run_test(size=size) as pilot:
        await _ready(pilot, app)
        screen = main_screen(app)
        assert screen.has_class("-narrow")
        assert not _side_column_shown(app)
        assert _pane_share(app) == 1.0
        assert screen.query_one(ProtocolPane).border_subtitle == SIDE_PANEL_HINT
        _assert_status_essentials(app)


@pytest.mark.parametrize("size", [(60, 30), (80, 24)])
async def test_ctrl_g_toggles_guided_commands(
    practice_server: PracticeServer, size: tuple[int, int]
) -> None:
    app = _app(practice_server)
    async with app.run_test(size=size) as pilot:
        await _ready(pilot, app)
        screen = main_screen(app)

        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert _side_column_shown(app)
        assert isinstance(screen.focused, OptionList)
        assert screen.focused.id == "suggestions"
        assert _pane_share(app) >= 0.4
        assert screen.query_one(ProtocolPane).border_subtitle == ""

        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert not _side_column_shown(app)
        assert isinstance(screen.focused, RawInput)
        assert _pane_share(app) == 1.0


async def test_wide_terminal_shows_side_column(practice_server: PracticeServer) -> None:
    app = _app(practice_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        assert main_screen(app).has_class("-wide")
        assert _side_column_shown(app)
        assert _pane_share(app) >= 0.6
        _assert_status_essentials(app)
        assert practice_server.console_options().connect.address in _status_line(app)

        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert not _side_column_shown(app)
        assert _pane_share(app) == 1.0


async def test_resize_keeps_user_choice(practice_server: PracticeServer) -> None:
    app = _app(practice_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await _ready(pilot, app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert not _side_column_shown(app), "under 100 columns the side column starts hidden"

        await pilot.press("ctrl+g")
        await pilot.resize_terminal(120, 40)
        await pilot.press("ctrl+g")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        assert not _side_column_shown(app), "the column the user hid stays hidden"
        await pilot.resize_terminal(200, 50)
        await pilot.pause(0.1)
        assert not _side_column_shown(app), "the column the user hid stays hidden when wide"


async def test_narrow_lesson_shows_current_step(lesson_server: PracticeServer) -> None:
    app = _app(lesson_server)
    async with app.run_test(size=(60, 30)) as pilot:
        await wait_for_pane(pilot, app, "220 ")
        await pilot.pause(0.1)
        brief = main_screen(app).query_one("#lesson-brief", Static)
        assert brief.display
        text = str(brief.render())
        assert text.startswith("▶ 1 of 6."), text

        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert not brief.display, "the whole lesson shows in the side column instead"


async def test_lesson_steps_wrap_not_cut(lesson_server: PracticeServer) -> None:
    app = _app(lesson_server)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_pane(pilot, app, "220 ")
        panel = main_screen(app).query_one(LessonPanel)
        # The panel's own width, then 24 cells, about what it gets beside the pane at 60
        # columns, where "FROM:<sender@example.com>" is longer than a line.
        for width in (panel.content_region.width, 24):
            console = Console(width=width, record=True, color_system=None)
            console.print(panel.content)
            rendered = console.export_text()
            assert "…" not in rendered, f"cut at {width} cells:\n{rendered}"
            joined = "".join(rendered.split())
            for step in lesson_server.lesson.steps:  # type: ignore[union-attr]
                assert "".join(step.instruction.split()) in joined, f"at {width} cells"


def test_status_fields_keep_phase_tls_auth_first() -> None:
    fields = status_fields(TLS_STATUS, "3 s ago")
    texts = ["".join(piece for piece, _ in field) for field in fields]
    assert texts[:3] == ["READY", TLS_STATUS.security, "not authenticated"]
    assert texts[-1] == TLS_STATUS.target


def test_status_reductions_drop_target_first() -> None:
    texts = [
        "".join(piece for piece, _ in field) for field in status_fields(TLS_STATUS, "3 s ago", 1)
    ]
    assert TLS_STATUS.target not in texts
    assert "last reply 3 s ago" in texts


def test_status_all_reductions_fit_sixty_columns() -> None:
    insecure = SessionStatus(
        target="mail.example.test:587",
        security="TLSv1.3 TLS_AES_256_GCM_SHA384 NOT VERIFIED (insecure)",
        security_brief="TLSv1.3 NOT VERIFIED (insecure)",
        insecure=True,
        verified=False,
        phase="AUTH_EXCHANGE",
        connected=True,
        keepalive=5.0,
    )
    fields = status_fields(insecure, "12 s ago", len(STATUS_REDUCTIONS))
    texts = ["".join(piece for piece, _ in field) for field in fields]
    assert texts == ["AUTH_EXCHANGE", "TLSv1.3 NOT VERIFIED (insecure)", "no AUTH"]
    assert fields_width(fields) <= 60


async def test_status_bar_narrows_step_by_step(practice_server: PracticeServer) -> None:
    app = _app(practice_server)
    async with app.run_test(size=(200, 50)) as pilot:
        await _ready(pilot, app)
        wide = _status_line(app)
        assert "last reply" in wide
        assert "NOOP off" in wide
        assert "TLS_AES" in wide or "TLS_CHACHA" in wide, "the cipher shows when there is room"

        await pilot.resize_terminal(50, 24)
        await wait_for(pilot, lambda: "last reply" not in _status_line(app), "a narrow status")
        narrow = _status_line(app)
        tls = status_of(app).security_brief
        assert tls.endswith(" verified")
        assert [field.strip() for field in narrow.split(" │ ")] == [
            "READY",
            tls,
            "not authenticated",
        ]


async def test_help_lists_side_column_key(practice_server: PracticeServer) -> None:
    from textual.widgets import HelpPanel
    from textual.widgets._key_panel import BindingsTable

    from smtpconsole.tui.screens.help import HelpScreen

    app = _app(practice_server)
    async with app.run_test(size=(80, 24)) as pilot:
        await _ready(pilot, app)
        await pilot.press("f1")
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)), "the F1 help panel")
        await pilot.pause(0.1)
        focused = app.screen.focused
        assert isinstance(focused, RawInput)
        assert "Ctrl+G" in focused.HELP
        table = app.screen.query_one(BindingsTable).render_bindings_table()
        console = Console(width=80, record=True, color_system=None)
        console.print(table)
        assert "^g Guided" in console.export_text()

        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the key list")
        rows = app.screen.key_rows()  # type: ignore[attr-defined]
        assert ("Console", "^g", "Guided") in [row[:3] for row in rows]
