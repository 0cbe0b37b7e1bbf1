"""The console against an in-process aiosmtpd with STARTTLS and AUTH, driven through Pilot."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, OptionList, Select

from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.screens.challenge import ChallengeScreen
from smtpconsole.tui.screens.composer import ComposerScreen
from smtpconsole.tui.widgets.command_builder import CommandBuilder
from smtpconsole.tui.widgets.raw_input import DATA_TITLE, RawInput
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
    wait_until_ready,
)

pytestmark = pytest.mark.timeout(60)


async def _choose(pilot: Any, app: Any, verb: str) -> CommandBuilder:
    """Highlight ``verb`` in the builder's list, as a user moving the cursor would."""
    builder = main_screen(app).query_one(CommandBuilder)
    option_list = builder.query_one("#suggestions", OptionList)

    def index() -> int | None:
        for number in range(option_list.option_count):
            if option_list.get_option_at_index(number).id == verb:
                return number
        return None

    await wait_for(pilot, lambda: index() is not None, f"{verb} among the suggestions")
    option_list.focus()
    option_list.highlighted = index()
    await wait_for(
        pilot,
        lambda: (
            builder._form is not None
            and builder._form.verb == verb
            and builder._form.is_mounted
            and not builder._form_lock.locked()
        ),
        f"the {verb} form",
    )
    await wait_for_form(pilot, builder, "#form-area")
    return builder


async def test_typed_rcpt_reaches_server_verbatim(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "RCPT TO:<x@example.com>", keys=True)
        await wait_for_pane(pilot, app, "S: 503")
        assert "C: RCPT TO:<x@example.com>" in pane_lines(app)
    assert b"RCPT TO:<x@example.com>\r\n" in server.received


async def test_typed_line_keeps_case_and_spaces(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "noop  Mixed Case ")
        await wait_for_pane(pilot, app, "C: noop  Mixed Case ")
        await wait_for(pilot, lambda: b"noop  Mixed Case \r\n" in server.received, "the NOOP")


async def test_starttls_connect_upgrades_in_view(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        text = pane_text(app)
        security = status_of(app).security
    assert "C: STARTTLS" in text
    assert "== TLS started" in text
    assert text.count("C: EHLO client.test") == 2
    assert "NOT" not in security


async def test_typed_starttls_does_handshake(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    options = console_options(server.port, ca_file=server.ca_file, manual=True)
    app = create_app(options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for_pane(pilot, app, "S: 220")
        await type_line(pilot, "EHLO client.test")
        await wait_for_pane(pilot, app, "S: 250 ")
        await type_line(pilot, "STARTTLS")
        await wait_for_pane(pilot, app, "== TLS started")
        await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS in the status")
        await type_line(pilot, "EHLO again.test")
        await wait_for_pane(pilot, app, "S: 250-AUTH")
    assert b"STARTTLS\r\nEHLO again.test\r\n" in server.received


async def test_builder_starttls_does_handshake(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    options = console_options(server.port, ca_file=server.ca_file, manual=True)
    app = create_app(options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for_pane(pilot, app, "S: 220")
        await _choose(pilot, app, "EHLO")
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "S: 250 ")
        builder = await _choose(pilot, app, "STARTTLS")
        assert "STARTTLS" in str(builder.query_one("#preview").render())
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "== TLS started")
        await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS in the status")
    assert b"EHLO client.test\r\nSTARTTLS\r\n" in server.received


async def test_builder_auth_plain_masks_token(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        builder = await _choose(pilot, app, "AUTH")
        builder.query_one("#mechanism", Select).value = "PLAIN"
        builder.query_one("#username", Input).value = server.user
        builder.query_one("#secret", Input).value = server.password
        await pilot.pause(0.1)
        preview = str(builder.query_one("#preview").render())
        assert "AUTH PLAIN ********" in preview
        assert token not in preview
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "S: 235")
        await wait_for(pilot, lambda: status_of(app).auth == "authenticated", "authenticated")
        text = pane_text(app)
    assert f"AUTH PLAIN {token}\r\n".encode() in server.received
    assert "C: AUTH PLAIN ********" in text
    assert token not in text
    assert server.password not in text


async def test_typed_auth_login_answers_challenges(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "AUTH LOGIN")
        await wait_for(pilot, lambda: isinstance(app.screen, ChallengeScreen), "the 334 dialog")
        assert "User Name" in str(app.screen.query_one("#challenge").render())
        await pilot.press(*server.user, "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, ChallengeScreen)
                and "Password" in str(app.screen.query_one("#challenge").render())
            ),
            "the password challenge",
        )
        await pilot.press(*server.password, "enter")
        await wait_for_pane(pilot, app, "S: 235")
        text = pane_text(app)
    assert base64.b64encode(server.password.encode()) in server.received
    assert server.password not in text
    assert base64.b64encode(server.password.encode()).decode() not in text
    assert text.count("C: ********") == 2


async def test_composer_delivers_leading_dot_line(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ComposerScreen), "the composer")
        composer = app.screen
        composer.query_one("#subject", Input).value = "Dots"
        composer.query_one("#body").text = "first line\n.starts with a dot\n.\nlast line\n"
        await wait_for(
            pilot,
            lambda: "..starts with a dot" in str(composer.query_one("#payload").render()),
            "the dot-stuffed line in the preview",
        )
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(server.messages) == 1, "the message at the server")
        await wait_for_pane(pilot, app, "S: 250 2.0.0 Message accepted")
    content = server.messages[0].content
    assert b"\r\n.starts with a dot\r\n" in content
    assert b"\r\n.\r\nlast line" in content
    assert b"..starts" not in content
    assert b"MAIL FROM:<alice@example.com>" in server.received
    assert b"RCPT TO:<bob@example.com>\r\n" in server.received


