"""What the console shows of the session's state: keepalive, EHLO name, AUTH mechanism, closes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Label, OptionList, Select

from smtpconsole import locations, transcript
from smtpconsole.options import AuthOptions
from smtpconsole.practice.rules import IDLE_TIMEOUT_SECONDS
from smtpconsole.protocol.dialogue import Suggestion
from smtpconsole.tui.app import create_app
from smtpconsole.tui.controller import KEEPALIVE_SECONDS
from smtpconsole.tui.screens.help import HelpScreen
from smtpconsole.tui.widgets.builder_forms import AuthForm, NameForm
from smtpconsole.tui.widgets.command_builder import CommandBuilder
from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
from smtpconsole.tui.widgets.status_bar import StatusBar
from tests.hostile_servers import ClientStream, serve
from tests.tui.fixed_session import FIXED_TIME, FixedSession
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    console_options,
    main_screen,
    pane_lines,
    type_line,
    wait_for,
    wait_for_form,
    wait_for_pane,
)

pytestmark = pytest.mark.timeout(60)


def _status_bar(app: Any) -> StatusBar:
    return main_screen(app).query_one(StatusBar)


async def _wait_ready(pilot: Any, app: Any) -> None:
    await wait_for(pilot, lambda: _status_bar(app).status.phase == "READY", "phase READY")
    await wait_for(pilot, lambda: "verified" in _status_bar(app).status.security, "TLS")


# Keepalive


async def test_keepalive_option_shown_and_toggled(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file, keepalive=4.0))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_ready(pilot, app)
        session = main_screen(app).controller.session  # type: ignore[union-attr]
        assert session is not None
        assert session.keepalive == 4.0
        assert _status_bar(app).status.keepalive == 4.0
        assert "NOOP every 4 s idle" in str(_status_bar(app).render())

        await pilot.press("f7")
        await wait_for(pilot, lambda: _status_bar(app).status.keepalive is None, "keepalive off")
        assert session.keepalive is None
        assert "NOOP off" in str(_status_bar(app).render())

        await pilot.press("f7")
        await wait_for(pilot, lambda: _status_bar(app).status.keepalive == 4.0, "keepalive 4 s")
        assert session.keepalive == 4.0


async def test_keepalive_default_interval_on_toggle(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_ready(pilot, app)
        assert _status_bar(app).status.keepalive is None
        await pilot.press("f7")
        await wait_for(
            pilot, lambda: _status_bar(app).status.keepalive == KEEPALIVE_SECONDS, "keepalive on"
        )
        session = main_screen(app).controller.session  # type: ignore[union-attr]
        assert session is not None
        assert session.keepalive == KEEPALIVE_SECONDS


class _KeepaliveSession(FixedSession):
    """A session with its own 4 s keepalive, whatever the console's options say."""

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self.keepalive = 4.0


async def test_keepalive_status_follows_session() -> None:
    options = console_options(587, host="mail.example.test")
    app = create_app(options, session_factory=_KeepaliveSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        status_bar = _status_bar(app)
        await wait_for(pilot, lambda: status_bar.status.keepalive == 4.0, "keepalive 4 s shown")

        await pilot.press("f7")
        await wait_for(pilot, lambda: status_bar.status.keepalive is None, "keepalive off")
        await pilot.press("f7")
        await wait_for(pilot, lambda: status_bar.status.keepalive == 4.0, "keepalive 4 s again")


def test_keepalive_default_beats_idle_timeout() -> None:
    assert KEEPALIVE_SECONDS < IDLE_TIMEOUT_SECONDS


# EHLO name


async def _choose(pilot: Any, app: Any, verb: str) -> CommandBuilder:
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
        lambda: builder._form is not None and builder._form.verb == verb,
        f"the {verb} form",
    )
    await wait_for_form(pilot, builder, "#form-area")
    return builder


