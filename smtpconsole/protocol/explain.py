"""Reply codes and enhanced status codes in plain words, with hints for well-known providers.

Reply codes come from RFC 5321 section 4.2. RFC 4954 adds 235, 334, 432, 454, 500, 530, 534, 535
and 538, RFC 3207 the 454 after STARTTLS, and RFC 7504 the codes 521 and 556. Enhanced status codes
come from RFC 3463 and from the later entries of the IANA "SMTP Enhanced Status Codes" registry
(RFC 4468, 4954, 5248, 6531, 6710, 7293, 7372, 7505, 8617, 8689). The tables are in ``explain_tables``. Provider hints (``explain_providers``) match the reply text that AWS SES, Gmail, Office 365 and Postfix send.

Only the standard library is used, so every front end can explain a reply without a network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from smtpconsole.protocol.explain_providers import provider_hint
from smtpconsole.protocol.explain_tables import (
    CLASS_MEANINGS,
    CODE_CLASS_FALLBACK,
    REPLY_CODES,
    STATUS_ACTIONS,
    STATUS_CLASSES,
    STATUS_DETAILS,
    STATUS_SUBJECTS,
    SUCCESS_DETAILS,
    SUCCESS_SUBJECTS,
    VERB_SPECIFIC,
    CodeEntry,
)
from smtpconsole.protocol.replies import Reply

_STATUS: Final = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")

# The names Dialogue uses for the greeting and for the final "." of DATA.
_VERB_ALIASES: Final = {"<GREETING>": "GREETING", ".": "DATA-END", "DATA END": "DATA-END"}


@dataclass(frozen=True)
class CodeMeaning:
    """Meaning of a three-digit reply code, and the next step it calls for."""

    code: int
    title: str
    """Short name of the code, such as ``Bad sequence of commands``."""
    meaning: str
    action: str
    source: str
    """The RFC and section that define the code, such as ``RFC 5321 section 4.2.3``."""
    known: bool = True
    """False when the code is not in the tables and the meaning comes from its first digit."""


@dataclass(frozen=True)
class StatusMeaning:
    """Meaning of an RFC 3463 enhanced status code such as ``5.7.8``."""

    status: str
    class_title: str
    """Meaning of the first number: Success, Persistent Transient Failure or Permanent Failure."""
    subject_title: str
    """Meaning of the second number, such as ``Security or Policy Status``."""
    title: str
    """Meaning of the whole code; the subject's title when the detail is not registered."""
    meaning: str
    action: str | None
    """Next step for the user, for the codes where the code alone makes it clear."""
    source: str
    known: bool = True
    """False when the detail number is not in the tables."""


@dataclass(frozen=True)
class Explanation:
    """A reply explained: its code, its enhanced status and any hint for the provider."""

    code: int
    enhanced_status: str | None
    meaning: str
    """Meaning of the reply in plain words, for the command it replies to."""
    action: str
    """Next step for the user."""
    provider_hint: str | None
    """Advice specific to the provider whose reply text matched, such as AWS SES or Gmail."""
    enhanced_meaning: str | None = None
    """The enhanced status code's title and meaning, when the reply carries one."""
    source: str = ""
    """RFC and section that define the code."""


def explain_code(code: int) -> CodeMeaning:
    """Return the meaning of a reply code; an unknown code is explained by its first digit."""
    entry = REPLY_CODES.get(code)
    if entry is not None:
        return CodeMeaning(code, entry.title, entry.meaning, entry.action, entry.source)
    fallback = CODE_CLASS_FALLBACK.get(code // 100)
    if fallback is None:
        return CodeMeaning(
            code,
            "Not an SMTP reply code",
            f"{code} is outside the range 200 to 599 that SMTP reply codes use.",
            "Check that the server speaks SMTP on this port.",
            "RFC 5321 section 4.2",
            known=False,
        )
    return CodeMeaning(
        code, fallback.title, fallback.meaning, fallback.action, fallback.source, known=False
    )


def explain_enhanced(status: str) -> StatusMeaning:
    """Return the meaning of an enhanced status code such as ``5.7.8``.

    An unregistered detail falls back to the subject, and an unknown subject to the class. A
    success code (class 2) gets a neutral meaning and no action, because the registered meanings
    describe failures.

    Raises:
        ValueError: ``status`` is not of the form class.subject.detail with class 2, 4 or 5.
    """
    match = _STATUS.match(status.strip())
    if match is None:
        raise ValueError(
            f"invalid enhanced status code {status!r}: expected class.subject.detail, e.g. 5.7.8"
        )
    klass, subject, detail = (int(part) for part in match.groups())
    class_title = STATUS_CLASSES[klass]
    subject_entry = STATUS_SUBJECTS.get(subject)
    subject_title = subject_entry[0] if subject_entry else "Unknown subject"
    detail_entry = STATUS_DETAILS.get((subject, detail))
    action = STATUS_ACTIONS.get((klass, subject, detail))
    if klass != 2:
        action = action or STATUS_ACTIONS.get((0, subject, detail))
    if detail_entry is not None:
        title, meaning, source = detail_entry
        if klass == 2 and (subject, detail) not in SUCCESS_DETAILS:
            meaning = SUCCESS_SUBJECTS[subject]
        return StatusMeaning(status, class_title, subject_title, title, meaning, action, source)
    if subject_entry is not None:
        return StatusMeaning(
            status,
            class_title,
            subject_title,
            subject_title,
            SUCCESS_SUBJECTS[subject] if klass == 2 else subject_entry[1],
            action,
            "RFC 3463 section 3",
            known=False,
        )
    return StatusMeaning(
        status,
        class_title,
        subject_title,
        class_title,
        CLASS_MEANINGS[klass],
        action,
        "RFC 3463 section 3.1",
        known=False,
    )


def _verb_entry(code: int, last_verb: str | None, text: str) -> CodeEntry | None:
    if code == 530 and "STARTTLS" in text.upper():
        # "530 Must issue a STARTTLS command first" means the same after any command.
        return VERB_SPECIFIC[(530, "STARTTLS-FIRST")]
    if last_verb is None:
        return None
    verb = _VERB_ALIASES.get(last_verb.upper(), last_verb.upper())
    return VERB_SPECIFIC.get((code, verb))


def explain(reply: Reply, *, host: str | None = None, last_verb: str | None = None) -> Explanation:
    """Explain ``reply`` in plain words.

    Args:
        reply: the reply to explain.
        host: the server's host name; it selects provider hints (for example, a host under
            ``amazonaws.com`` gets AWS SES hints for a bare 535).
        last_verb: the command the reply is for, as ``verb_of`` returns it (``EHLO``,
            ``MAIL FROM``, ``DATA``), ``DATA-END`` or ``.`` for the reply after the final ``.``,
            and ``GREETING`` or ``<greeting>`` for the first reply.
    """
    base = explain_code(reply.code)
    specific = _verb_entry(reply.code, last_verb, reply.text)
    meaning = specific.meaning if specific else base.meaning
    action = specific.action if specific else base.action

    enhanced_meaning = None
    if reply.enhanced_status is not None:
        status = explain_enhanced(reply.enhanced_status)
        enhanced_meaning = f"{status.status} {status.title}: {status.meaning}"
        if status.action and not specific:
            action = status.action
    return Explanation(
        code=reply.code,
        enhanced_status=reply.enhanced_status,
        meaning=meaning,
        action=action,
        provider_hint=provider_hint(reply, host=host, last_verb=last_verb),
        enhanced_meaning=enhanced_meaning,
        source=specific.source if specific else base.source,
    )
