"""Incremental SMTP reply parser: feed bytes, get a ``Reply``, ``NEED_DATA`` or ``CLOSED``.

Grammar (RFC 5321 section 4.2)::

    Reply-line = *( Reply-code "-" [ textstring ] CRLF )
                 Reply-code [ SP textstring ] CRLF
    Reply-code = %x32-35 %x30-35 %x30-39

What we accept beyond the grammar, because real servers send it: a bare LF as the line end, any
second digit, and bytes that are not UTF-8 (decoded with ``\\xNN`` escapes, raw bytes kept). Memory is
bounded: a line over ``max_line_bytes`` is cut and flagged, and a reply over ``max_reply_lines``
lines keeps its first lines and its final line and is flagged, so an endless reply cannot exhaust
memory.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Final

from smtpconsole.protocol.errors import RemoteProtocolError

MAX_LINE_BYTES: Final = 8192
"""Longest reply line kept whole; RFC 5321 section 4.5.3.1.5 sets 512 octets, servers exceed it."""

MAX_REPLY_LINES: Final = 1000
"""Most lines of one reply that are kept; later lines are counted and dropped."""

# RFC 3463 section 2: status-code = class "." subject "." detail, class one of 2, 4, 5.
_ENHANCED_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


NEED_DATA: Final = _Sentinel("NEED_DATA")
"""Returned by ``next_reply`` when more bytes are needed to finish a reply."""

CLOSED: Final = _Sentinel("CLOSED")
"""Returned by ``next_reply`` after ``feed_eof`` once every buffered reply has been returned."""


@dataclass(frozen=True)
class Reply:
    """One complete server reply, possibly of several lines."""

    code: int
    """The three-digit reply code, such as 250."""
    lines: tuple[str, ...]
    """The text after the code and separator on each line, decoded as UTF-8 with ``\\xNN`` escapes."""
    raw: bytes
    """The bytes as received, line ends included; a cut line holds only its kept head."""
    enhanced_status: str | None = None
    """The RFC 3463 enhanced status code at the start of the first line, such as ``5.7.0``."""
    truncated: bool = False
    """True when a line was longer than the limit or lines past the limit were dropped."""
    missing_crlf: bool = False
    """True when the connection closed before the final line's line end."""

    @property
    def text(self) -> str:
        """The reply text, lines joined by newlines."""
        return "\n".join(self.lines)

    @property
    def code_class(self) -> int:
        """The first digit: 2 success, 3 intermediate, 4 transient failure, 5 permanent failure."""
        return self.code // 100

    @property
    def is_success(self) -> bool:
        return self.code_class == 2

    @property
    def is_intermediate(self) -> bool:
        return self.code_class == 3

    @property
    def is_error(self) -> bool:
        return self.code_class in (4, 5)

    def format_lines(self) -> list[str]:
        """Return the reply as display lines, ``250-...`` then ``250 ...``."""
        last = len(self.lines) - 1
        return [
            f"{self.code}{' ' if i == last else '-'}{line}" for i, line in enumerate(self.lines)
        ]


@dataclass(frozen=True)
class _Line:
    raw: bytes
    truncated: bool = False
    missing_crlf: bool = False


@dataclass(frozen=True)
class _ParsedLine:
    code: int
    final: bool
    text: str


def decode_text(data: bytes) -> str:
    """Decode server bytes as UTF-8, showing undecodable bytes as ``\\xNN``."""
    return data.decode("utf-8", errors="backslashreplace")


