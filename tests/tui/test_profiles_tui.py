"""Profiles in the console: the picker on the connect screen, saving a connection, the form."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, OptionList, Select, Static

from smtpconsole import locations
from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions
from smtpconsole.profiles import load_profile, load_profile_file
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.commands import PALETTE_COMMANDS
from smtpconsole.tui.screens.connect import ConnectScreen
from smtpconsole.tui.screens.profile_form import ProfileFormScreen
from smtpconsole.tui.screens.profile_save import SaveProfileScreen
from smtpconsole.tui.widgets.status_bar import StatusBar
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    console_options,
    main_screen,
    pane_text,
    wait_for,
    wait_for_form,
    wait_for_pane,
)

pytestmark = pytest.mark.timeout(60)

PASSWORD_VARIABLE = "SMTPCONSOLE_TUI_PROFILE_PASSWORD"

COMMENTED_PROFILE = """\
# Work server, written by hand.
name: work
host: smtp.example.test   # the relay
port: 587
security: starttls
"""


@pytest.fixture(autouse=True)
def profiles_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point $SMTPCONSOLE_PROFILES at an empty folder and the user config folder elsewhere."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    user_folder = tmp_path / "user-profiles"
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(locations, "profiles_dir", lambda create=False: user_folder)
    return folder


def _no_target() -> ConsoleOptions:
    return ConsoleOptions(ConnectOptions("", 0))


def _connect_screen(app: SmtpConsoleApp) -> ConnectScreen:
    screen = app.screen
    assert isinstance(screen, ConnectScreen), f"expected the connect screen, got {screen!r}"
    return screen


def _option_texts(screen: ConnectScreen) -> list[str]:
    option_list = screen.query_one("#profiles", OptionList)
    return [
        str(option_list.get_option_at_index(index).prompt)
        for index in range(option_list.option_count)
    ]


async def _pick(pilot: Any, screen: ConnectScreen, name: str) -> None:
    """Highlight the profile whose line starts with ``name`` and press Enter on it."""
    option_list = screen.query_one("#profiles", OptionList)
    index = next(i for i, text in enumerate(_option_texts(screen)) if text.startswith(name))
    option_list.focus()
    option_list.highlighted = index
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


def _detail(screen: Any) -> str:
    return str(screen.query_one("#profile-detail", Static).render())


def _error_text(screen: Any, widget_id: str) -> str:
    return "\n".join(screen.errors.get(f"error-{widget_id}", []))


# The picker on the connect screen


async def test_picker_lists_valid_and_invalid(profiles_folder: Path) -> None:
    (profiles_folder / "good.yaml").write_text("host: mail.example.test\nsecurity: tls\n")
    (profiles_folder / "broken.yaml").write_text("host: mail.example.test\nport: 70000\n")
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        texts = _option_texts(screen)
        assert any(text.startswith("good") and "mail.example.test:465" in text for text in texts)
        assert any("tls" in text for text in texts if text.startswith("good"))
        assert any(text.startswith("broken") and "invalid: invalid port" in text for text in texts)

        await _pick(pilot, screen, "broken")
        assert "port: invalid port 70000" in _detail(screen)
        assert "invalid" in str(screen.query_one("#connect-error", Static).render())
        assert screen.query_one("#host", Input).value == ""
        assert screen.profile is None


async def test_picker_fills_form(profiles_folder: Path) -> None:
    (profiles_folder / "relay.yaml").write_text(
        "host: relay.example.test\nport: 2525\nsecurity: plain\nehlo: me.test\n"
        "notes: Relay for the lab.\n"
    )
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        await _pick(pilot, screen, "relay")
        assert screen.query_one("#host", Input).value == "relay.example.test"
        assert screen.query_one("#port", Input).value == "2525"
        assert screen.query_one("#security", Select).value == "plain"
        assert screen.query_one("#ehlo", Input).value == "me.test"
        assert "Relay for the lab." in _detail(screen)
        assert app.focused is screen.query_one("#connect", Button)


async def test_picker_without_profiles_names_folder(profiles_folder: Path) -> None:
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE):
        screen = _connect_screen(app)
        assert "No profiles found" in _detail(screen)
        assert str(profiles_folder) in _detail(screen)


async def test_picked_profile_connects_and_authenticates(
    profiles_folder: Path, start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_smtp_server()
    monkeypatch.setenv(PASSWORD_VARIABLE, server.password)
    shutil.copy(server.ca_file, profiles_folder / "test-ca.pem")
    (profiles_folder / "local.yaml").write_text(
        f"name: local\nhost: 127.0.0.1\nport: {server.port}\nsecurity: starttls\n"
        "ehlo: client.test\n"
        f"auth:\n  mechanism: PLAIN\n  username: {server.user}\n"
        f"  password: {{env: {PASSWORD_VARIABLE}}}\n"
        "tls:\n  ca_file: test-ca.pem\n"
        "envelope:\n  mail_from: alice@example.com\n"
        "timeouts:\n  connect: 5\n  read: 5\n"
    )
    app = create_app(_no_target())
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        await _pick(pilot, screen, "local")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main_screen is not None, "the main screen")
        console = main_screen(app)

        def status() -> Any:
            return console.query_one(StatusBar).status

        await wait_for(pilot, lambda: status().phase == "READY", "phase READY")
        await wait_for(pilot, lambda: "verified" in status().security, "verified TLS")
        options = console.options
        assert options.profile_name == "local"
        assert options.connect.tls.ca_file == str(profiles_folder / "test-ca.pem")
        assert options.auth.password_env == PASSWORD_VARIABLE
        assert options.mail_from == "alice@example.com"

        controller = console.controller
        assert controller is not None
        # An empty secret makes the controller read the profile's password source.
        controller.run(lambda: controller.authenticate("PLAIN", server.user, ""), "AUTH")
        await wait_for_pane(pilot, app, "S: 235")
        assert server.password not in pane_text(app)


# Saving the current connection


def _options_with_env_password(ca_file: str = "/tmp/ca-for-test.pem") -> ConsoleOptions:
    options = console_options(2525, ca_file=ca_file, host="mail.example.test")
    auth = AuthOptions(mechanism="LOGIN", username="alice", password_env=PASSWORD_VARIABLE)
    return ConsoleOptions(options.connect, auth, None, options.mail_from, options.rcpt_to)


async def _open_save_dialog(pilot: Any, app: SmtpConsoleApp) -> SaveProfileScreen:
    await wait_for(pilot, lambda: app.main_screen is not None, "the main screen")
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, SaveProfileScreen), "the save dialog")
    screen = app.screen
    assert isinstance(screen, SaveProfileScreen)
    return screen


async def test_save_connection_writes_private_file(
    profiles_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "not-in-the-file-7341")
    app = create_app(_options_with_env_password(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        dialog = await _open_save_dialog(pilot, app)
        assert dialog.query_one("#profile-name", Input).value == "mail.example.test"
        dialog.query_one("#profile-name", Input).value = "saved"
        await pilot.pause()
        assert f"env: {PASSWORD_VARIABLE}" in str(dialog.query_one("#save-summary").render())
        await pilot.click("#save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SaveProfileScreen), "closed")

    path = profiles_folder / "saved.yaml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "not-in-the-file-7341" not in text
    assert f"env: {PASSWORD_VARIABLE}" in text
    profile = load_profile("saved")
    assert profile.host == "mail.example.test"
    assert profile.port == 2525
    assert profile.ehlo == "client.test"
    assert profile.auth.mechanism == "LOGIN"
    assert profile.auth.username == "alice"
    assert profile.tls.ca_file == "/tmp/ca-for-test.pem"
    assert profile.envelope.rcpt_to == ("bob@example.com",)
    assert profile.timeouts.connect == 5


async def test_save_connection_without_source_writes_prompt(profiles_folder: Path) -> None:
    options = console_options(2525, host="mail.example.test")
    options = ConsoleOptions(options.connect, AuthOptions(username="alice"))
    app = create_app(options, autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        dialog = await _open_save_dialog(pilot, app)
        await pilot.click("#save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SaveProfileScreen), "closed")
    profile = load_profile_file(profiles_folder / "mail.example.test.yaml")
    assert profile.auth.password is not None
    assert profile.auth.password.kind == "prompt"
    assert not dialog.is_attached


async def test_save_connection_rejects_unsafe_name(profiles_folder: Path) -> None:
    app = create_app(_options_with_env_password(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        dialog = await _open_save_dialog(pilot, app)
        dialog.query_one("#profile-name", Input).value = "../escape"
        await pilot.pause()
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, SaveProfileScreen)
        assert "invalid name" in str(dialog.query_one("#save-error").render())
    assert list(profiles_folder.iterdir()) == []
    assert not (profiles_folder.parent / "escape.yaml").exists()


async def test_save_over_commented_file_keeps_backup(profiles_folder: Path) -> None:
    path = profiles_folder / "work.yaml"
    path.write_text(COMMENTED_PROFILE)
    app = create_app(_options_with_env_password(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        dialog = await _open_save_dialog(pilot, app)
        dialog.query_one("#profile-name", Input).value = "work"
        await pilot.pause()
        warnings = str(dialog.query_one("#save-warnings").render())
        assert "comments are not kept" in warnings
        assert "work.yaml.bak" in warnings
        assert str(dialog.query_one("#save", Button).label) == "Overwrite"
        await pilot.click("#save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SaveProfileScreen), "closed")
        notices = [notification.message for notification in app._notifications]
    assert (profiles_folder / "work.yaml.bak").read_text() == COMMENTED_PROFILE
    assert load_profile_file(path).host == "mail.example.test"
    assert any("work.yaml.bak" in notice for notice in notices)


def test_palette_has_save_connection() -> None:
    titles = {command.title: command.action for command in PALETTE_COMMANDS}
    assert titles["profile: save connection"] == "app.save_profile"


async def test_palette_opens_save_dialog(profiles_folder: Path) -> None:
    app = create_app(_options_with_env_password(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_for(pilot, lambda: app.main_screen is not None, "the main screen")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"profile: save")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveProfileScreen), "the save dialog")


# The profile form


async def _open_form(pilot: Any, app: SmtpConsoleApp, key: str) -> ProfileFormScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ProfileFormScreen), "the profile form")
    form = app.screen
    assert isinstance(form, ProfileFormScreen)
    await wait_for_form(pilot, form, "#profile-fields")
    return form


async def test_form_invalid_port_writes_nothing(profiles_folder: Path) -> None:
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await _open_form(pilot, app, "f3")
        form.query_one("#name", Input).value = "lab"
        form.query_one("#host", Input).value = "mail.example.test"
        form.query_one("#port", Input).value = "70000"
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, ProfileFormScreen)
        assert "invalid port 70000" in _error_text(form, "port")
        assert form.query_one("#error-port").display

        form.query_one("#port", Input).value = "five"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "'five'" in _error_text(form, "port")
        assert _error_text(form, "host") == ""
    assert list(profiles_folder.iterdir()) == []


async def test_form_shows_errors_under_fields(profiles_folder: Path) -> None:
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        form = await _open_form(pilot, app, "f3")
        form.query_one("#name", Input).value = "lab"
        form.query_one("#host", Input).value = "mail.example.test:25"
        form.query_one("#password-kind", Select).value = "env"
        form.query_one("#password-reference", Input).value = "not a variable"
        form.query_one("#mail-from", Input).value = "no at sign"
        await pilot.click("#save")
        await pilot.pause()
        assert "the port goes in its own field" in _error_text(form, "host")
        assert _error_text(form, "password-reference").startswith("auth.password")
        assert _error_text(form, "mail-from").startswith("envelope.mail_from")
    assert list(profiles_folder.iterdir()) == []


async def test_form_new_profile_saves(profiles_folder: Path) -> None:
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        form = await _open_form(pilot, app, "f3")
        form.query_one("#name", Input).value = "lab"
        form.query_one("#host", Input).value = "mail.example.test"
        form.query_one("#port", Input).value = "2587"
        form.query_one("#mechanism", Input).value = "PLAIN"
        form.query_one("#username", Input).value = "alice"
        form.query_one("#password-kind", Select).value = "command"
        form.query_one("#password-reference", Input).value = "pass show 'smtp/lab account'"
        form.query_one("#rcpt-to", Input).value = "bob@example.test, carol@example.test"
        await pilot.pause()
        await pilot.click("#save")
        await wait_for(pilot, lambda: app.screen is screen, "back on the connect screen")
        assert any(text.startswith("lab") for text in _option_texts(screen))
    path = profiles_folder / "lab.yaml"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    profile = load_profile_file(path)
    assert profile.port == 2587
    assert profile.auth.password is not None
    assert profile.auth.password.command == ("pass", "show", "smtp/lab account")
    assert profile.envelope.rcpt_to == ("bob@example.test", "carol@example.test")


async def test_form_edit_commented_file_gets_backup(profiles_folder: Path) -> None:
    path = profiles_folder / "work.yaml"
    path.write_text(COMMENTED_PROFILE + "auth:\n  authzid: boss\n")
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        option_list = screen.query_one("#profiles", OptionList)
        option_list.focus()
        option_list.highlighted = 0
        form = await _open_form(pilot, app, "f2")
        assert form.query_one("#host", Input).value == "smtp.example.test"
        warnings = str(form.query_one("#form-warnings").render())
        assert "comments are not kept" in warnings
        assert "exists" not in warnings
        form.query_one("#host", Input).value = "smtp2.example.test"
        await pilot.click("#save")
        await wait_for(pilot, lambda: app.screen is screen, "back on the connect screen")
    assert (profiles_folder / "work.yaml.bak").read_text().startswith("# Work server")
    profile = load_profile_file(path)
    assert profile.host == "smtp2.example.test"
    assert profile.auth.authzid == "boss"


async def test_form_edit_invalid_port_keeps_file(profiles_folder: Path) -> None:
    path = profiles_folder / "work.yaml"
    path.write_text(COMMENTED_PROFILE)
    app = create_app(_no_target(), autoconnect=False)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = _connect_screen(app)
        screen.query_one("#profiles", OptionList).highlighted = 0
        form = await _open_form(pilot, app, "f2")
        form.query_one("#port", Input).value = "0"
        await pilot.click("#save")
        await pilot.pause()
        assert "invalid port 0" in _error_text(form, "port")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back on the connect screen")
    assert path.read_text() == COMMENTED_PROFILE
    assert not (profiles_folder / "work.yaml.bak").exists()
