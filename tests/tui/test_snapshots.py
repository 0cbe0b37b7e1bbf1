"""Snapshots of the main screen, the certificate screen and the composer, from fixed states.

Each snapshot comes from a replayed dialogue (``FixedSession``) with fixed times, a fixed
terminal size and the input cursor not blinking, so it only changes when the look changes.
Update them with ``pytest tests/tui/test_snapshots.py --snapshot-update`` after checking the diff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.screens.certificate import CertificateScreen
from smtpconsole.tui.screens.composer import ComposerScreen
from tests.tui.fixed_session import FixedSession, fixed_certificate_info
from tests.tui.tui_helpers import TERMINAL_SIZE, console_options, main_screen, pane_lines, wait_for

FIXED_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _fixed_app() -> SmtpConsoleApp:
    options = console_options(587, host="mail.example.test")
    return create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]


async def _settle(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, SmtpConsoleApp)
    await wait_for(pilot, lambda: any("250 2.1.0" in line for line in pane_lines(app)), "replay")
    for widget in app.query(Input).results():
        widget.cursor_blink = False
    await pilot.pause(0.1)


def test_main_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)

    assert snap_compare(_fixed_app(), terminal_size=TERMINAL_SIZE, run_before=run_before)


def test_main_screen_timestamps_and_selected_reply(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("f2", "ctrl+o", "up", "up", "up")
        await pilot.pause(0.1)

    assert snap_compare(_fixed_app(), terminal_size=TERMINAL_SIZE, run_before=run_before)


def test_certificate_screen(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        screen = CertificateScreen(
            fixed_certificate_info(), "certificate verify failed", now=FIXED_NOW
        )
        await pilot.app.push_screen(screen)
        await pilot.pause(0.1)

    assert snap_compare(_fixed_app(), terminal_size=TERMINAL_SIZE, run_before=run_before)


def test_composer(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        app = pilot.app
        assert isinstance(app, SmtpConsoleApp)
        capabilities = main_screen(app).controller.session.dialogue.capabilities  # type: ignore[union-attr]
        assert isinstance(capabilities, Capabilities)
        screen = ComposerScreen(
            capabilities,
            mail_from="Alice <alice@example.com>",
            rcpt_to=("bob@example.com",),
            date="Thu, 01 Jan 2026 00:00:00 +0000",
            message_id="<fixed.1@example.com>",
        )
        await app.push_screen(screen)
        screen.query_one("#subject", Input).value = "Quarterly figures"
        screen.query_one(
            "#body", TextArea
        ).text = "Hello Bob,\n.a line that starts with a dot\nBye\n"
        for widget in screen.query(Input).results():
            widget.cursor_blink = False
        screen.query_one("#body", TextArea).cursor_blink = False
        await pilot.pause(0.4)

    assert snap_compare(_fixed_app(), terminal_size=TERMINAL_SIZE, run_before=run_before)
