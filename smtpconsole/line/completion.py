"""Completion of the raw input line from the dialogue's suggestions and the EHLO capabilities.

``complete`` is a pure function, tested without a terminal; ``SuggestionCompleter`` only wraps it
for prompt_toolkit. It completes the word before the cursor: the verb first, then the verb's
keyword (``FROM:<``, ``TO:<``), then the mechanisms after ``AUTH`` and the ESMTP parameters after
an address. Completion only fills in text: what is sent is the line as the user leaves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.dialogue import Suggestion


@dataclass(frozen=True)
class Candidate:
    """One completion: the text that replaces the word before the cursor, and why it is offered."""

    text: str
    meta: str = ""


_KEYWORDS: dict[str, str] = {"MAIL": "FROM:<", "RCPT": "TO:<"}


def complete(
    text: str, suggestions: Sequence[Suggestion], capabilities: Capabilities | None
) -> list[Candidate]:
    """Return the completions for ``text``, the input before the cursor.

    Args:
        text: what the user typed so far on this line.
        suggestions: ``Dialogue.suggestions()`` now, recommended ones first.
        capabilities: the capabilities from the last EHLO, or None before it.
    """
    words = text.split(" ")
    current = words[-1]
    previous = [word for word in words[:-1] if word]
    if not previous:
        return _matching(_verbs(suggestions), current)
    verb = previous[0].upper()
    if verb == "HELP" and len(previous) == 1:
        return _matching(_verbs(suggestions), current)
    if verb == "AUTH" and len(previous) == 1:
        return _matching(_mechanisms(suggestions, capabilities), current)
    if verb in _KEYWORDS and len(previous) == 1:
        keyword = _KEYWORDS[verb]
        return _matching([Candidate(keyword, _reason(suggestions, verb))], current)
    if verb in _KEYWORDS:
        typed = {word.split("=", 1)[0].upper() for word in previous[2:]}
        params = [c for c in _params(verb, suggestions, capabilities) if _keyword(c) not in typed]
        return _matching(params, current)
    if verb == "BDAT" and len(previous) == 2:
        return _matching([Candidate("LAST", "this chunk ends the message")], current)
    return []


def _matching(candidates: Iterable[Candidate], current: str) -> list[Candidate]:
    prefix = current.upper()
    seen: set[str] = set()
    result: list[Candidate] = []
    for candidate in candidates:
        if candidate.text.upper().startswith(prefix) and candidate.text not in seen:
            seen.add(candidate.text)
            result.append(candidate)
    return result


def _first_word(suggestion: Suggestion) -> str:
    return suggestion.verb.split(" ", 1)[0].upper()


def _verbs(suggestions: Sequence[Suggestion]) -> list[Candidate]:
    ordered = sorted(suggestions, key=lambda suggestion: not suggestion.recommended)
    return [Candidate(_first_word(s), s.reason) for s in ordered if s.verb]


def _reason(suggestions: Sequence[Suggestion], verb: str) -> str:
    for suggestion in suggestions:
        if _first_word(suggestion) == verb:
            return suggestion.reason
    return ""


def _mechanisms(
    suggestions: Sequence[Suggestion], capabilities: Capabilities | None
) -> list[Candidate]:
    names: list[str] = []
    for suggestion in suggestions:
        if _first_word(suggestion) == "AUTH":
            names += suggestion.mechanisms
    if not names and capabilities is not None:
        names = list(capabilities.auth_mechanisms)
    return [Candidate(name, "offered in the EHLO reply") for name in names]


def _params(
    verb: str, suggestions: Sequence[Suggestion], capabilities: Capabilities | None
) -> list[Candidate]:
    offered: list[str] = []
    for suggestion in suggestions:
        if _first_word(suggestion) == verb:
            offered += suggestion.params
    if not offered and capabilities is not None:
        offered = _params_from_capabilities(verb, capabilities)
    return [Candidate(param, "ESMTP parameter") for param in offered]


def _params_from_capabilities(verb: str, capabilities: Capabilities) -> list[str]:
    if verb == "RCPT":
        return ["NOTIFY=", "ORCPT=rfc822;"] if capabilities.dsn else []
    params: list[str] = []
    if capabilities.has("SIZE"):
        params.append("SIZE=")
    if capabilities.eightbitmime:
        params.append("BODY=8BITMIME")
    if capabilities.smtputf8:
        params.append("SMTPUTF8")
    if capabilities.dsn:
        params += ["RET=FULL", "RET=HDRS", "ENVID="]
    return params


def _keyword(candidate: Candidate) -> str:
    return candidate.text.split("=", 1)[0].upper()


class SuggestionCompleter(Completer):
    """prompt_toolkit completer over ``complete``; ``state`` returns the live inputs."""

    def __init__(
        self, state: Callable[[], tuple[Sequence[Suggestion], Capabilities | None, bool]]
    ) -> None:
        self._state = state

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        suggestions, capabilities, in_data = self._state()
        if in_data:
            return
        text = document.text_before_cursor
        current = text.split(" ")[-1]
        for candidate in complete(text, suggestions, capabilities):
            yield Completion(
                candidate.text, start_position=-len(current), display_meta=candidate.meta
            )
