"""The status bar: target, security, authentication, phase and time since the last reply."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from smtpconsole.session import Session


class _Clock(Protocol):
    def __call__(self) -> float: ...


@dataclass(frozen=True)
class SessionStatus:
    """The state shown in the status bar, taken from the session after each batch of events."""

    target: str
    """``host:port`` of the server."""
    security: str = "not connected"
    """``plain``, or the TLS version and cipher with the verification result."""
    insecure: bool = False
    """True once the user chose to continue without certificate verification."""
    verified: bool | None = None
    """TLS verification result; None while the connection is plain."""
    auth: str = "not authenticated"
    phase: str = "-"
    connected: bool = False
    last_reply_at: float | None = None
    """``time.monotonic()`` of the last reply, as the session records it."""
    keepalive: float | None = None
    """Idle seconds before a keepalive NOOP, as the session uses them; None when it is off."""


def describe_session(session: Session, target: str) -> SessionStatus:
    """Build the status of ``session`` from its TLS details, dialogue phase and timers."""
    info = session.tls_info
    insecure = bool(session.insecure)
    if info is None:
        security = "plain"
    else:
        check = "verified" if info.verified else "NOT VERIFIED"
        if insecure:
            check = "NOT VERIFIED (insecure)"
        security = f"{info.version} {info.cipher} {check}"
    dialogue = session.dialogue
    # A dialogue keeps its AUTH result after the server closes, but a new connection starts
    # unauthenticated, so the status shows the result only while connected.
    connected = not session.closed and dialogue.phase.name != "CLOSED"
    authenticated = connected and dialogue.authenticated
    return SessionStatus(
        target=target,
        security=security,
        insecure=insecure,
        verified=None if info is None else bool(info.verified) and not insecure,
        auth="authenticated" if authenticated else "not authenticated",
        phase=dialogue.phase.name,
        connected=connected,
        last_reply_at=session.last_reply_at,
        keepalive=session.keepalive,
    )


def _describe_keepalive(seconds: float | None) -> str:
    if seconds is None:
        return "off"
    return f"every {seconds:g} s idle"


class StatusBar(Widget):
    """One line of session state; the time since the last reply is redrawn every second."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    status: reactive[SessionStatus] = reactive(SessionStatus(target="-"), layout=False)
    """The state shown; set by the app after each batch of session events."""

    def __init__(self, *, id: str | None = None, clock: _Clock = time.monotonic) -> None:
        super().__init__(id=id)
        self._clock = clock

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh, name="status clock")

    def since_last_reply(self) -> str:
        """Return the whole seconds since the last reply, or 'none yet' before the first one."""
        if self.status.last_reply_at is None:
            return "none yet"
        return f"{max(0, int(self._clock() - self.status.last_reply_at))} s ago"

    def render(self) -> Text:
        status = self.status
        security_style = "bold"
        if status.insecure or status.verified is False:
            security_style = "bold reverse red"
        elif status.verified:
            security_style = "bold green"
        parts: list[tuple[str, str]] = [
            (f" {status.target} ", "bold"),
            ("│ ", "dim"),
            (status.security if status.connected else "not connected", security_style),
            (" │ ", "dim"),
            (status.auth, "green" if status.auth == "authenticated" else ""),
            (" │ ", "dim"),
            (status.phase, "bold"),
            (" │ last reply ", "dim"),
            (self.since_last_reply(), ""),
            (" │ NOOP ", "dim"),
            (_describe_keepalive(status.keepalive), ""),
        ]
        return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")
