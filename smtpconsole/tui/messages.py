"""Textual messages that carry session and practice-server news to the widgets.

Widget-specific messages live in their widget class; these are the ones the app posts to itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from smtpconsole.transcript import Event


class EventsReceived(Message):
    """Transcript events gathered since the last batch, oldest first."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


class SessionChanged(Message):
    """The session's state may have changed: redraw the status bar and the builder.

    Only the newest one matters, so a queued one is replaced.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SessionChanged)


class MailboxChanged(Message):
    """The practice server accepted a message; only the newest one in the queue matters."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MailboxChanged)


class ConnectionFailed(Message):
    """Connecting, a TLS handshake or a command failed; the pane offers a reconnect if needed."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        tls_info: object = None,
        *,
        connection_open: bool = False,
        reported: bool = False,
    ) -> None:
        super().__init__()
        self.message = message
        self.hint = hint
        self.tls_info = tls_info
        """``tls.TlsInfo`` of the failed handshake when the failure was certificate verification."""
        self.connection_open = connection_open
        """True when the connection survived (a read timeout), so no reconnect is needed."""
        self.reported = reported
        """True when the transcript already shows the failure (``TlsFailed``) with its hint."""
