"""Messages the practice server accepted, kept in memory with warnings about their headers.

The server adds messages from its own thread while a front end reads them from another, so every
method takes the mailbox lock. Subscribers are called in the server thread: a Textual app must hop
back to its own thread (``App.call_from_thread``) before touching widgets.
"""

from __future__ import annotations

import email.parser
import email.policy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from smtpconsole.protocol.message import check_message

log = logging.getLogger(__name__)

MAX_MESSAGES: Final = 200
"""Maximum number of messages kept; the oldest go first, so a looping client cannot exhaust memory."""


@dataclass(frozen=True)
class StoredMessage:
    """One message accepted after ``DATA``, as the server received it."""

    message_id: str
    """The id sent in the ``250 Ok <id>`` reply."""
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    """The message after dot-stuffing was undone, line ends as sent."""
    peer: str
    """Client address and port, such as ``127.0.0.1:50412``."""
    username: str | None
    """The user that authenticated on this connection, if any."""
    tls: bool
    """True when the message arrived over TLS."""
    received_at: float = field(default_factory=time.time)
    warnings: tuple[str, ...] = ()
    """Header problems found in the message, such as a missing ``Date`` or a ``Subjet:`` typo."""

    @property
    def subject(self) -> str:
        """The ``Subject`` header, or an empty string when there is none."""
        return _header(self.raw, "Subject")

    @property
    def size(self) -> int:
        return len(self.raw)

    def summary(self) -> str:
        """Return one line naming the id, envelope, subject and size."""
        recipients = ", ".join(self.rcpt_to)
        subject = self.subject or "(no subject)"
        return (
            f"{self.message_id}: {self.mail_from} -> {recipients}, "
            f"subject {subject!r}, {self.size} bytes"
        )


def _header(raw: bytes, name: str) -> str:
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    value = parser.parsebytes(raw).get(name)
    return "" if value is None else str(value)


def header_warnings(raw: bytes) -> tuple[str, ...]:
    """Return the warnings of ``check_message`` (headers, line lengths, raw 8-bit headers) as text.

    The practice server does not offer SMTPUTF8, so non-ASCII bytes in a header are reported.
    """
    return tuple(warning.text for warning in check_message(raw))


Listener = Callable[[StoredMessage], None]


class Mailbox:
    """Thread-safe list of accepted messages, oldest first, with listeners for new ones."""

    def __init__(self, max_messages: int = MAX_MESSAGES) -> None:
        self._lock = threading.Lock()
        self._messages: list[StoredMessage] = []
        self._listeners: list[Listener] = []
        self.max_messages = max_messages

    def add(self, message: StoredMessage) -> None:
        """Store ``message`` and call every listener with it, in the caller's thread."""
        with self._lock:
            self._messages.append(message)
            del self._messages[: -self.max_messages]
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(message)
            except Exception:
                # A broken front end must not make the server reject mail it already accepted.
                log.exception("mailbox listener %r failed on %s", listener, message.message_id)

    def messages(self) -> list[StoredMessage]:
        """Return a copy of the stored messages, oldest first."""
        with self._lock:
            return list(self._messages)

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each message added from now on; return a function to stop."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe
