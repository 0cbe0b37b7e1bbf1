"""Keys, palette, search, history, help and panels, on a replayed dialogue (no network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import HelpPanel, Input

from smtpconsole import transcript
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.commands import PALETTE_COMMANDS
from smtpconsole.tui.screens.connect import ConnectScreen
from smtpconsole.tui.screens.help import HelpScreen
from smtpconsole.tui.widgets.explanation import ExplanationPanel
from smtpconsole.tui.widgets.mailbox import MailboxPanel
from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
from smtpconsole.tui.widgets.raw_input import RawInput
from smtpconsole.tui.widgets.search_bar import SearchBar
from tests.tui.fixed_session import FIXED_TIME, FixedSession
from tests.tui.tui_helpers import TERMINAL_SIZE, console_options, main_screen, pane_lines, wait_for

pytestmark = pytest.mark.timeout(30)


def _app(**kwargs: Any) -> SmtpConsoleApp:
    options = console_options(587, host="mail.example.test")
    return create_app(options, session_factory=FixedSession, **kwargs)  # type: ignore[arg-type]


async def _replayed(pilot: Any) -> None:
    await wait_for(
        pilot,
        lambda: any("250 2.1.0" in line for line in pane_lines(pilot.app)),
        "the replayed dialogue",
    )


async def test_search_highlights_and_steps() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("ctrl+f")
        bar = main_screen(app).query_one(SearchBar)
        assert bar.display
        await pilot.press(*"250")
        await pilot.pause(0.05)
        pane = main_screen(app).query_one(ProtocolPane)
        assert pane.match_count == 9
        assert pane.match_position == 9
        assert "250 2.1.0" in pane.lines[pane.cursor_line or 0]
        await pilot.press("enter")
        assert pane.match_position == 8
        await pilot.press("down", "down")
        assert pane.match_position == 1
        assert "9" in str(bar.query_one("#search-status").render())
        await pilot.press("escape")
        assert not bar.display
        assert pane.match_count == 0
        assert isinstance(app.focused, RawInput)


async def test_search_reports_no_match() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("ctrl+f", *"no such text")
        await pilot.pause(0.05)
        status = str(main_screen(app).query_one("#search-status").render())
        assert status == "no match"


async def test_timestamps_toggle_prefixes_lines() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        pane = main_screen(app).query_one(ProtocolPane)
        plain = list(pane.lines)
        await pilot.press("f2")
        stamped = list(pane.lines)
        assert stamped[2].startswith("00:00:00.750    +42ms S: 220")
        assert all(line.endswith(original) for line, original in zip(stamped, plain, strict=True))
        await pilot.press("f2")
        assert list(pane.lines) == plain


async def test_cursor_selects_reply_for_explanation() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        panel = main_screen(app).query_one(ExplanationPanel)
        assert panel.reply is not None and panel.reply.code == 250
        await pilot.press("ctrl+o")
        pane = main_screen(app).query_one(ProtocolPane)
        index = next(i for i, line in enumerate(pane.lines) if line.startswith("S: 503"))
        pane.cursor_line = index
        await pilot.pause(0.05)
        assert panel.reply is not None and panel.reply.code == 503
        assert panel.border_title == "Selected reply"
        await pilot.press("end")
        await pilot.pause(0.05)
        assert panel.reply.code == 250
        assert panel.border_title == "Last reply"


async def test_copy_line_uses_clipboard() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("ctrl+o", "up", "c")
        assert app.clipboard == "S: 250 2.1.0 Ok"


async def test_history_walks_typed_lines() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        raw_input = main_screen(app).query_one(RawInput)
        assert raw_input.history[-2:] == [
            "RCPT TO:<bob@example.com>",
            "MAIL FROM:<alice@example.com> SIZE=2048",
        ]
        raw_input.focus()
        await pilot.press(*"draft")
        await pilot.press("up")
        assert raw_input.value == "MAIL FROM:<alice@example.com> SIZE=2048"
        await pilot.press("up", "up")
        assert raw_input.value == "EHLO client.test"
        await pilot.press("down", "down", "down")
        assert raw_input.value == "draft"


async def test_history_skips_secret_lines() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        secret = transcript.LineSent(b"AUTH PLAIN AGFsaWNlAHB3\r\n", "typed", True, FIXED_TIME)
        main_screen(app).controller.add_events([secret])  # type: ignore[union-attr]
        await wait_for(pilot, lambda: "C: AUTH PLAIN ********" in pane_lines(app), "masked line")
        assert not any("AGFsaWNl" in line for line in main_screen(app).query_one(RawInput).history)
        assert not any("AGFsaWNl" in line for line in pane_lines(app))


async def _wait_for_hit(pilot: Any, title: str) -> None:
    """Wait until the palette's first hit is ``title``."""

    def first_hit() -> str:
        hits = pilot.app.screen.query_one(CommandList)
        return str(hits.get_option_at_index(0).prompt) if hits.option_count else ""

    await wait_for(pilot, lambda: title in first_hit(), f"{title!r} first in the palette")


async def test_palette_lists_area_action_commands() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"tls: show")
        await _wait_for_hit(pilot, "tls: show certificate")
    titles = {command.title for command in PALETTE_COMMANDS}
    assert {"transcript: export", "tls: show certificate", "session: reconnect"} <= titles
    assert all(": " in title for title in titles)


