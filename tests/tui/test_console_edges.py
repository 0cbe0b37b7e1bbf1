"""Keepalive, timeouts, injected bytes after STARTTLS and the practice server, through the console."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Select

from smtpconsole.tui.app import create_app
from smtpconsole.tui.screens.composer import ComposerScreen
from smtpconsole.tui.widgets.mailbox import MailboxPanel
from tests.hostile_servers import serve, silent_script, starttls_injection_script
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    console_options,
    main_screen,
    pane_lines,
    pane_text,
    status_of,
    type_line,
    wait_for,
    wait_for_form,
    wait_for_pane,
)

pytestmark = pytest.mark.timeout(60)


async def test_keepalive_sends_noop_when_idle(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(pilot, lambda: status_of(app).phase == "READY", "phase READY")
        await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS")
        main_screen(app).controller.keepalive_seconds = 0.3  # type: ignore[union-attr]
        await pilot.press("f7")
        await wait_for(pilot, lambda: status_of(app).keepalive, "keepalive on in the status")
        await wait_for_pane(pilot, app, "[keepalive]")
        await pilot.press("f7")
        await wait_for(pilot, lambda: not status_of(app).keepalive, "keepalive off")
        sent = pane_text(app).count("[keepalive]")
        await pilot.pause(0.8)
        assert pane_text(app).count("[keepalive]") == sent
    assert b"NOOP\r\n" in server.received


async def test_read_timeout_keeps_connection() -> None:
    async with serve(silent_script()) as server:
        options = console_options(server.port, security="plain", read_timeout=0.5)
        app = create_app(options)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for_pane(pilot, app, "!! ")
            lines = pane_lines(app)
            assert not any("press F5" in line for line in lines)
            assert app.return_code is None


async def test_injected_bytes_after_starttls_are_shown(
    server_tls_context: ssl.SSLContext, ca_file: Path
) -> None:
    script = starttls_injection_script(server_tls_context, b"250 injected\r\n")
    async with serve(script) as server:
        app = create_app(console_options(server.port, ca_file=ca_file, host="127.0.0.1"))
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for_pane(pilot, app, "== TLS started")
            await wait_for_pane(pilot, app, "!! discarded")
            pane = main_screen(app).query_one("#pane")
            kinds = {line.kind for line in pane.records}  # type: ignore[attr-defined]
            assert "discarded" in kinds
            assert not any(line == "S: 250 injected" for line in pane_lines(app))


async def test_practice_mailbox_shows_sent_message() -> None:
    from smtpconsole.practice.server import PracticeServer

    with PracticeServer() as practice:
        options = console_options(practice.port, ca_file=practice.ca_file, host=practice.host)
        app = create_app(options, practice)
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            await wait_for(pilot, lambda: status_of(app).phase == "READY", "phase READY")
            await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS")
            screen = main_screen(app)
            option_list = screen.query_one("#suggestions")
            ids = [
                option_list.get_option_at_index(i).id  # type: ignore[attr-defined]
                for i in range(option_list.option_count)
            ]  # type: ignore[attr-defined]
            option_list.highlighted = ids.index("AUTH")  # type: ignore[attr-defined]
            await wait_for_form(pilot, screen, "#secret")
            screen.query_one("#mechanism", Select).value = "PLAIN"
            screen.query_one("#username", Input).value = practice.user
            screen.query_one("#secret", Input).value = practice.password
            await pilot.pause(0.1)
            await pilot.click("#send")
            await wait_for_pane(pilot, app, "S: 235")
            await pilot.press("f4")
            await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "composer")
            sender = practice.rules.verified_identities[0]
            sender = sender if "@" in sender else f"student@{sender}"
            app.screen.query_one("#from", Input).value = sender
            app.screen.query_one("#subject", Input).value = "Practice"
            app.screen.query_one("#body").text = "hello\n"  # type: ignore[attr-defined]
            await pilot.pause(0.3)
            await pilot.press("ctrl+s")
            panel = screen.query_one(MailboxPanel)
            await wait_for(pilot, lambda: "Practice" in str(panel.render()), "the mailbox entry")
            await type_line(pilot, "QUIT")
            await wait_for_pane(pilot, app, "S: 221")
    assert len(practice.mailbox) == 1


@pytest.mark.postfix
async def test_postfix_starttls_and_builder_auth(postfix: Any) -> None:
    options = console_options(postfix.starttls_port, ca_file=postfix.ca_file, host=postfix.tls_name)
    app = create_app(options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS with Postfix")
        await wait_for_pane(pilot, app, "S: 250-AUTH")
        screen = main_screen(app)
        await wait_for_form(pilot, screen, "#secret")
        screen.query_one("#mechanism", Select).value = "PLAIN"
        screen.query_one("#username", Input).value = postfix.user
        screen.query_one("#secret", Input).value = postfix.password
        await pilot.pause(0.1)
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "S: 235")
        assert postfix.password not in pane_text(app)
        assert status_of(app).auth == "authenticated"
