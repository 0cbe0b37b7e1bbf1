"""Command-palette entries of the console, named ``area: action``.

The entries are the same actions as the keys, so every action can be found by name as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    """One palette entry: the ``area: action`` title, a help line and the action to run."""

    title: str
    help: str
    action: str
    """A Textual action run on the main screen, such as ``export``, or ``app.`` for the app."""
    practice_only: bool = False
    """Listed only when the console runs on the practice server."""


PALETTE_COMMANDS: tuple[PaletteCommand, ...] = (
    PaletteCommand("session: reconnect", "Connect again to the same server", "reconnect"),
    PaletteCommand(
        "session: toggle keepalive",
        "Send NOOP when idle (5 s unless configured), or stop",
        "toggle_keepalive",
    ),
    PaletteCommand(
        "session: save as scenario",
        "Save this connection's commands as a scenario for smtpconsole run",
        "save_scenario",
    ),
    PaletteCommand(
        "tls: show certificate", "The server chain and the verification result", "show_certificate"
    ),
    PaletteCommand(
        "transcript: export", "Write the transcript, secrets masked, to a file", "export"
    ),
    PaletteCommand("transcript: search", "Find text in the protocol pane", "search"),
    PaletteCommand(
        "transcript: toggle timestamps",
        "Show the time and reply latency of lines",
        "toggle_timestamps",
    ),
    PaletteCommand("transcript: copy line", "Copy the selected (or last) line", "copy_line"),
    PaletteCommand(
        "message: compose", "Write a message and send it with MAIL, RCPT, DATA", "compose"
    ),
    PaletteCommand(
        "auth: answer challenge", "Answer a 334 challenge to a typed AUTH", "answer_challenge"
    ),
    PaletteCommand(
        "profile: save connection",
        "Save this connection as a profile; the password only as its source",
        "app.save_profile",
    ),
    PaletteCommand(
        "view: toggle guided commands",
        "Show or hide the guided commands, lesson and mailbox beside the pane",
        "toggle_side_panel",
    ),
    PaletteCommand("help: keys", "Every key of the console", "app.show_keys"),
    PaletteCommand(
        "practice: choose lesson",
        "Restart the practice server for a lesson, or without one",
        "choose_lesson",
        practice_only=True,
    ),
)


class ConsoleCommands(Provider):
    """Palette provider for ``PALETTE_COMMANDS``, run against the main screen."""

    def _runner(self, command: PaletteCommand) -> object:
        async def run() -> None:
            target = getattr(self.app, "main_screen", None) or self.screen
            await self.app.run_action(command.action, target)

        return run

    def _commands(self) -> list[PaletteCommand]:
        on_practice = getattr(self.app, "practice", None) is not None
        return [command for command in PALETTE_COMMANDS if on_practice or not command.practice_only]

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, self._runner(command), help=command.help)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    self._runner(command),  # type: ignore[arg-type]
                    help=command.help,
                )
