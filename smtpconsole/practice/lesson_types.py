"""The parts of a lesson (steps, mistakes, observations) and predicates to build steps from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from smtpconsole.practice.rules import PracticeRules
from smtpconsole.protocol.dialogue import END_OF_DATA, Dialogue
from smtpconsole.protocol.replies import Reply, decode_text

ObservationKind = Literal["sent", "data", "reply", "tls", "closed"]


@dataclass(frozen=True)
class Observation:
    """One transcript event, reduced to what lessons check; a message payload gives one per line."""

    kind: ObservationKind
    """``sent`` a command line, ``data`` a message line after 354, ``reply``, ``tls`` when the
    handshake succeeded, ``closed`` when the connection ended."""
    verb: str = ""
    """For ``sent``: the command verb (``MAIL FROM``). For ``reply``: the verb of the command the
    reply is for, ``<greeting>`` for the greeting and ``.`` for the end of the message. For
    ``data``: ``.`` on the line that ends the message."""
    line: bytes = b""
    """For ``sent`` and ``data``: the line without CRLF."""
    message: tuple[bytes, ...] = ()
    """For ``data`` and ``reply``: the message lines sent since the last DATA command, as typed."""
    reply: Reply | None = None
    dialogue: Dialogue | None = field(default=None, compare=False)
    """The lesson's dialogue after this event."""

    @property
    def text(self) -> str:
        """The line, decoded for display."""
        return decode_text(self.line)

    def fields(self) -> dict[str, str]:
        """Return the values a lesson text may name, for ``str.format``.

        ``line`` is the line as typed and ``received`` the line as the server keeps it, with one
        leading dot removed (RFC 5321 section 4.5.2). ``dot_lines`` lists each message line that
        started with a dot, as the server keeps it. ``code`` and ``text`` are from the reply.
        """
        dot_lines = [_unstuffed(line) for line in self.message if line.startswith(b".")]
        return {
            "line": self.text,
            "received": _unstuffed(self.line),
            "dot_lines": " and ".join(f"`{line}`" for line in dot_lines) or "none",
            "code": str(self.reply.code) if self.reply else "",
            "text": self.reply.text if self.reply else "",
        }


def _unstuffed(line: bytes) -> str:
    return decode_text(line[1:] if line.startswith(b".") else line)


Predicate = Callable[[Observation], bool]


@dataclass(frozen=True)
class Step:
    """One thing to do in a lesson, done when ``done`` holds for an observation."""

    instruction: str
    done: Predicate
    success: str = ""
    """Explanation of what just happened, shown when the step is done. It may name the fields of
    ``Observation.fields``, such as ``{received}``."""
    optional: bool = False
    """When True, doing the next step instead also moves on."""

    def render(self, observation: Observation) -> str:
        """Return ``success`` with the fields of the observation that completed the step."""
        return self.success.format(**observation.fields())


@dataclass(frozen=True)
class Mistake:
    """A common mistake and its explanation, which may name the fields of ``Observation.fields``."""

    when: Predicate
    explanation: str
    steps: frozenset[int] = frozenset()
    """Indices of the steps during which it applies; any step when empty."""

    def render(self, observation: Observation) -> str:
        return self.explanation.format(**observation.fields())


@dataclass(frozen=True)
class Lesson:
    """A lesson: what it teaches, its steps, the mistakes it explains, and the server it needs."""

    name: str
    """Short name used with ``smtpconsole practice --lesson NAME``."""
    title: str
    intro: str
    steps: tuple[Step, ...]
    mistakes: tuple[Mistake, ...]
    outro: str
    rules: PracticeRules = field(default_factory=PracticeRules)
    """Rules the practice server runs with for this lesson."""
    security: Literal["plain", "starttls"] = "plain"
    """Connection security: ``plain`` leaves STARTTLS to the user."""
    manual: bool = True
    """When True the console sends nothing on connect, so the user types every command."""


def replied(verb: str, *codes: int) -> Predicate:
    """Return a predicate: a reply to ``verb`` with one of ``codes`` (a digit means its class)."""

    def check(observation: Observation) -> bool:
        reply = observation.reply
        if observation.kind != "reply" or reply is None or observation.verb != verb:
            return False
        return reply.code in codes or reply.code_class in codes

    return check


def replied_text(verb: str, code: int, fragment: str) -> Predicate:
    """Return a predicate: a reply to ``verb`` with ``code`` whose text contains ``fragment``."""
    base = replied(verb, code)

    def check(observation: Observation) -> bool:
        reply = observation.reply
        return base(observation) and reply is not None and fragment.lower() in reply.text.lower()

    return check


def any_reply(*codes: int) -> Predicate:
    """Return a predicate: a reply with one of ``codes``, whatever command it is for."""

    def check(observation: Observation) -> bool:
        reply = observation.reply
        return observation.kind == "reply" and reply is not None and reply.code in codes

    return check


def data_line(test: Callable[[bytes], bool]) -> Predicate:
    """Return a predicate: a message line (not the final ``.``) for which ``test`` holds."""

    def check(observation: Observation) -> bool:
        return (
            observation.kind == "data"
            and observation.verb != END_OF_DATA
            and test(observation.line)
        )

    return check


def tls_started(observation: Observation) -> bool:
    return observation.kind == "tls"


def closed(observation: Observation) -> bool:
    return observation.kind == "closed"
