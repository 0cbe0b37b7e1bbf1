"""A Select that tolerates being mounted while it is torn down."""

from __future__ import annotations

from typing import TypeVar

from textual import events
from textual.widgets import Select
from textual.widgets._select import SelectOverlay

ValueType = TypeVar("ValueType")


class Menu(Select[ValueType]):
    """Select whose mount step is skipped when its overlay child is already gone.

    Textual 8.2's Select looks up its overlay child in its Mount handler. When the form holding
    it is removed, or the app exits, while that Mount event is still queued, the overlay is gone
    and the lookup raises NoMatches, which ends the whole app.
    """

    def _on_mount(self, event: events.Mount) -> None:
        # Textual runs the Mount handler of each class in the MRO, this one first, so preventing
        # the default stops Select's own handler. NOTE: this relies on Textual 8.2's private
        # SelectOverlay, and the project pins Textual below 8.3.
        if not self.query(SelectOverlay):
            event.prevent_default()
