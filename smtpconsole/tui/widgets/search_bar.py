"""The pane's search bar: type to find, Enter for the next match, Escape to close."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from smtpconsole.tui import help_text


class SearchBar(Horizontal):
    """A search input with the match count. It posts messages, and the screen searches the pane."""

    HELP = help_text.SEARCH_HELP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "close",
            "Close search",
            id="search.close",
            tooltip="Hide the search bar and go back to the raw input",
        ),
        Binding(
            "up",
            "step(-1)",
            "Previous match",
            id="search.previous",
            tooltip="Go to the previous (older) line that matches",
        ),
        Binding(
            "down",
            "step(1)",
            "Next match",
            id="search.next",
            tooltip="Go to the next (newer) line that matches",
        ),
    ]

    class SearchChanged(Message):
        """The search text changed; an empty ``text`` clears the highlights."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class StepRequested(Message):
        """Go to another match: ``step`` is 1 for the next, -1 for the previous."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class Closed(Message):
        """The user closed the search bar."""

    def compose(self) -> ComposeResult:
        yield Label("Search:", id="search-label")
        yield Input(placeholder="text to find in the pane", id="search-input")
        yield Label("", id="search-status")

    def open(self) -> None:
        """Show the bar and focus its input."""
        self.display = True
        self.query_one("#search-input", Input).focus()

    def show_status(self, position: int, count: int) -> None:
        """Show ``position`` of ``count`` matches."""
        text = "no match" if count == 0 else f"{position}/{count}"
        if not self.query_one("#search-input", Input).value:
            text = ""
        self.query_one("#search-status", Label).update(text)

    @on(Input.Changed, "#search-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.SearchChanged(event.value))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.StepRequested(-1))

    def action_step(self, step: int) -> None:
        self.post_message(self.StepRequested(step))

    def action_close(self) -> None:
        self.display = False
        self.post_message(self.Closed())
