"""The Textual console: ``run`` is the entry point the CLI calls, ``create_app`` the factory.

Start-up loads only what the first screen needs. The session, the TLS module, the screens other
than the main one, SASL, the message builder and the practice server are imported when first used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, get_system_commands_provider
from textual.binding import Binding, BindingType
from textual.screen import Screen

from smtpconsole.errors import SmtpConsoleError
from smtpconsole.options import ConsoleOptions
from smtpconsole.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from textual.command import Provider

    from smtpconsole.tui.controller import SessionFactory

QUIT_TIMEOUT_SECONDS = 3.0
"""Maximum wait, in seconds, for the server's reply to QUIT when leaving the app."""


def _console_commands() -> type[Provider]:
    from smtpconsole.tui.commands import ConsoleCommands

    return ConsoleCommands


class SmtpConsoleApp(App[int]):
    """Interactive SMTP console on one live session."""

    CSS_PATH = "smtpconsole.tcss"
    TITLE = "smtpconsole"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {
        get_system_commands_provider,
        _console_commands,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f1",
            "toggle_help",
            "Help",
            id="app.help",
            tooltip="Show or hide help on the focused area and its keys",
        ),
        Binding(
            "f10",
            "show_keys",
            "Keys",
            show=False,
            id="app.keys",
            tooltip="List every key of the console",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="app.quit",
            priority=True,
            tooltip="Send QUIT, close the connection and leave",
        ),
    ]

    def __init__(
        self,
        options: ConsoleOptions,
        practice: object | None = None,
        *,
        session_factory: SessionFactory | None = None,
        autoconnect: bool = True,
        choose_lesson: bool = False,
    ) -> None:
        super().__init__()
        self.options = options
        self.practice = practice
        self.choose_lesson = choose_lesson
        """Open the lesson picker at start, for ``practice --lesson`` given without a name."""
        self.autoconnect = autoconnect
        """Connect as soon as the main screen is shown; tests of fixed states turn it off."""
        self._session_factory = session_factory
        self.main_screen: MainScreen | None = None

    def get_default_screen(self) -> Screen[Any]:
        # The main screen is the first screen when a target is given, so nothing else renders first.
        if self.options.connect.host:
            return self._create_main(self.options)
        return super().get_default_screen()

    def on_mount(self) -> None:
        if self.main_screen is not None:
            self._start(self.main_screen)
            if self.choose_lesson:
                self.main_screen.call_after_refresh(self.main_screen.action_choose_lesson)
            return
        from smtpconsole.tui.screens.connect import ConnectScreen

        def connect_chosen(options: ConsoleOptions | None) -> None:
            if options is not None:
                screen = self._create_main(options)
                self.push_screen(screen)
                self._start(screen)

        self.push_screen(ConnectScreen(self.options), connect_chosen)

    def _create_main(self, options: ConsoleOptions) -> MainScreen:
        self.options = options
        self.main_screen = MainScreen(options, self.practice, self._session_factory)
        return self.main_screen

    def _start(self, screen: MainScreen) -> None:
        if self.autoconnect:
            # After the first frame, so the screen shows before the session module loads.
            screen.call_after_refresh(screen.start_session)

    def start_lesson(self, name: str) -> None:
        """Restart the practice server for lesson ``name`` (``""``: none) on a new main screen."""
        self.run_worker(self._restart_practice(name), group="lesson", exclusive=True)

    async def _restart_practice(self, name: str) -> None:
        from smtpconsole.practice.cli import restart_for_lesson
        from smtpconsole.practice.server import PracticeServer

        practice = self.practice
        if not isinstance(practice, PracticeServer):
            self.notify("Only the built-in practice server has lessons.", severity="warning")
            return
        old_screen = self.main_screen
        if old_screen is not None and old_screen.controller is not None:
            await self._close_session(old_screen)
        try:
            # Stopping and starting the server thread blocks, so it runs outside the event loop.
            options = await asyncio.to_thread(restart_for_lesson, practice, name)
        except SmtpConsoleError as error:
            self.notify(f"{error.message}\n{error.hint or ''}", title="Lesson", severity="error")
            return
        screen = self._create_main(options)
        if old_screen is not None and self.screen is old_screen and len(self.screen_stack) > 1:
            await self.switch_screen(screen)
        else:
            # Textual cannot switch away from the first screen, so the new one goes on top of
            # it. The old screen stays below with its session closed; nothing pops back to it.
            await self.push_screen(screen)
        self._start(screen)

    async def _close_session(self, screen: MainScreen) -> None:
        controller = screen.controller
        if controller is None:
            return
        try:
            await asyncio.wait_for(controller.close(), QUIT_TIMEOUT_SECONDS)
        except (TimeoutError, OSError, SmtpConsoleError) as error:
            # The old server is stopped next anyway; the reason goes to the devtools log.
            self.log.warning(f"closing the session failed: {error!r}")

    def action_toggle_help(self) -> None:
        from textual.widgets import HelpPanel

        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_save_profile(self) -> None:
        """Ask for a name and save the current connection's options as a profile."""
        from smtpconsole.profiles import SaveResult
        from smtpconsole.tui.screens.profile_save import SaveProfileScreen

        if self.main_screen is None:
            self.notify("Connect first: there is no connection to save.", severity="warning")
            return

        def saved(result: SaveResult | None) -> None:
            if result is not None:
                self.notify(result.describe(), title="Profile saved")

        self.push_screen(SaveProfileScreen(self.main_screen.options), saved)

    def action_show_keys(self) -> None:
        from smtpconsole.tui.screens.connect import ConnectScreen
        from smtpconsole.tui.screens.help import HelpScreen
        from smtpconsole.tui.widgets.command_builder import CommandBuilder
        from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
        from smtpconsole.tui.widgets.raw_input import RawInput
        from smtpconsole.tui.widgets.search_bar import SearchBar

        areas = [
            (
                "Everywhere",
                [
                    *self.BINDINGS,
                    Binding(
                        "ctrl+p", "command_palette", "Commands", tooltip="Open the command palette"
                    ),
                ],
            ),
            ("Connect screen", ConnectScreen.BINDINGS),
            ("Console", MainScreen.BINDINGS),
            ("Protocol pane", ProtocolPane.BINDINGS),
            ("Raw input", RawInput.BINDINGS),
            ("Search bar", SearchBar.BINDINGS),
            ("Guided commands", CommandBuilder.BINDINGS),
        ]
        self.push_screen(HelpScreen(areas))

    async def action_quit(self) -> None:
        controller = self.main_screen.controller if self.main_screen is not None else None
        if controller is not None:
            try:
                await asyncio.wait_for(controller.close(), QUIT_TIMEOUT_SECONDS)
            except (TimeoutError, OSError, SmtpConsoleError) as error:
                # Leaving must not fail because the server is gone; the reason goes to the devtools log.
                self.log.warning(f"closing the session failed: {error!r}")
        self.exit(0)


def create_app(
    options: ConsoleOptions,
    practice: object | None = None,
    *,
    session_factory: SessionFactory | None = None,
    autoconnect: bool = True,
    choose_lesson: bool = False,
) -> SmtpConsoleApp:
    """Return the console app for ``options``; the CLI and the tests both build it here.

    Args:
        options: where to connect and how; an empty host shows the connect screen first.
        practice: a running practice server (``mailbox``, ``user``, ``password``, ``lesson``) to
            show the mailbox of accepted messages and the lesson panel, or None.
        session_factory: builds the session from the connect options; ``Session`` when None.
        autoconnect: connect when the main screen appears.
        choose_lesson: open the practice lesson picker at start.
    """
    return SmtpConsoleApp(
        options,
        practice,
        session_factory=session_factory,
        autoconnect=autoconnect,
        choose_lesson=choose_lesson,
    )


def run(
    options: ConsoleOptions, practice: object | None = None, *, choose_lesson: bool = False
) -> int:
    """Run the console until the user quits; return the exit code.

    ``choose_lesson`` opens the practice lesson picker at start.
    """
    app = create_app(options, practice, choose_lesson=choose_lesson)
    result = app.run()
    return result if result is not None else (app.return_code or 0)
