"""Lessons on the practice server: ordered steps checked against the transcript, and mistakes.

Lessons know nothing about a user interface. A front end feeds every transcript event to
``LessonProgress.observe`` and shows the messages it returns; the TUI and the line mode use the
same lessons. The lesson's own ``Dialogue``, fed with the same events as the session's, pairs each
reply with the command it is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Final, Literal

from smtpconsole.errors import UsageError
from smtpconsole.practice.lesson_texts import LESSON_DEFINITIONS
from smtpconsole.practice.lesson_types import Lesson, Mistake, Observation, Step
from smtpconsole.practice.rules import PracticeRules
from smtpconsole.protocol.dialogue import END_OF_DATA, GREETING, Dialogue, Phase
from smtpconsole.protocol.explain import explain
from smtpconsole.protocol.replies import Reply
from smtpconsole.transcript import ConnectionClosed, Event, LineSent, ReplyReceived, TlsStarted

__all__ = [
    "LESSONS",
    "Lesson",
    "LessonProgress",
    "Mistake",
    "Observation",
    "Step",
    "get_lesson",
    "lesson_names",
    "rules_for",
]

LESSONS: Final[dict[str, Lesson]] = {lesson.name: lesson for lesson in LESSON_DEFINITIONS}
"""Every lesson by its name, in teaching order."""


def lesson_names() -> list[str]:
    return list(LESSONS)


def get_lesson(name: str) -> Lesson:
    """Return the lesson called ``name``.

    Raises:
        UsageError: no lesson has that name.
    """
    lesson = LESSONS.get(name)
    if lesson is None:
        raise UsageError(f"unknown lesson {name!r}", f"choose one of: {', '.join(lesson_names())}")
    return lesson


def rules_for(lesson: Lesson | None, idle_timeout: float) -> PracticeRules:
    """Return the practice server rules a lesson needs, with the given idle timeout."""
    rules = lesson.rules if lesson is not None else PracticeRules()
    return replace(rules, idle_timeout=idle_timeout)


def _split_lines(raw: bytes) -> list[bytes]:
    lines = raw.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _format_reply(reply: Reply, verb: str) -> str:
    explanation = explain(reply, last_verb=verb)
    text = f"{reply.code} means: {explanation.meaning} Next: {explanation.action}"
    if explanation.provider_hint:
        text += f" ({explanation.provider_hint})"
    return text


class LessonProgress:
    """How far the user is in one lesson; ``observe`` each transcript event in order."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.index = 0
        """Index of the current step in ``lesson.steps``; ``len(steps)`` once done."""
        self.dialogue = Dialogue()
        self._message: list[bytes] = []
        """Message lines sent since the last DATA command."""

    @property
    def done(self) -> bool:
        return self.index >= len(self.lesson.steps)

    @property
    def current_step(self) -> Step | None:
        """The step the user is on, or None when the lesson is done."""
        return None if self.done else self.lesson.steps[self.index]

    def start_messages(self) -> list[str]:
        """Return the lesson's title, introduction and first instruction."""
        return [self.lesson.title, self.lesson.intro, self._instruction()]

    def _instruction(self) -> str:
        step = self.current_step
        if step is None:
            return self.lesson.outro
        total = len(self.lesson.steps)
        return f"Step {self.index + 1} of {total}: {step.instruction}"

    def observe(self, event: Event) -> list[str]:
        """Record one transcript event; return messages to show (progress, explanations)."""
        messages: list[str] = []
        for observation in self._observations(event):
            messages += self._check(observation)
        return messages

    # --- From transcript events to observations -------------------------------------------------

    def _observations(self, event: Event) -> Iterator[Observation]:
        if isinstance(event, LineSent):
            for line in _split_lines(event.raw):
                yield self._line_sent(line)
        elif isinstance(event, ReplyReceived):
            yield self._reply_received(event.reply)
        elif isinstance(event, TlsStarted):
            self.dialogue.tls_started()
            yield Observation("tls", dialogue=self.dialogue)
        elif isinstance(event, ConnectionClosed):
            self.dialogue.connection_closed()
            yield Observation("closed", dialogue=self.dialogue)

    def _line_sent(self, line: bytes) -> Observation:
        in_data = self.dialogue.in_data
        sent = self.dialogue.line_sent(line)
        if in_data:
            kind: Literal["data", "sent"] = "data"
            verb = END_OF_DATA if sent.ends_data else ""
            if not sent.ends_data:
                self._message.append(line)
        else:
            kind, verb = "sent", sent.verb
            if verb == "DATA":
                self._message = []
        message = tuple(self._message)
        return Observation(kind, verb=verb, line=line, message=message, dialogue=self.dialogue)

    def _reply_received(self, reply: Reply) -> Observation:
        dialogue = self.dialogue
        if dialogue.phase is Phase.CONNECTING and dialogue.greeting is None:
            verb = GREETING
        elif dialogue.pending:
            verb = dialogue.pending[0]
        else:
            verb = ""
        dialogue.reply_received(reply)
        message = tuple(self._message)
        return Observation("reply", verb=verb, message=message, reply=reply, dialogue=dialogue)

    # --- Steps and mistakes ---------------------------------------------------------------------

    def _check(self, observation: Observation) -> list[str]:
        step = self.current_step
        if step is None:
            return []
        if step.done(observation):
            return self._advance(step, 1, observation)
        following = self._step_after(self.index)
        if step.optional and following is not None and following.done(observation):
            return self._advance(following, 2, observation)
        return self._mistakes(observation)

    def _step_after(self, index: int) -> Step | None:
        steps = self.lesson.steps
        return steps[index + 1] if index + 1 < len(steps) else None

    def _advance(self, step: Step, count: int, observation: Observation) -> list[str]:
        self.index += count
        messages = [f"Done: {step.render(observation)}"] if step.success else ["Done."]
        messages.append(self._instruction())
        return messages

    def _mistakes(self, observation: Observation) -> list[str]:
        for mistake in self.lesson.mistakes:
            if mistake.steps and self.index not in mistake.steps:
                continue
            if mistake.when(observation):
                return [mistake.render(observation)]
        reply = observation.reply
        if reply is not None and reply.is_error:
            return [_format_reply(reply, observation.verb)]
        return []
