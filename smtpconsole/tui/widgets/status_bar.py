"""The status bar: phase, security, authentication, time since the last reply and the target.

The fields are in order of importance. When the bar is too narrow for all of them, it drops or
shortens the least important ones first, so the phase, TLS and AUTH state stay visible.
"""

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
    security_brief: str = ""
    """``security`` without the cipher, for a narrow bar, or empty without TLS."""
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
    security_brief = ""
    if info is None:
        security = "plain"
    else:
        check = "verified" if info.verified else "NOT VERIFIED"
        if insecure:
            check = "NOT VERIFIED (insecure)"
        security = f"{info.version} {info.cipher} {check}"
        security_brief = f"{info.version} {check}"
    dialogue = session.dialogue
    # A dialogue keeps its AUTH result after the server closes, but a new connection starts
    # unauthenticated, so the status shows the result only while connected.
    connected = not session.closed and dialogue.phase.name != "CLOSED"
    authenticated = connected and dialogue.authenticated
    return SessionStatus(
        target=target,
        security=security,
        security_brief=security_brief,
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


StatusField = list[tuple[str, str]]
"""One status field as (text, Rich style) pieces."""

FIELD_SEPARATOR = " │ "

STATUS_REDUCTIONS = (
    "drop target",
    "drop idle keepalive",
    "drop cipher",
    "drop last reply",
    "drop keepalive",
    "shorten auth",
)
"""Steps applied in order, one more each time the fields do not fit the bar's width.

The target goes first because the header shows it too. The keepalive goes early while it is off,
because "off" is the default. Phase, TLS and AUTH state are only ever shortened.
"""


def status_fields(
    status: SessionStatus, since_last_reply: str, reductions: int = 0
) -> list[StatusField]:
    """Build the status fields in display order, with the first ``reductions`` steps applied.

    Args:
        status: the session state to show.
        since_last_reply: the time since the last reply, as the bar words it.
        reductions: how many steps of ``STATUS_REDUCTIONS`` to apply.
    """
    applied = set(STATUS_REDUCTIONS[:reductions])
    security_style = "bold"
    if status.insecure or status.verified is False:
        security_style = "bold reverse red"
    elif status.verified:
        security_style = "bold green"
    security = status.security if status.connected else "not connected"
    if "drop cipher" in applied and status.connected and status.security_brief:
        security = status.security_brief
    authenticated = status.auth == "authenticated"
    auth = status.auth
    if "shorten auth" in applied:
        auth = "AUTH ok" if authenticated else "no AUTH"

    fields: list[StatusField] = [
        [(status.phase, "bold")],
        [(security, security_style)],
        [(auth, "green" if authenticated else "")],
    ]
    if "drop last reply" not in applied:
        fields.append([("last reply ", "dim"), (since_last_reply, "")])
    keepalive_dropped = "drop keepalive" in applied or (
        "drop idle keepalive" in applied and status.keepalive is None
    )
    if not keepalive_dropped:
        fields.append([("NOOP ", "dim"), (_describe_keepalive(status.keepalive), "")])
    if "drop target" not in applied:
        fields.append([(status.target, "bold")])
    return fields


def fields_width(fields: list[StatusField]) -> int:
    """Return the cells the fields take with their separators and a space at each end."""
    text = FIELD_SEPARATOR.join("".join(piece for piece, _ in field) for field in fields)
    return Text(f" {text} ").cell_len


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
        since = self.since_last_reply()
        width = self.size.width
        fields = status_fields(self.status, since)
        for reductions in range(1, len(STATUS_REDUCTIONS) + 1):
            if fields_width(fields) <= width:
                break
            fields = status_fields(self.status, since, reductions)
        parts: list[tuple[str, str]] = [(" ", "")]
        for index, field in enumerate(fields):
            if index:
                parts.append((FIELD_SEPARATOR, "dim"))
            parts.extend(field)
        # Narrower than even the shortest fields: the ellipsis shows that the line is cut.
        return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")
