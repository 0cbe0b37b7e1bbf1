"""The lesson panel: the steps of a practice lesson, the current instruction, and feedback.

The panel keeps a ``LessonProgress`` and feeds it every transcript event the main screen receives.
Which step is done and what a mistake means come from the lesson; the panel only displays them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.message import Message
from textual.widgets import Static

if TYPE_CHECKING:
    from smtpconsole.practice.lesson_types import Lesson
    from smtpconsole.practice.lessons import LessonProgress
    from smtpconsole.transcript import Event

LESSON_HELP = """\
## Lesson

The steps of the practice lesson: `✔` done, `–` skipped (optional), `▶` the current step.
Below them, the lesson's feedback on your last commands: why a step worked, or what a mistake
means. Type the commands in the raw input or use the guided commands.

- **F12** (or the palette's `practice: choose lesson`) picks another lesson.
- **Ctrl+G** shows or hides this column; under 100 columns it starts hidden.
"""

MARK_DONE = "✔"
MARK_SKIPPED = "–"
MARK_CURRENT = "▶"
_STEP_STYLES = {MARK_DONE: "green", MARK_SKIPPED: "dim", MARK_CURRENT: "bold", "": "dim"}


class LessonPanel(Static):
    """Title, step list, current instruction and the lesson's latest feedback."""

    HELP = LESSON_HELP
    DEFAULT_CSS: ClassVar[str] = """
    LessonPanel {
        height: auto;
        max-height: 50vh;
        border: round $warning;
        border-title-color: $text-warning;
        padding: 0 1;
    }
    """

    class Completed(Message):
        """The user finished every step of the lesson."""

        def __init__(self, title: str) -> None:
            super().__init__()
            self.title = title

    def __init__(self, progress: LessonProgress, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress = progress
        self.skipped: set[int] = set()
        """Indices of optional steps that the user passed over by doing the next one."""
        lesson = progress.lesson
        self.feedback: list[str] = [lesson.intro]
        """Messages of the last events that produced any, oldest first."""
        self.login: str | None = None
        """The practice user and password, shown for lessons that need AUTH."""

    @classmethod
    def for_practice(cls, practice: object, *, id: str | None = None) -> LessonPanel | None:
        """Return a panel that follows the practice server's lesson, or None without a lesson."""
        lesson: Lesson | None = getattr(practice, "lesson", None)
        if lesson is None:
            return None
        from smtpconsole.practice.cli import login_message
        from smtpconsole.practice.lessons import LessonProgress
        from smtpconsole.practice.server import PracticeServer

        panel = cls(LessonProgress(lesson), id=id)
        if isinstance(practice, PracticeServer):
            panel.login = login_message(practice)
        return panel

    def on_mount(self) -> None:
        self.border_title = f"Lesson: {self.progress.lesson.title}"
        self._refresh_content()

    def observe(self, events: Sequence[Event]) -> None:
        """Feed ``events`` to the lesson in order and show the messages it returns."""
        progress = self.progress
        was_done = progress.done
        messages: list[str] = []
        for event in events:
            before = progress.index
            messages += progress.observe(event)
            self._note_skipped(before, progress.index)
        new_feedback = [message for message in messages if not self._is_instruction(message)]
        if new_feedback:
            self.feedback = new_feedback
        if progress.done and not was_done:
            self.feedback = [*new_feedback, progress.lesson.outro]
            self.post_message(self.Completed(progress.lesson.title))
        self._refresh_content()

    def _note_skipped(self, before: int, after: int) -> None:
        # One observation moves two steps only when the user did the step after an optional one.
        steps = self.progress.lesson.steps
        if after - before >= 2 and steps[before].optional:
            self.skipped.add(before)

    def _is_instruction(self, message: str) -> bool:
        """Return True for a message that repeats an instruction the step list already shows."""
        lesson = self.progress.lesson
        return message == lesson.outro or any(
            message.endswith(step.instruction) for step in lesson.steps
        )

    def _refresh_content(self) -> None:
        progress = self.progress
        total = len(progress.lesson.steps)
        finished = min(progress.index, total)
        self.border_subtitle = "done" if progress.done else f"step {finished + 1} of {total}"
        login = [Text(self.login, style="cyan")] if self.login else []
        self.update(Group(*self._step_lines(), Text(""), *login, *self._feedback_lines()))

    def _step_lines(self) -> list[RenderableType]:
        # A grid keeps the marks and numbers in their own column, so a long instruction wraps
        # under its own start instead of being cut on a narrow panel. "fold" breaks a word
        # longer than the line, such as an address in a command.
        grid = Table.grid(padding=(0, 1, 0, 0))
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column(ratio=1, overflow="fold")
        steps = self.progress.lesson.steps
        for index, (step, mark) in enumerate(zip(steps, self.step_marks(), strict=True)):
            style = _STEP_STYLES[mark]
            grid.add_row(
                Text(f"{mark or ' '} {index + 1}.", style=style),
                Text(step.instruction, style=style),
            )
        return [grid]

    def _feedback_lines(self) -> list[RenderableType]:
        style = "green" if self.progress.done else ""
        return [Text(message, style=style) for message in self.feedback]

    def brief(self) -> Text:
        """Return the current step with its number, or the outro once the lesson is done."""
        progress = self.progress
        step = progress.current_step
        if step is None:
            return Text(f"Lesson done. {progress.lesson.outro}", style="green")
        total = len(progress.lesson.steps)
        brief = Text(f"{MARK_CURRENT} {progress.index + 1} of {total}. ", style="bold")
        brief.append(step.instruction)
        return brief

    def step_marks(self) -> list[str]:
        """Return one mark per step: ``✔`` done, ``–`` skipped, ``▶`` current, ``""`` to do."""
        marks: list[str] = []
        for index in range(len(self.progress.lesson.steps)):
            if index == self.progress.index:
                marks.append(MARK_CURRENT)
            elif index < self.progress.index:
                marks.append(MARK_SKIPPED if index in self.skipped else MARK_DONE)
            else:
                marks.append("")
        return marks