async def test_palette_runs_timestamps_toggle() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"transcript: toggle timestamps")
        await _wait_for_hit(pilot, "transcript: toggle timestamps")
        await pilot.press("enter")
        pane = main_screen(app).query_one(ProtocolPane)
        await wait_for(pilot, lambda: pane.show_timestamps, "timestamps on")


async def test_f1_shows_help_for_focused_widget() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)
        panel = app.screen.query_one(HelpPanel)
        assert "Raw input" in panel.query_one("#widget-help").source  # type: ignore[attr-defined]
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        assert "Protocol pane" in panel.query_one("#widget-help").source  # type: ignore[attr-defined]
        await pilot.press("f1")
        await pilot.pause(0.05)
        assert not app.screen.query(HelpPanel)


async def test_keys_screen_lists_every_binding() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the keys screen")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = {(key, action) for _area, key, action, _tooltip in screen.key_rows()}
        for key, action in (
            ("f5", "Reconnect"),
            ("f9", "Export"),
            ("^r", "Save scenario"),
            ("f6", "Answer 334"),
            ("c", "Copy line"),
            ("↑", "Previous match"),
        ):
            assert any(shown.lower() == key and name == action for shown, name in rows), action
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_f1_help_names_save_scenario_key() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)
        panel = app.screen.query_one(HelpPanel)
        assert "**Ctrl+R** saves" in panel.query_one("#widget-help").source  # type: ignore[attr-defined]
        await pilot.press("ctrl+o")
        await pilot.pause(0.1)
        assert "**Ctrl+R** saves" in panel.query_one("#widget-help").source  # type: ignore[attr-defined]


async def test_bindings_have_ids_and_tooltips() -> None:
    from textual.binding import Binding

    from smtpconsole.tui.screens.main import MainScreen

    for owner in (SmtpConsoleApp, MainScreen, ProtocolPane, RawInput, SearchBar):
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id, f"{owner.__name__} {binding.key} has no id"
            assert binding.tooltip, f"{owner.__name__} {binding.key} has no tooltip"


async def test_no_target_shows_connect_screen() -> None:
    options = ConsoleOptions(ConnectOptions("", 0))
    app = create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        assert isinstance(app.screen, ConnectScreen)
        await pilot.press(*"[::1]:2525")
        app.screen.query_one("#port", Input).value = ""
        await pilot.press("enter")
        await _replayed(pilot)
        assert main_screen(app).options.connect.host == "::1"
        assert main_screen(app).options.connect.port == 2525
        assert main_screen(app).sub_title == "[::1]:2525"


async def test_connect_screen_rejects_bad_port() -> None:
    options = ConsoleOptions(ConnectOptions("", 0))
    app = create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press(*"mail.example.test")
        app.screen.query_one("#port", Input).value = "70000"
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert isinstance(app.screen, ConnectScreen)
        assert "out of range" in str(app.screen.query_one("#connect-error").render())


@dataclass
class _StoredMessage:
    text: str
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        return self.text


@dataclass
class _Mailbox:
    stored: list[_StoredMessage] = field(default_factory=list)
    listeners: list[Any] = field(default_factory=list)

    def messages(self) -> list[_StoredMessage]:
        return list(self.stored)

    def subscribe(self, listener: Any) -> Any:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)


@dataclass
class _Practice:
    mailbox: _Mailbox = field(default_factory=_Mailbox)
    user: str = "student"
    password: str = "practice-pass"


async def test_mailbox_panel_shows_accepted_messages() -> None:
    practice = _Practice()
    app = _app(practice=practice)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        panel = main_screen(app).query_one(MailboxPanel)
        assert "No message" in str(panel.render())
        practice.mailbox.stored.append(_StoredMessage("<id1>: a -> b", ("missing Date header",)))
        for listener in practice.mailbox.listeners:
            listener(practice.mailbox.stored[-1])
        await wait_for(pilot, lambda: "<id1>" in str(panel.render()), "the new message")
        assert "warning: missing Date header" in str(panel.render())
    assert practice.mailbox.listeners == []


async def test_flood_of_lines_stays_bounded() -> None:
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        pane = main_screen(app).query_one(ProtocolPane)
        pane.max_lines = 5_000
        notes = [transcript.Note(f"line {number}", at=FIXED_TIME) for number in range(20_000)]
        main_screen(app).controller.add_events(notes)  # type: ignore[union-attr]
        await wait_for(pilot, lambda: pane.lines[-1] == "-- line 19999", "the last line")
        assert len(pane.lines) == 5_000
        assert len(pane.records) == 5_000
        assert pane.lines[0] == "-- line 15000"


async def test_composer_previews_attachment(tmp_path: Any) -> None:
    from smtpconsole.tui.screens.composer import ComposerScreen

    attachment = tmp_path / "report.csv"
    attachment.write_text("a,b\n1,2\n")
    app = _app()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _replayed(pilot)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "the composer")
        composer = app.screen
        composer.query_one("#attachments", Input).value = str(attachment)
        composer.query_one("#subject", Input).value = "Figures"
        await wait_for(
            pilot,
            lambda: 'filename="report.csv"' in str(composer.query_one("#payload").render()),
            "the attachment in the preview",
        )
        composer.query_one("#attachments", Input).value = str(tmp_path / "missing.csv")
        await wait_for(
            pilot,
            lambda: "Cannot build the message" in str(composer.query_one("#payload").render()),
            "the error for a missing file",
        )
        await pilot.press("escape")
        assert not isinstance(app.screen, ComposerScreen)
