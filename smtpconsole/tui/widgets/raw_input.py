"""The raw input line: Enter sends the text verbatim, up and down walk the history."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input

from smtpconsole.tui import help_text

MAX_HISTORY = 500
"""Lines kept in the in-memory history; it is never written to disk by the TUI."""

COMMAND_TITLE = "SMTP line: Enter sends it verbatim, plus CRLF"
DATA_TITLE = "DATA: a line with a single '.' ends the message"
PLACEHOLDER = "Type an SMTP line, e.g. EHLO client.example"


class RawInput(Input):
    """Input whose submitted text goes to the server exactly as typed."""

    HELP = help_text.INPUT_HELP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "history(-1)",
            "Previous",
            show=False,
            id="input.history_previous",
            tooltip="Recall the previous line sent from this input",
        ),
        Binding(
            "down",
            "history(1)",
            "Next",
            show=False,
            id="input.history_next",
            tooltip="Recall the next line sent from this input",
        ),
    ]

    data_mode: var[bool] = var(False)
    """True after a 354 reply: each line is a message line until a line holding only '.'."""

    class LineEntered(Message):
        """The user pressed Enter; ``text`` is the line to send, without CRLF."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder=PLACEHOLDER, id=id, select_on_focus=False)
        self.history: list[str] = []
        """Lines sent, oldest first; the app adds only lines that are not secret."""
        self._history_index: int | None = None
        self._draft = ""

    def on_mount(self) -> None:
        self.border_title = COMMAND_TITLE

    def watch_data_mode(self, data_mode: bool) -> None:
        self.set_class(data_mode, "-data-mode")
        self.border_title = DATA_TITLE if data_mode else COMMAND_TITLE

    def add_history(self, line: str) -> None:
        """Remember ``line`` for up/down recall, skipping a repeat of the last entry."""
        if not self.history or self.history[-1] != line:
            self.history.append(line)
            del self.history[:-MAX_HISTORY]
        self._history_index = None

    async def _on_key(self, event: events.Key) -> None:
        # Enter is handled here, in the input's own queue of key events. As a binding it would
        # run only after the event bubbled up to the app, and keys typed ahead would land in
        # this line before it is sent and cleared.
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._submit_line()
            return
        await super()._on_key(event)

    async def action_submit(self) -> None:
        self._submit_line()

    def _submit_line(self) -> None:
        # Enter sends even an empty line: in DATA mode an empty line is part of the message.
        text = self.value
        self.value = ""
        self._history_index = None
        self.post_message(self.LineEntered(text))

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._history_index is None:
            if step > 0:
                return
            self._draft = self.value
            index = len(self.history) - 1
        else:
            index = self._history_index + step
        if index >= len(self.history):
            self._history_index = None
            self.value = self._draft
        else:
            self._history_index = max(0, index)
            self.value = self.history[self._history_index]
        self.cursor_position = len(self.value)
