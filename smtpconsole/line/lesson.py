"""Practice lessons in the line mode: the interface a lesson offers and how its messages print.

The line mode must not import the practice package, so the CLI hands over the lesson's progress
object, and this module describes only the two methods the line mode calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from smtpconsole.transcript import Event

LESSON_MARK: Final = "##"
"""Start of every line a practice lesson prints, apart from the transcript's marks."""


class LessonGuide(Protocol):
    """The two methods of a practice lesson that the line mode calls; ``LessonProgress`` has them."""

    def start_messages(self) -> list[str]:
        """Return the lesson's title, introduction and first instruction."""
        ...

    def observe(self, event: Event) -> list[str]:
        """Record one transcript event; return the messages to print about it."""
        ...


def lesson_lines(messages: list[str]) -> list[str]:
    """Return the display lines of lesson messages, each marked with ``LESSON_MARK``."""
    return [f"{LESSON_MARK} {line}" for message in messages for line in message.splitlines()]