def _strip_line_end(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    if raw.endswith(b"\n"):
        return raw[:-1]
    return raw


def _parse_line(line: _Line) -> _ParsedLine:
    body = _strip_line_end(line.raw)
    code_bytes = body[:3]
    if len(code_bytes) < 3 or not code_bytes.isdigit():
        raise RemoteProtocolError(
            f"reply line does not start with a three-digit code: {decode_text(body[:40])!r}",
            raw=line.raw,
        )
    if code_bytes[:1] not in (b"2", b"3", b"4", b"5"):
        raise RemoteProtocolError(
            f"reply code {code_bytes.decode()} is outside 200-599 (RFC 5321 section 4.2)",
            raw=line.raw,
        )
    separator = body[3:4]
    if separator not in (b"", b" ", b"-"):
        raise RemoteProtocolError(
            f"expected a space or '-' after reply code {code_bytes.decode()}, "
            f"got {decode_text(separator)!r}",
            raw=line.raw,
        )
    return _ParsedLine(code=int(code_bytes), final=separator != b"-", text=decode_text(body[4:]))


def _enhanced_status(code: int, first_line: str) -> str | None:
    match = _ENHANCED_STATUS.match(first_line)
    if match is None or int(match.group(1)) != code // 100:
        return None
    return match.group(0)


class ReplyParser:
    """Split received bytes into SMTP replies, holding at most one line's limit of unparsed data."""

    def __init__(
        self, max_line_bytes: int = MAX_LINE_BYTES, max_reply_lines: int = MAX_REPLY_LINES
    ) -> None:
        self.max_line_bytes = max_line_bytes
        self.max_reply_lines = max_reply_lines
        self._buffer = bytearray()
        self._lines: deque[_Line] = deque()
        self._overlong_head: bytes | None = None
        self._current: list[tuple[_Line, _ParsedLine]] = []
        self._current_dropped = 0
        self._eof = False
        self.dropped_bytes = 0
        """Bytes of overlong lines that were discarded, over the life of the parser."""

    def feed(self, data: bytes) -> None:
        """Add received bytes. ``b""`` is ignored; call ``feed_eof`` when the peer closes."""
        if self._eof:
            raise RuntimeError("feed() called after feed_eof()")
        self._buffer += data
        self._split_lines()

    def feed_eof(self) -> None:
        """Record that the peer closed; an unterminated last line is parsed as it is."""
        if self._eof:
            return
        self._eof = True
        if self._overlong_head is not None:
            self._lines.append(_Line(self._overlong_head, truncated=True, missing_crlf=True))
            self._overlong_head = None
        elif self._buffer:
            self._lines.append(_Line(bytes(self._buffer), missing_crlf=True))
        self._buffer.clear()

    @property
    def partial(self) -> bool:
        """True when bytes of an unfinished reply are buffered."""
        return bool(self._buffer or self._lines or self._current or self._overlong_head)

    def take_buffered(self) -> bytes:
        """Remove and return every received byte not yet returned as a reply.

        The session calls this after a STARTTLS 220: bytes that arrived before the handshake did
        not come through TLS and must be discarded (RFC 3207 section 6).
        """
        parts = [line.raw for line, _ in self._current]
        parts += [line.raw for line in self._lines]
        if self._overlong_head is not None:
            parts.append(self._overlong_head)
        parts.append(bytes(self._buffer))
        self._current.clear()
        self._current_dropped = 0
        self._lines.clear()
        self._overlong_head = None
        self._buffer.clear()
        return b"".join(parts)

    def next_reply(self) -> Reply | _Sentinel:
        """Return the next complete reply, ``NEED_DATA`` or ``CLOSED``.

        Raises:
            RemoteProtocolError: a line is not a reply line, or the peer closed inside a reply.
                The bad bytes are dropped, so the next call continues with the following line.
        """
        while self._lines:
            line = self._lines.popleft()
            try:
                parsed = _parse_line(line)
                if self._current and parsed.code != self._current[0][1].code:
                    raise RemoteProtocolError(
                        f"reply code changed from {self._current[0][1].code} to {parsed.code} "
                        "inside one multi-line reply",
                    )
            except RemoteProtocolError as error:
                # The lines held so far belong to the broken reply, so they go with the error.
                held_raw = b"".join(held_line.raw for held_line, _ in self._current)
                self._current.clear()
                self._current_dropped = 0
                raise RemoteProtocolError(error.message, raw=held_raw + line.raw) from None
            # Keep room for the final line, so a reply never contains more than max_reply_lines.
            if len(self._current) < self.max_reply_lines - 1 or parsed.final:
                self._current.append((line, parsed))
            else:
                self._current_dropped += 1
            if parsed.final:
                return self._finish_reply()
        if self._eof:
            if self._current:
                raw = b"".join(line.raw for line, _ in self._current)
                self._current.clear()
                raise RemoteProtocolError(
                    "the connection closed in the middle of a multi-line reply", raw=raw
                )
            return CLOSED
        return NEED_DATA

    def _finish_reply(self) -> Reply:
        held = self._current
        dropped = self._current_dropped
        self._current = []
        self._current_dropped = 0
        code = held[0][1].code
        lines = tuple(parsed.text for _, parsed in held)
        return Reply(
            code=code,
            lines=lines,
            raw=b"".join(line.raw for line, _ in held),
            enhanced_status=_enhanced_status(code, lines[0]),
            truncated=dropped > 0 or any(line.truncated for line, _ in held),
            missing_crlf=held[-1][0].missing_crlf,
        )

    def _split_lines(self) -> None:
        buffer = self._buffer
        limit = self.max_line_bytes
        while True:
            end = buffer.find(b"\n")
            if self._overlong_head is not None:
                # Inside an overlong line: drop bytes until its line end.
                if end < 0:
                    self.dropped_bytes += len(buffer)
                    buffer.clear()
                    return
                self.dropped_bytes += end + 1
                del buffer[: end + 1]
                self._lines.append(_Line(self._overlong_head, truncated=True))
                self._overlong_head = None
                continue
            if end < 0:
                # A line of ``limit`` bytes plus CRLF is kept whole, so a buffer of ``limit + 1``
                # bytes may still end in time. One byte more makes the line overlong in any split.
                if len(buffer) > limit + 1:
                    self._overlong_head = bytes(buffer[:limit])
                    self.dropped_bytes += len(buffer) - limit
                    buffer.clear()
                return
            content_end = end - 1 if end > 0 and buffer[end - 1] == 0x0D else end
            if content_end > limit:
                self._lines.append(_Line(bytes(buffer[:limit]), truncated=True))
                self.dropped_bytes += end + 1 - limit
            else:
                self._lines.append(_Line(bytes(buffer[: end + 1])))
            del buffer[: end + 1]
