"""Transcript events of a session, the one redaction function, display lines and exports.

The transcript keeps every event as it happened, secrets included, so that an export with
``reveal=True`` is complete. Everything shown or written passes through ``redact`` first unless the
user asks to reveal: ``format_event``, ``export_text`` and ``export_jsonl`` all call it.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

from smtpconsole.protocol.dialogue import Advice
from smtpconsole.protocol.replies import Reply, decode_text
from smtpconsole.tls import CertificateInfo, TlsInfo

logger = logging.getLogger(__name__)

LineSource = Literal["typed", "builder", "auto", "keepalive", "auth", "data"]
"""Origin of a sent line: the user's raw input, the command builder, the session's automatic
steps on connect, the keepalive timer, the SASL exchange, or a message payload."""

MASK: Final = "********"
"""Replaces a secret in everything shown or exported."""

PREVIEW_BYTES: Final = 200
"""Maximum discarded bytes shown in a ``BytesDiscarded`` display line."""

# C0 controls except TAB, DEL and the C1 controls: a server could move the cursor or change the
# terminal with them, so display lines show them as \xNN.
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _now() -> float:
    return time.time()


@dataclass(frozen=True)
class Connecting:
    """The session started to connect."""

    host: str
    port: int
    security: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class Connected:
    """The TCP connection (and, with implicit TLS, the handshake) succeeded."""

    peer: str
    local: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class LineSent:
    """Bytes sent to the server, CRLF included; a payload of several lines for source ``data``."""

    raw: bytes
    source: LineSource
    secret: bool = False
    at: float = field(default_factory=_now)
    chunk: bool = False
    """True for octets of a BDAT chunk: the server replies to the BDAT line, not to these."""


@dataclass(frozen=True)
class ReplyReceived:
    """A complete reply; ``latency`` is the seconds since the line it answers was sent.

    ``latency`` is None for the greeting and for replies that no sent line was waiting for.
    """

    reply: Reply
    latency: float | None = None
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class MalformedReply:
    """Bytes that do not parse as a reply.

    The console and the line mode read on after them; ``run`` and ``send`` end the connection.
    """

    raw: bytes
    message: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class TlsStarted:
    """The TLS handshake succeeded (implicit TLS or STARTTLS)."""

    info: TlsInfo
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class TlsFailed:
    """The TLS handshake failed; ``info`` contains the certificate seen, when it could be fetched."""

    message: str
    info: TlsInfo | None = None
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class BytesDiscarded:
    """Received bytes thrown away unread, such as plaintext sent before the STARTTLS handshake."""

    raw: bytes
    reason: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class AdviceGiven:
    """Advice from the dialogue about a line about to be sent or a reply received."""

    advice: Advice
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class Note:
    """A remark by the session, such as a keepalive firing or a read that timed out."""

    text: str
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class ConnectionClosed:
    """The connection ended; ``error`` contains the exception text when it broke."""

    reason: str
    error: str | None = None
    at: float = field(default_factory=_now)


Event = (
    Connecting
    | Connected
    | LineSent
    | ReplyReceived
    | MalformedReply
    | TlsStarted
    | TlsFailed
    | BytesDiscarded
    | AdviceGiven
    | Note
    | ConnectionClosed
)
"""Any transcript event."""

Listener = Callable[[Event], None]


def redact(event: Event, reveal: bool = False) -> Event:
    """Return ``event`` with its secrets masked, or unchanged when ``reveal`` is True.

    A secret line starting with ``AUTH`` keeps the verb and the mechanism name
    (``AUTH PLAIN ********``); any other secret line, such as a response to a 334 challenge,
    becomes ``********``.
    """
    if reveal or not isinstance(event, LineSent) or not event.secret:
        return event
    return replace(event, raw=_mask_line(event.raw))


def _mask_line(raw: bytes) -> bytes:
    words = raw.rstrip(b"\r\n").split(b" ", 2)
    if words[0].upper() == b"AUTH" and len(words) >= 2:
        kept = b" ".join(words[:2])
        if len(words) == 3:
            kept += b" " + MASK.encode()
        return kept + b"\r\n"
    return MASK.encode() + b"\r\n"


def escape_controls(text: str) -> str:
    """Return ``text`` with control characters other than TAB shown as ``\\xNN``."""
    return _CONTROL_CHARS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _raw_lines(raw: bytes) -> list[str]:
    """Split raw protocol bytes into display lines without their line ends."""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [escape_controls(decode_text(line.removesuffix(b"\r"))) for line in lines]


def format_event(event: Event, reveal: bool = False) -> list[str]:
    """Return the display lines of one event: ``C:`` sent, ``S:`` received, ``--`` remarks,
    ``==`` TLS boundaries and ``!!`` problems. Secrets are masked unless ``reveal`` is True.
    """
    event = redact(event, reveal)
    match event:
        case LineSent(raw=raw, source=source):
            suffix = "   [keepalive]" if source == "keepalive" else ""
            lines = _raw_lines(raw) or [""]
            return [f"C: {line}" for line in lines[:-1]] + [f"C: {lines[-1]}{suffix}"]
        case ReplyReceived(reply=reply):
            return _format_reply(reply)
        case MalformedReply(raw=raw, message=message):
            # The bad lines come first, so that the problem follows what it is about.
            return [f"S: {line}" for line in _raw_lines(raw)] + [f"!! malformed reply: {message}"]
        case TlsStarted(info=info):
            return _format_tls_started(info)
        case TlsFailed(message=message, info=info):
            return _format_tls_failed(message, info)
        case BytesDiscarded(raw=raw, reason=reason):
            preview = escape_controls(decode_text(raw[:PREVIEW_BYTES]))
            more = f" (first {PREVIEW_BYTES} shown)" if len(raw) > PREVIEW_BYTES else ""
            return [f"!! discarded {len(raw)} bytes: {reason}", f"!! bytes{more}: {preview!r}"]
        case AdviceGiven(advice=advice):
            return [f"-- {advice.level}: {escape_controls(advice.text)}"]
        case Note(text=text):
            return [f"-- {escape_controls(line)}" for line in text.splitlines() or [""]]
        case Connecting(host=host, port=port, security=security):
            return [f"-- connecting to {_address(host, port)} ({security})"]
        case Connected(peer=peer, local=local):
            return [f"-- connected to {peer} from {local}"]
        case ConnectionClosed(reason=reason, error=error):
            return [f"-- connection closed: {reason}" + (f" ({error})" if error else "")]
    raise TypeError(f"not a transcript event: {event!r}")


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _format_reply(reply: Reply) -> list[str]:
    lines = [f"S: {escape_controls(line)}" for line in reply.format_lines()]
    if reply.truncated:
        lines.append("!! reply truncated: a line or the line count exceeded the limit")
    if reply.missing_crlf:
        lines.append("!! the last line had no CRLF: the connection closed after it")
    return lines


def _format_tls_started(info: TlsInfo) -> list[str]:
    if info.verified:
        state = f"certificate verified for {info.server_name}"
    else:
        state = "certificate NOT verified"
    lines = [f"== TLS started: {info.version} {info.cipher}, {state}"]
    if info.leaf is not None:
        lines.append(f"== peer: {info.leaf.subject}, issuer {info.leaf.issuer}")
    return lines


def _format_tls_failed(message: str, info: TlsInfo | None) -> list[str]:
    first, *rest = message.splitlines() or [""]
    lines = [f"!! TLS failed: {first}"] + [f"!! {line}" for line in rest]
    if info is not None:
        for number, cert in enumerate(info.chain):
            lines.append(f"!! certificate {number}:")
            lines += [f"!!   {line}" for line in cert.describe()]
        if info.chain and not info.chain_complete:
            lines.append("!! only the server's own certificate is available, not its chain")
    return lines


def _format_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]


class Transcript:
    """The events of one session in order, calling its listeners with each new event."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._listeners: list[Listener] = []

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def append(self, event: Event) -> None:
        """Add ``event`` and pass it to every listener, in the order they subscribed."""
        self.events.append(event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                # A broken view must not stop the session or the other listeners.
                logger.exception(
                    "transcript listener %r failed on %s", listener, type(event).__name__
                )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each later event; return a function that unsubscribes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def text_lines(self, reveal: bool = False) -> list[str]:
        """Return the whole transcript as display lines, each led by its UTC time."""
        lines: list[str] = []
        for event in self.events:
            stamp = _format_time(event.at)
            lines += [f"{stamp} {line}" for line in format_event(event, reveal)]
        return lines

    def export_text(self, path: str | Path, reveal: bool = False) -> Path:
        """Write the display lines to ``path`` (mode 0600, replaced atomically); return the path."""
        text = "\n".join(self.text_lines(reveal)) + "\n"
        return write_private(Path(path), text.encode("utf-8"))

    def export_jsonl(self, path: str | Path, reveal: bool = False) -> Path:
        """Write one JSON object per event to ``path`` (mode 0600, replaced atomically).

        Raw bytes are stored as base64 under ``raw_base64`` beside their decoded ``text``.
        """
        import json

        lines = [json.dumps(event_to_json(event, reveal), ensure_ascii=False) for event in self]
        return write_private(Path(path), ("\n".join(lines) + "\n").encode("utf-8"))


def event_to_json(event: Event, reveal: bool = False) -> dict[str, object]:
    """Return ``event``, redacted unless ``reveal``, as a JSON-ready dict with a ``type`` key."""
    event = redact(event, reveal)
    data: dict[str, object] = {
        "type": type(event).__name__,
        "at": event.at,
        "time": datetime.fromtimestamp(event.at, UTC).isoformat(),
    }
    for item in fields(event):
        if item.name != "at":
            data.update(_json_field(item.name, getattr(event, item.name)))
    return data


def _json_field(name: str, value: object) -> dict[str, object]:
    if isinstance(value, bytes):
        return {
            f"{name}_base64": base64.b64encode(value).decode("ascii"),
            "text": decode_text(value),
        }
    return {name: _json_value(value)}


def _json_value(value: object) -> object:
    if isinstance(value, Reply):
        return {
            "code": value.code,
            "lines": list(value.lines),
            "raw_base64": base64.b64encode(value.raw).decode("ascii"),
            "enhanced_status": value.enhanced_status,
            "truncated": value.truncated,
            "missing_crlf": value.missing_crlf,
        }
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, TlsInfo | CertificateInfo | Advice) and is_dataclass(value):
        return {item.name: _json_value(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, tuple | list):
        return [_json_value(item) for item in value]
    return value


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` readable by the owner only, through a temporary file and rename."""
    import tempfile

    path = path.expanduser()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
