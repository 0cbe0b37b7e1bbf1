"""The help screen: every key of the console, grouped by the area where it works."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeyArea = tuple[str, Sequence[BindingType]]

INTRO = (
    "Lines typed in the raw input go to the server verbatim; console actions live on keys and in "
    "the command palette (Ctrl+P), never in the data stream. F1 shows help on the focused area."
)


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    result: list[Binding] = []
    for item in items:
        if isinstance(item, Binding):
            result.append(item)
        elif len(item) >= 2:
            result.append(Binding(*item))
    return result


class HelpScreen(ModalScreen[None]):
    """Table of keys per area, built from the bindings themselves so it cannot drift."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f10", "dismiss", "Close", id="help.close", tooltip="Close the help"),
    ]

    def __init__(self, areas: Sequence[KeyArea]) -> None:
        super().__init__()
        self.areas = areas

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(INTRO, id="help-intro")
            with VerticalScroll():
                yield Static(self._table(), id="help-keys")

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = "Keys"

    def key_rows(self) -> list[tuple[str, str, str, str]]:
        """Return one row per key: area, key as displayed, action name and what it does."""
        rows: list[tuple[str, str, str, str]] = []
        for area, bindings in self.areas:
            for binding in _bindings(bindings):
                key = self.app.get_key_display(binding)
                rows.append((area, key, binding.description, binding.tooltip))
        return rows

    def _table(self) -> Table:
        table = Table(expand=True, box=None, show_edge=False, pad_edge=False)
        table.add_column("Area", style="bold", no_wrap=True)
        table.add_column("Key", style="bold cyan", no_wrap=True)
        table.add_column("Action", no_wrap=True)
        table.add_column("What it does")
        previous_area = ""
        for area, key, action, tooltip in self.key_rows():
            table.add_row(area if area != previous_area else "", key, action, tooltip)
            previous_area = area
        return table
