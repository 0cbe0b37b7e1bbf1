"""The lesson picker: choose a practice lesson, or free practice without one.

The screen returns the chosen lesson's name, ``FREE_PRACTICE`` for no lesson, or None when the
user cancels. The app then restarts the practice server with the rules that lesson needs.
"""

from __future__ import annotations

from typing import ClassVar, Final

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

FREE_PRACTICE: Final = ""
"""The picker's result for practice without a lesson: the server with its SES-like rules."""


def _lesson_options(current: str | None) -> list[Option]:
    from smtpconsole.practice.lessons import LESSONS

    options: list[Option] = []
    for name, lesson in LESSONS.items():
        prompt = Text()
        prompt.append(lesson.title, style="bold")
        prompt.append(f"  ({name}{', current' if name == current else ''})\n", style="dim")
        prompt.append(lesson.intro)
        options.append(Option(prompt, id=name))
    free = Text("Free practice, no lesson", style="bold")
    free.append("\nThe server with every SES-like rule; the console does EHLO and STARTTLS.")
    options.append(Option(free, id="free"))
    return options


class LessonPickerScreen(ModalScreen[str | None]):
    """Modal list of the practice lessons; Enter starts the highlighted one."""

    DEFAULT_CSS: ClassVar[str] = """
    LessonPickerScreen {
        align: center middle;
    }
    #lesson-dialog {
        width: 90;
        max-width: 95%;
        height: auto;
        max-height: 90%;
    }
    #lesson-list {
        height: auto;
        max-height: 30;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="lessons.close",
            tooltip="Close the list and keep the current lesson",
        ),
    ]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current
        """Name of the lesson running now, highlighted first; None for free practice."""

    def compose(self) -> ComposeResult:
        with Vertical(id="lesson-dialog", classes="dialog"):
            yield Static(
                "Choose a lesson. The practice server restarts with the rules the lesson needs, "
                "and the console connects again.",
                id="lesson-intro",
            )
            yield OptionList(*_lesson_options(self.current), id="lesson-list")

    def on_mount(self) -> None:
        self.query_one("#lesson-dialog").border_title = "Practice lessons"
        option_list = self.query_one(OptionList)
        if self.current is not None:
            option_list.highlighted = option_list.get_option_index(self.current)
        option_list.focus()

    @on(OptionList.OptionSelected, "#lesson-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id
        self.dismiss(FREE_PRACTICE if option_id == "free" or option_id is None else option_id)