async def test_builder_ehlo_name_matches_session(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    options = console_options(server.port, ca_file=server.ca_file, ehlo_name=None)
    app = create_app(options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_ready(pilot, app)
        session = main_screen(app).controller.session  # type: ignore[union-attr]
        assert session is not None
        sent_name = session.default_ehlo_name()
        assert f"C: EHLO {sent_name}" in pane_lines(app)

        builder = await _choose(pilot, app, "EHLO")
        form = builder._form
        assert isinstance(form, NameForm)
        assert form.query_one("#name").value == sent_name  # type: ignore[attr-defined]


async def test_ehlo_label_shows_address_literal() -> None:
    suggestion = Suggestion("EHLO", "EHLO client.example.com", "greet", True)

    class FormApp(App[None]):
        def compose(self) -> ComposeResult:
            yield NameForm(suggestion, "client.test")

    app = FormApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        label = app.query(Label).first()
        assert str(label.render()) == "Client name (a domain or [address] literal)"


# AUTH mechanism


def _auth_suggestion(*mechanisms: str) -> Suggestion:
    return Suggestion("AUTH", "AUTH", "log in", True, mechanisms=mechanisms)


@pytest.mark.parametrize(
    ("configured", "offered", "expected"),
    [
        ("PLAIN", ("LOGIN", "PLAIN"), "PLAIN"),
        ("plain", ("LOGIN", "PLAIN"), "PLAIN"),
        ("LOGIN", ("PLAIN", "LOGIN"), "LOGIN"),
        (None, ("LOGIN", "PLAIN"), "PLAIN"),
        (None, ("LOGIN", "CRAM-MD5", "SCRAM-SHA-256"), "SCRAM-SHA-256"),
        ("XOAUTH2", ("LOGIN", "PLAIN"), "PLAIN"),
        (None, ("XOAUTH2",), "XOAUTH2"),
    ],
)
async def test_auth_form_initial_mechanism(
    configured: str | None, offered: tuple[str, ...], expected: str
) -> None:
    form = AuthForm(_auth_suggestion(*offered), "alice", configured)

    class FormApp(App[None]):
        def compose(self) -> ComposeResult:
            yield form

    app = FormApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert form.query_one("#mechanism", Select).value == expected
        assert form.mechanism == expected


async def test_builder_auth_uses_configured_mechanism(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    options = console_options(server.port, ca_file=server.ca_file)
    options = type(options)(
        options.connect,
        AuthOptions(mechanism="LOGIN", username="alice"),
        mail_from=options.mail_from,
        rcpt_to=options.rcpt_to,
    )
    app = create_app(options)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _wait_ready(pilot, app)
        builder = await _choose(pilot, app, "AUTH")
        form = builder._form
        assert isinstance(form, AuthForm)
        assert form.mechanism == "LOGIN"


# Status after the server closes


def _close_after_auth_script() -> Any:
    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 closer.test ready\r\n")
        await stream.read_line()
        await stream.send(b"250-closer.test\r\n250 AUTH PLAIN\r\n")
        await stream.read_line()
        await stream.send(b"235 2.7.0 Authentication successful\r\n")
        await stream.read_line()
        await stream.send(b"421 4.4.2 closer.test idle timeout\r\n")
        await stream.close()

    return script


async def test_status_after_421_not_authenticated() -> None:
    async with serve(_close_after_auth_script()) as server:
        app = create_app(console_options(server.port, security="plain"))
        async with app.run_test(size=TERMINAL_SIZE) as pilot:
            status_bar = _status_bar(app)
            await wait_for(pilot, lambda: status_bar.status.phase == "READY", "phase READY")
            await type_line(pilot, "AUTH PLAIN AGFsaWNlAHNlY3JldA==")
            await wait_for(
                pilot, lambda: status_bar.status.auth == "authenticated", "authenticated"
            )

            await type_line(pilot, "NOOP")
            await wait_for_pane(pilot, app, "S: 421")
            await wait_for(pilot, lambda: not status_bar.status.connected, "not connected")
            assert status_bar.status.auth == "not authenticated"
            rendered = str(status_bar.render())
            assert "not connected" in rendered
            assert "│ authenticated" not in rendered


# Protocol pane following new lines


def _notes(first: int, count: int) -> list[transcript.Event]:
    return [transcript.Note(f"line {n}", at=FIXED_TIME) for n in range(first, first + count)]


async def test_pane_follows_after_layout_change() -> None:
    options = console_options(587, host="mail.example.test")
    app = create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = main_screen(app)
        pane = screen.query_one(ProtocolPane)
        controller = screen.controller
        assert controller is not None
        await wait_for(pilot, lambda: "250 2.1.0" in "\n".join(pane.lines), "the replayed dialogue")

        controller.add_events(_notes(0, 100))
        await wait_for(pilot, lambda: pane.lines[-1] == "-- line 99", "the first batch")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y

        # A shorter pane leaves the old scroll position 5 lines short of the end.
        pane.styles.height = pane.size.height - 5
        await pilot.pause()
        for batch in range(1, 4):
            controller.add_events(_notes(batch * 100, 100))
            last = f"-- line {batch * 100 + 99}"

            def arrived(last: str = last) -> bool:
                return pane.lines[-1] == last

            await wait_for(pilot, arrived, last)
            await pilot.pause()
            assert pane.scroll_y == pane.max_scroll_y, f"batch {batch}"
            assert pane.is_vertical_scroll_end, f"batch {batch}"


async def test_pane_stays_put_when_scrolled_up() -> None:
    options = console_options(587, host="mail.example.test")
    app = create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        screen = main_screen(app)
        pane = screen.query_one(ProtocolPane)
        controller = screen.controller
        assert controller is not None
        await wait_for(pilot, lambda: "250 2.1.0" in "\n".join(pane.lines), "the replayed dialogue")
        controller.add_events(_notes(0, 100))
        await wait_for(pilot, lambda: pane.lines[-1] == "-- line 99", "the first batch")
        await pilot.pause()

        pane.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        assert not pane.following
        controller.add_events(_notes(100, 50))
        await wait_for(pilot, lambda: pane.lines[-1] == "-- line 149", "the second batch")
        await pilot.pause()
        assert pane.scroll_y == 10

        pane.focus()
        await pilot.press("end")
        await pilot.pause()
        assert pane.following
        controller.add_events(_notes(150, 50))
        await wait_for(pilot, lambda: pane.lines[-1] == "-- line 199", "the third batch")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y


# Keys list


async def test_keys_screen_lists_connect_keys() -> None:
    options = console_options(587, host="mail.example.test")
    app = create_app(options, session_factory=FixedSession)  # type: ignore[arg-type]
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the keys screen")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = {(area, key.lower(), action) for area, key, action, _tip in screen.key_rows()}
        assert ("Connect screen", "f2", "Edit profile") in rows
        assert ("Connect screen", "f3", "New profile") in rows


# User folders


def test_user_folders_are_temporary(tmp_path: Path) -> None:
    assert locations.config_dir().is_relative_to(tmp_path)
    assert locations.data_dir().is_relative_to(tmp_path)
    assert locations.profiles_dir().is_relative_to(tmp_path)
    assert locations.history_file().is_relative_to(tmp_path)
    assert locations.exports_dir().is_relative_to(tmp_path)
    profiles = Path(os.environ["SMTPCONSOLE_PROFILES"])
    assert profiles.is_relative_to(tmp_path)
    assert list(profiles.iterdir()) == []
