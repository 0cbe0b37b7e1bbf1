"""The dialogue's phase and a read-only snapshot of its state.

The dialogue owns and changes the state. The pre-send advice and the suggestions read only the
snapshot, so they never import the dialogue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from smtpconsole.protocol.capabilities import Capabilities


class Phase(enum.Enum):
    """The point the dialogue has reached, judged by the replies received so far."""

    CONNECTING = "connecting"
    """Connected or connecting, no greeting received yet."""
    GREETED = "greeted"
    """The server greeted us (or TLS just started); EHLO or HELO comes next."""
    READY = "ready"
    """EHLO or HELO was accepted and no mail transaction is open."""
    TLS_PENDING = "tls pending"
    """STARTTLS got 220; the TLS handshake must happen before anything else is sent."""
    AUTH_EXCHANGE = "auth exchange"
    """AUTH got 334; the server waits for a base64 response (or ``*`` to cancel)."""
    MAIL = "mail"
    """MAIL FROM was accepted; recipients come next."""
    RCPT = "rcpt"
    """At least one RCPT TO was accepted; DATA or BDAT can follow."""
    DATA = "data"
    """DATA got 354; lines sent now are message lines until a line holding only ``.``."""
    CLOSED = "closed"
    """QUIT was accepted, the server sent 421, or the connection closed."""


@dataclass(frozen=True)
class DialogueView:
    """The dialogue's state at one moment, as the pre-send advice and the suggestions read it."""

    phase: Phase
    capabilities: Capabilities | None
    tls_active: bool
    authenticated: bool
    greeting_rejected: bool
    """True when the greeting was 554, so the server accepts only QUIT."""
    last_pending_verb: str | None
    """The verb of the newest line still waiting for a reply; ``None`` when no line waits."""
    hello_done: bool
    """True when EHLO or HELO was accepted or still waits for its reply."""
    transaction_open: bool
    """True when MAIL was accepted, or was sent and its reply is still pending."""
    has_recipient: bool
    """True when a RCPT TO was accepted, or was sent in an open transaction and still waits."""
    bdat_used: bool
    """True when the current mail transaction sent BDAT, after which DATA may not follow (RFC 3030
    section 3)."""
    in_data: bool
    """True when lines sent now are message lines: after 354 and before the final ``.``."""
    in_headers: bool
    """True while the message lines sent so far are header fields (no empty line yet)."""
    headers_seen: frozenset[str]
    """Lower-case names of the header fields sent in the current message."""
