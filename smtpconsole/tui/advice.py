"""Advice from the dialogue (``check_line``) as styled text, shared by the input and the builder."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from rich.text import Text

ADVICE_STYLES = {"info": "dim", "warning": "yellow", "error": "bold red"}
"""Style of each advice level."""


class AdviceLike(Protocol):
    """The fields read from ``Advice`` (and from the message builder's warnings)."""

    @property
    def level(self) -> str: ...

    @property
    def text(self) -> str: ...


def advice_text(items: Iterable[AdviceLike]) -> Text:
    """Return one line per advice item, ``level: text``, styled by level."""
    text = Text()
    for index, item in enumerate(items):
        if index:
            text.append("\n")
        text.append(f"{item.level}: {item.text}", style=ADVICE_STYLES.get(item.level, ""))
    return text