async def test_data_mode_marks_input_and_advises(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        for line in ("MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.com>", "DATA"):
            await type_line(pilot, line)
        await wait_for_pane(pilot, app, "S: 354")
        raw_input = main_screen(app).query_one(RawInput)
        await wait_for(pilot, lambda: raw_input.data_mode, "DATA mode")
        assert raw_input.border_title == DATA_TITLE
        assert raw_input.has_class("-data-mode")
        await pilot.press(*".hidden")
        await pilot.pause(0.1)
        advice = str(main_screen(app).query_one("#input-advice").render())
        assert "." in advice and advice.strip()
        raw_input.value = ""
        for line in ("Subject: typed", "", "body", "."):
            await type_line(pilot, line)
        await wait_for(pilot, lambda: len(server.messages) == 1, "the typed message")
        await wait_for(pilot, lambda: not raw_input.data_mode, "the end of DATA mode")
    assert server.messages[0].content.endswith(b"\r\n\r\nbody\r\n")


async def test_export_holds_no_secret(
    start_smtp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    export_file = tmp_path / "transcript.txt"
    monkeypatch.setattr("smtpconsole.tui.export.export_path", lambda host: export_file)
    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        builder = await _choose(pilot, app, "AUTH")
        builder.query_one("#mechanism", Select).value = "PLAIN"
        builder.query_one("#username", Input).value = server.user
        builder.query_one("#secret", Input).value = server.password
        await pilot.pause(0.1)
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "S: 235")
        await pilot.press("f9")
        await wait_for(pilot, export_file.exists, "the export file")
    text = export_file.read_text()
    assert "AUTH PLAIN ********" in text
    assert token not in text
    assert server.password not in text
    assert export_file.stat().st_mode & 0o777 == 0o600


async def test_refused_connection_offers_reconnect(start_smtp_server: Any) -> None:
    from tests.conftest import free_port

    app = create_app(console_options(free_port(), security="plain"))
    async with app.run_test(size=TERMINAL_SIZE, notifications=True) as pilot:
        await wait_for_pane(pilot, app, "press F5")
        assert any(line.startswith("!!") for line in pane_lines(app))
        assert app.return_code is None


async def test_server_gone_shows_closed(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "QUIT")
        await wait_for_pane(pilot, app, "S: 221")
        await wait_for_pane(pilot, app, "connection closed")
        await wait_for_pane(pilot, app, "press F5")
        await type_line(pilot, "NOOP")
        await wait_for_pane(pilot, app, "!! not connected")
        await pilot.press("f5")
        await wait_for(pilot, lambda: pane_text(app).count("S: 220 ") >= 3, "a new greeting")


async def test_unverified_certificate_continue_insecure(start_smtp_server: Any) -> None:
    from smtpconsole.tui.screens.certificate import CertificateScreen

    server = start_smtp_server()
    app = create_app(console_options(server.port))  # no CA file: the test CA is not trusted
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CertificateScreen), "certificate")
        screen = app.screen
        assert "NOT VERIFIED" in str(screen.query_one("#verification").render())
        assert "DNS:localhost" in pane_text(app) or screen.query(".cert")
        await pilot.pause(0.1)
        screen.query_one("#insecure", Button).press()
        await wait_for(pilot, lambda: status_of(app).phase == "READY", "phase READY")
        await wait_for(pilot, lambda: "insecure" in status_of(app).security, "insecure status")
        assert status_of(app).insecure
        assert "NOT VERIFIED (insecure)" in status_of(app).security
        lines = pane_lines(app)
        failed = next(i for i, line in enumerate(lines) if line.startswith("!! TLS failed"))
        offer = next(i for i, line in enumerate(lines) if "press F8" in line)
        assert failed < offer
        assert any("continuing WITHOUT certificate verification" in line for line in lines)


def _app_with_profile_secret(server: Any, monkeypatch: pytest.MonkeyPatch) -> SmtpConsoleApp:
    """Build the app with the server's user and its password read from $TUI_TEST_PASSWORD."""
    from dataclasses import replace

    from smtpconsole.options import AuthOptions

    monkeypatch.setenv("TUI_TEST_PASSWORD", server.password)
    options = console_options(server.port, ca_file=server.ca_file)
    auth = AuthOptions(username=server.user, password_env="TUI_TEST_PASSWORD")
    return create_app(replace(options, auth=auth))


async def test_builder_auth_uses_profile_secret(
    start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_smtp_server()
    app = _app_with_profile_secret(server, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        builder = await _choose(pilot, app, "AUTH")
        builder.query_one("#mechanism", Select).value = "PLAIN"
        await pilot.pause(0.1)
        assert builder.query_one("#username", Input).value == server.user
        await pilot.click("#send")
        await wait_for_pane(pilot, app, "S: 235")
        assert server.password not in pane_text(app)


async def test_typed_auth_answered_from_profile(
    start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_smtp_server()
    app = _app_with_profile_secret(server, monkeypatch)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "AUTH LOGIN")
        for _ in range(2):
            await wait_for(
                pilot,
                lambda: (
                    isinstance(app.screen, ChallengeScreen) and bool(app.screen.query("#profile"))
                ),
                "a 334 dialog",
            )
            app.screen.query_one("#profile", Button).press()
            await wait_for(pilot, lambda: not isinstance(app.screen, ChallengeScreen), "closed")
        await wait_for_pane(pilot, app, "S: 235")
        text = pane_text(app)
    assert server.password not in text
    assert base64.b64encode(server.password.encode()) in server.received
