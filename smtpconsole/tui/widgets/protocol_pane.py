"""The protocol pane: every line sent and received, coloured by kind, with search and a cursor.

The pane is a Textual ``Log`` that keeps, beside each displayed line, a ``PaneLine`` holding its kind
(the colour), the time it happened and the reply latency. Timestamps are a display prefix rebuilt
from those records when toggled, so selection, copy and search always see the text as shown.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.strip import Strip
from textual.widgets import Log

from smtpconsole.tui import help_text

DEFAULT_MAX_LINES = 200_000
"""Lines kept in the pane before the oldest are dropped; the transcript itself keeps every event."""

KINDS = (
    "sent",
    "secret",
    "data",
    "reply-2",
    "reply-3",
    "reply-4",
    "reply-5",
    "tls",
    "discarded",
    "malformed",
    "advice-info",
    "advice-warning",
    "advice-error",
    "explain",
    "note",
    "closed",
)
"""Line kinds; each has a component class ``protocol-pane--KIND`` that sets its colour."""


@dataclass(frozen=True, slots=True)
class PaneLine:
    """One display line of the pane and what it came from."""

    text: str
    """The line without timestamp prefix, as ``format_event`` produced it."""
    kind: str
    """One of ``KINDS``; chooses the colour."""
    at: float
    """Wall-clock time of the event (``time.time()``)."""
    latency: float | None = None
    """Seconds between the command and this reply, on the first line of a reply only."""
    source: object | None = None
    """The transcript event the line came from, so a selected reply can be explained."""
    answered_verb: str | None = None
    """For a reply: the verb of the last command sent before it, as ``explain`` expects it."""


def format_prefix(line: PaneLine) -> str:
    """Return the timestamp (UTC, as in exports) and latency columns shown before ``line``."""
    clock = time.strftime("%H:%M:%S", time.gmtime(line.at))
    millis = int((line.at % 1) * 1000)
    latency = f"+{line.latency * 1000:.0f}ms" if line.latency is not None else ""
    return f"{clock}.{millis:03d} {latency:>8} "


class ProtocolPane(Log):
    """Scrolling view of the SMTP dialogue with per-kind colours, search and a line cursor."""

    HELP = help_text.PANE_HELP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "cursor_up",
            "Line up",
            show=False,
            id="pane.cursor_up",
            tooltip="Move the line cursor up; a reply under it is explained below the pane",
        ),
        Binding(
            "down",
            "cursor_down",
            "Line down",
            show=False,
            id="pane.cursor_down",
            tooltip="Move the line cursor down; past the last line the pane follows new lines",
        ),
        Binding(
            "end",
            "cursor_last",
            "Follow",
            show=False,
            id="pane.follow",
            tooltip="Move the cursor back to the newest line and follow new lines",
        ),
        Binding(
            "c",
            "copy_line",
            "Copy line",
            id="pane.copy_line",
            tooltip="Copy the line under the cursor to the clipboard",
        ),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"protocol-pane--{kind}" for kind in KINDS),
        "protocol-pane--cursor",
        "protocol-pane--match",
        "protocol-pane--current-match",
    }

    DEFAULT_CSS = """
    ProtocolPane {
        & > .protocol-pane--sent { color: $text-accent; }
        & > .protocol-pane--secret { color: $text-accent; text-style: italic; }
        & > .protocol-pane--data { color: $text-secondary; }
        & > .protocol-pane--reply-2 { color: $text-success; }
        & > .protocol-pane--reply-3 { color: $text-primary; }
        & > .protocol-pane--reply-4 { color: $text-warning; }
        & > .protocol-pane--reply-5 { color: $text-error; }
        & > .protocol-pane--tls { color: $text-secondary; text-style: bold; }
        & > .protocol-pane--discarded { color: $text-error; text-style: bold reverse; }
        & > .protocol-pane--malformed { color: $text-error; text-style: underline; }
        & > .protocol-pane--advice-info { color: $text-muted; text-style: italic; }
        & > .protocol-pane--advice-warning { color: $text-warning; text-style: italic; }
        & > .protocol-pane--advice-error { color: $text-error; text-style: italic; }
        & > .protocol-pane--explain { color: $text-muted; }
        & > .protocol-pane--note { color: $text-muted; }
        & > .protocol-pane--closed { color: $text-error; text-style: bold; }
        & > .protocol-pane--cursor { background: $boost; text-style: bold; }
        & > .protocol-pane--match { background: $warning-muted; }
        & > .protocol-pane--current-match { background: $warning; color: $background; }
    }
    """

    show_timestamps: var[bool] = var(False)
    """Show the wall-clock time of each line and the latency of each reply."""
    cursor_line: var[int | None] = var[int | None](None)
    """Index of the line under the cursor; None follows the newest line."""

    class LineSelected(Message):
        """The cursor moved to a line; ``line`` is None when the pane follows the newest line."""

        def __init__(self, pane: ProtocolPane, line: PaneLine | None) -> None:
            super().__init__()
            self.pane = pane
            self.line = line

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ProtocolPane.LineSelected) and message.pane is self.pane

    def __init__(
        self,
        max_lines: int = DEFAULT_MAX_LINES,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(max_lines=max_lines, name=name, id=id, classes=classes)
        self.records: list[PaneLine] = []
        """One record per displayed line, same index as ``lines``."""
        self._styles: dict[str, Style] = {}
        self._search = ""
        self._matches: list[int] = []
        self._match_set: set[int] = set()
        self._match_index = -1
        self.following = True
        """True while the pane keeps the newest line in view; scrolling up turns it off.

        Only a change of the scroll position sets it, so a layout change that makes the pane
        shorter (and leaves the old position short of the end) does not stop the following.
        """

    # Writing

    def append(self, new_lines: Sequence[PaneLine]) -> None:
        """Append lines in one batch: one size update and one refresh whatever their number."""
        if not new_lines:
            return
        texts = [self._display_text(line) for line in new_lines]
        start = len(self._lines)
        self._lines.extend(texts)
        self.records.extend(new_lines)
        self._note_new_matches(start, texts)
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            self._prune_max_lines()
            start = max(0, len(self._lines) - len(texts))
        self.virtual_size = Size(self._width, len(self._lines))
        self._update_size(self._updates, texts)
        self.refresh_lines(start, len(texts))
        if self._follows_newest():
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            self.refresh()

    def _follows_newest(self) -> bool:
        return (
            self.cursor_line is None and self.following and not self.is_vertical_scrollbar_grabbed
        )

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y:
            self.following = True
        elif new_value < old_value:
            self.following = False

    def on_resize(self) -> None:
        if self._follows_newest():
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def clear(self) -> ProtocolPane:
        super().clear()
        self.records.clear()
        self._set_matches([])
        self._match_index = -1
        self.cursor_line = None
        return self

    def _display_text(self, line: PaneLine) -> str:
        if self.show_timestamps:
            return format_prefix(line) + line.text
        return line.text

    def _prune_max_lines(self) -> None:
        remove = len(self._lines) - (self.max_lines or len(self._lines))
        if remove <= 0:
            return
        super()._prune_max_lines()
        del self.records[:remove]
        self._set_matches([index - remove for index in self._matches if index >= remove])
        self._match_index = min(self._match_index, len(self._matches) - 1)
        if self.cursor_line is not None:
            self.cursor_line = max(0, self.cursor_line - remove)

    def watch_show_timestamps(self) -> None:
        self._lines[:] = [self._display_text(line) for line in self.records]
        if self._search:
            # The prefix is searchable text too, so the matches are found again.
            self._set_matches(self._find_matches())
            self._match_index = min(max(self._match_index, 0), len(self._matches) - 1)
        self._width = max((cell_len(text) for text in self._lines), default=0)
        self._updates += 1
        self.virtual_size = Size(self._width, len(self._lines))
        self._render_line_cache.clear()
        self.refresh()

    # Search

    @property
    def match_count(self) -> int:
        """Number of lines that contain the current search text."""
        return len(self._matches)

    @property
    def match_position(self) -> int:
        """1-based position of the current match, 0 when there is none."""
        return self._match_index + 1

    def search(self, text: str) -> int:
        """Find the lines containing ``text`` (case-insensitive) and go to the last one.

        Returns:
            The number of matching lines.
        """
        self._search = text.casefold()
        self._set_matches(self._find_matches() if self._search else [])
        self._match_index = len(self._matches) - 1
        self._render_line_cache.clear()
        self._go_to_match()
        return len(self._matches)

    def next_match(self, step: int = 1) -> int:
        """Move to the next match (``step`` -1 for the previous one), wrapping around.

        Returns:
            The 1-based position of the new current match, 0 when nothing matches.
        """
        if not self._matches:
            return 0
        self._match_index = (self._match_index + step) % len(self._matches)
        self._go_to_match()
        return self._match_index + 1

    def _note_new_matches(self, start: int, texts: Sequence[str]) -> None:
        if self._search:
            found = [
                start + offset
                for offset, text in enumerate(texts)
                if self._search in text.casefold()
            ]
            self._matches.extend(found)
            self._match_set.update(found)

    def _find_matches(self) -> list[int]:
        return [index for index, line in enumerate(self._lines) if self._search in line.casefold()]

    def _set_matches(self, matches: list[int]) -> None:
        self._matches = matches
        self._match_set = set(matches)

    def _go_to_match(self) -> None:
        if self._matches:
            self.cursor_line = self._matches[self._match_index]
        self.refresh()

    # Cursor

    @property
    def selected(self) -> PaneLine | None:
        """The record under the cursor, or None when the pane follows the newest line."""
        if self.cursor_line is None or not self.records:
            return None
        return self.records[min(self.cursor_line, len(self.records) - 1)]

    def watch_cursor_line(self, old: int | None, new: int | None) -> None:
        if new is not None:
            self.scroll_to_center_line(new)
        self.refresh()
        self.post_message(self.LineSelected(self, self.selected))

    def scroll_to_center_line(self, index: int) -> None:
        """Scroll so that line ``index`` is in the middle of the pane."""
        target = max(0, index - self.scrollable_content_region.height // 2)
        self.scroll_to(y=target, animate=False, immediate=True)

    def action_cursor_up(self) -> None:
        if not self.records:
            return
        current = len(self.records) if self.cursor_line is None else self.cursor_line
        self.cursor_line = max(0, current - 1)

    def action_cursor_down(self) -> None:
        if self.cursor_line is None:
            return
        if self.cursor_line + 1 >= len(self.records):
            self.action_cursor_last()
        else:
            self.cursor_line += 1

    def action_cursor_last(self) -> None:
        self.cursor_line = None
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_copy_line(self) -> None:
        line = self.selected or (self.records[-1] if self.records else None)
        if line is None:
            self.notify("The pane is empty: nothing to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(self._display_text(line))
        self.notify("Copied the line to the clipboard.", timeout=2)

    # Rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"protocol-pane--{name}", partial=True)
            self._styles[name] = style
        return style

    def _render_line_strip(self, y: int, rich_style: Style) -> Strip:
        selection = self.text_selection
        special = y == self.cursor_line or y in self._match_set
        if y in self._render_line_cache and selection is None and not special:
            return self._render_line_cache[y]
        display = self._process_line(self._lines[y])
        text = Text(display, no_wrap=True)
        text.stylize(rich_style)
        text.stylize(self._style(self.records[y].kind))
        if special:
            self._stylize_special(text, y)
        if selection is not None and (span := selection.get_span(y - self._clear_y)) is not None:
            start, end = span
            text.stylize(
                self.screen.get_component_rich_style("screen--selection"),
                start,
                len(text) if end == -1 else end,
            )
        strip = Strip(text.render(self.app.console), cell_len(display))
        if selection is None and not special:
            self._render_line_cache[y] = strip
        return strip

    def _stylize_special(self, text: Text, y: int) -> None:
        if y == self.cursor_line:
            text.stylize(self._style("cursor"))
        if not self._search:
            return
        is_current = 0 <= self._match_index < len(self._matches) and (
            self._matches[self._match_index] == y
        )
        style = self._style("current-match" if is_current else "match")
        folded = text.plain.casefold()
        start = folded.find(self._search)
        while start >= 0:
            text.stylize(style, start, start + len(self._search))
            start = folded.find(self._search, start + len(self._search))
