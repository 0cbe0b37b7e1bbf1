"""The client's view of one SMTP dialogue: its phase, the commands awaiting replies, and advice.

Rules of this file:

1. All phase logic lives here. The session reports what was sent (``line_sent``), what
   was received (``reply_received``) and what happened on the connection (``tls_started``,
   ``connection_closed``). The dialogue itself never sends or reads anything.
2. The dialogue advises and never blocks. ``check_line`` looks at a line before it is sent and
   changes nothing; the user may send any line whatever it returns.
3. The server's reply is what moves the phase. A command alone changes nothing until its reply
   arrives, so pipelined commands are matched with their replies in order (FIFO).

Theory of operation: every line sent outside DATA gets exactly one reply, so each sent line adds an
entry to ``pending`` and each reply removes the oldest entry. The greeting is the one reply with no
command before it. The pair (phase, verb of the matched entry) picks a row of ``_TRANSITIONS``,
and the reply code picks the next phase in that row, either by exact code (354) or by code class
(2 means any 2xx). A pair or code missing from the table leaves the phase as it is. Side effects
(capabilities, authentication, counters) and advice come after the table, in ``_after_reply``.
Two transitions do not depend on a command: a 421 reply closes the dialogue from any phase
(RFC 5321 section 3.8), and ``tls_started`` moves TLS_PENDING to GREETED.

When you change ``_TRANSITIONS``, update ``suggestions`` and the phase tests in
tests/protocol/test_dialogue.py to match.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import enum
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.commands import verb_of
from smtpconsole.protocol.replies import Reply, decode_text


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


AdviceLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Advice:
    """A note for the user about a line or a reply, returned only, so it blocks nothing."""

    level: AdviceLevel
    """``info`` explains, ``warning`` predicts a failure, ``error`` reports one."""
    text: str
    """One or two sentences for a learner, in plain words."""
    key: str
    """Stable id such as ``auth.before_starttls``, for tests and for muting a kind of advice."""


@dataclass(frozen=True)
class SentLine:
    """The dialogue's classification of a line that was sent."""

    verb: str
    """Upper-cased verb (``MAIL FROM``); ``""`` for message lines, AUTH responses, empty lines."""
    secret: bool
    """True for an AUTH line with an initial response and for every SASL response line."""
    data_line: bool
    """True for a line sent after DATA got 354, including the final ``.``."""
    ends_data: bool
    """True for the line holding only ``.`` that ends the message."""


@dataclass(frozen=True)
class Suggestion:
    """A command that makes sense in the current phase, for the builder and the completer."""

    verb: str
    """The command verb, such as ``MAIL FROM``; ``.`` ends DATA and ``*`` cancels AUTH."""
    template: str
    """An example line to edit before sending, such as ``MAIL FROM:<you@example.com>``."""
    reason: str
    """The reason the command makes sense now, in plain words."""
    recommended: bool
    """True for the usual next step; front ends show it first."""
    params: tuple[str, ...] = ()
    """ESMTP parameters the server offers for this command, such as ``SIZE=`` or ``SMTPUTF8``."""
    mechanisms: tuple[str, ...] = ()
    """SASL mechanisms the server offers, for AUTH."""


GREETING: Final = "<greeting>"
"""The key of the greeting in ``_TRANSITIONS``: the one reply that follows no command."""

END_OF_DATA: Final = "."
"""The pending entry for the line holding only ``.``, whose reply ends the mail transaction."""

BDAT_LAST: Final = "BDAT LAST"
"""The key of a ``BDAT <size> LAST`` command in ``_TRANSITIONS``; its 2xx ends the transaction."""

_P = Phase

# (phase, verb) -> {reply code or code class: next phase}. A code class is one digit: 2 means any
# 2xx reply that has no exact-code key in the same row.
_TRANSITIONS: Final[dict[tuple[Phase, str], dict[int, Phase]]] = {
    (_P.CONNECTING, GREETING): {2: _P.GREETED, 5: _P.GREETED, 4: _P.CLOSED},
    (_P.AUTH_EXCHANGE, "AUTH"): {334: _P.AUTH_EXCHANGE, 2: _P.READY, 4: _P.READY, 5: _P.READY},
    (_P.MAIL, "RCPT TO"): {250: _P.RCPT, 251: _P.RCPT},
    (_P.RCPT, "RCPT TO"): {250: _P.RCPT, 251: _P.RCPT},
    (_P.RCPT, "BDAT"): {2: _P.RCPT},
    (_P.RCPT, BDAT_LAST): {2: _P.READY},
    # RFC 5321 section 4.1.1.4: after the reply to the end of the data, successful or not, the
    # mail transaction is over.
    (_P.DATA, END_OF_DATA): {2: _P.READY, 4: _P.READY, 5: _P.READY},
}

# Commands whose replies move the phase the same way wherever the server accepts commands.
for _phase in (_P.GREETED, _P.READY, _P.MAIL, _P.RCPT):
    # RFC 5321 section 4.1.4: an accepted EHLO resets any mail transaction, like RSET. HELO is
    # treated the same way.
    _TRANSITIONS[(_phase, "EHLO")] = {250: _P.READY}
    _TRANSITIONS[(_phase, "HELO")] = {250: _P.READY}
    _TRANSITIONS[(_phase, "STARTTLS")] = {220: _P.TLS_PENDING}
    _TRANSITIONS[(_phase, "AUTH")] = {334: _P.AUTH_EXCHANGE}
    _TRANSITIONS[(_phase, "MAIL FROM")] = {250: _P.MAIL}
    # The server decides: after a 354 reply to DATA, message lines come next.
    _TRANSITIONS[(_phase, "DATA")] = {354: _P.DATA}
    _TRANSITIONS[(_phase, "RSET")] = {250: _P.GREETED if _phase is _P.GREETED else _P.READY}
    _TRANSITIONS[(_phase, "QUIT")] = {221: _P.CLOSED}
del _phase


def _next_phase(phase: Phase, key: str, code: int) -> Phase:
    row = _TRANSITIONS.get((phase, key))
    if row is None:
        return phase
    return row.get(code, row.get(code // 100, phase))


@dataclass(frozen=True)
class _Pending:
    """A sent line whose reply has not arrived yet."""

    verb: str
    key: str
    """The verb used in ``_TRANSITIONS``: differs from ``verb`` only for ``BDAT_LAST``."""
    auth_response: bool = False


# RFC 2920 section 3.1: these commands change state, so each can only be the last in a group.
# HELO, STARTTLS and AUTH change state too, so they are treated the same way.
_ENDS_PIPELINE_GROUP: Final = frozenset(
    {"EHLO", "HELO", "DATA", "VRFY", "EXPN", "TURN", "QUIT", "NOOP", "STARTTLS", "AUTH"}
)

_KNOWN_VERBS: Final = frozenset(
    {
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "DATA", "BDAT", "RSET",
        "NOOP", "VRFY", "EXPN", "HELP", "QUIT",
    }
)  # fmt: skip

# RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets, CRLF included. Extensions
# such as SIZE and DSN parameters may raise it, so going over is only worth a note.
MAX_COMMAND_LINE_OCTETS: Final = 512

# RFC 5322 section 2.1.1: a message line must be at most 998 characters, CRLF excluded. The check
# counts octets, so a UTF-8 line reaches the limit with fewer characters.
MAX_MESSAGE_LINE_OCTETS: Final = 998

_COMMON_HEADERS: Final = ("Subject", "From", "To", "Date", "Cc", "Reply-To", "Message-ID")

# Correct header names that look like a misspelled common header to difflib.
_VALID_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        *_COMMON_HEADERS, "Bcc", "Sender", "In-Reply-To", "References", "Comments", "Keywords",
        "Received", "Return-Path", "Resent-Date", "Resent-From", "Resent-Sender", "Resent-To",
        "Resent-Cc", "Resent-Bcc", "Resent-Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "Content-ID", "Content-Description",
        "Content-Language", "Importance", "Priority", "Organization", "User-Agent",
    )
)  # fmt: skip

# RFC 5322 section 3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126 (printable, no colon).
_HEADER_LINE: Final = re.compile(rb"([\x21-\x39\x3b-\x7e]+):")

# Base64 as a SASL response (RFC 4954 section 4), or "*" to cancel the exchange.
_SASL_RESPONSE: Final = re.compile(rb"\*|[A-Za-z0-9+/]*={0,2}")

# One ESMTP parameter of a MAIL or RCPT line: KEYWORD or KEYWORD=value.
_PARAM: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)(?:=(\S*))?")


def _info(text: str, key: str) -> Advice:
    return Advice("info", text, key)


def _warning(text: str, key: str) -> Advice:
    return Advice("warning", text, key)


def _error(text: str, key: str) -> Advice:
    return Advice("error", text, key)


class Dialogue:
    """The client's record of one SMTP dialogue, driven by the session.

    Args:
        tls_active: True when the connection is TLS from the start (implicit TLS, port 465).
    """

    def __init__(self, *, tls_active: bool = False) -> None:
        self.phase = Phase.CONNECTING
        self.capabilities: Capabilities | None = None
        """The last EHLO reply, parsed; ``None`` before EHLO, after HELO and after STARTTLS."""
        self.greeting: Reply | None = None
        self.tls_active = tls_active
        self.authenticated = False
        self.hello_verb: str | None = None
        """``EHLO`` or ``HELO`` once the server accepted one, else ``None``."""
        self.greeting_rejected = False
        """True when the greeting was 554: the server rejects the session and accepts only QUIT
        (RFC 5321 section 3.1)."""
        self.recipients_accepted = 0
        """RCPT TO commands accepted in the current mail transaction."""
        self.auth_mechanism: str | None = None
        """The mechanism of the last AUTH command sent."""
        self.last_matched_verb: str | None = None
        """The verb of the sent line that the last reply matched (``GREETING``, ``END_OF_DATA``
        or a command verb). ``None`` after an unsolicited reply."""
        self._pending: deque[_Pending] = deque()
        self._in_headers = True
        self._headers_seen: set[str] = set()
        """Lower-case names of the header fields sent in the current message."""

    # --- State as seen from outside -------------------------------------------------------------

    @property
    def pending(self) -> tuple[str, ...]:
        """Verbs of the sent lines still waiting for a reply, oldest first."""
        return tuple(entry.verb for entry in self._pending)

    @property
    def in_data(self) -> bool:
        """True when lines sent now are message lines: after 354 and before the final ``.``."""
        return self.phase is Phase.DATA and not any(
            entry.key == END_OF_DATA for entry in self._pending
        )

    @property
    def awaiting_auth_response(self) -> bool:
        """True after a 334 reply to AUTH, until a response line is sent."""
        return self.phase is Phase.AUTH_EXCHANGE and not any(
            entry.auth_response for entry in self._pending
        )

    def _pending_has(self, verb: str) -> bool:
        return any(entry.verb == verb for entry in self._pending)

    @property
    def _hello_done(self) -> bool:
        return self.hello_verb is not None or self._pending_has("EHLO") or self._pending_has("HELO")

    @property
    def _transaction_open(self) -> bool:
        """True when MAIL was accepted, or was sent and its reply is still pending."""
        return self.phase in (Phase.MAIL, Phase.RCPT) or self._pending_has("MAIL FROM")

    @property
    def _has_recipient(self) -> bool:
        return self.phase is Phase.RCPT or (self._transaction_open and self._pending_has("RCPT TO"))

    # --- Events from the session ----------------------------------------------------------------

    def line_sent(self, line: bytes) -> SentLine:
        """Record a line that was sent (without its CRLF) and classify it.

        Every line outside DATA adds a pending entry, because the server replies to every line,
        even an empty or unknown one. Inside DATA only the final ``.`` does. For BDAT, pass the
        command line only, never the chunk octets that follow it.

        NOTE: chunk octets typed as lines after a raw ``BDAT`` are taken as commands. The
        pending entries then stop lining up with the replies, which ``check_line`` warns about.
        """
        if self.in_data:
            return self._data_line_sent(line)
        if self._is_auth_response(line):
            self._pending.append(_Pending(verb="AUTH", key="AUTH", auth_response=True))
            return SentLine(verb="", secret=True, data_line=False, ends_data=False)

        verb = verb_of(line)
        words = line.split()
        key = verb
        if verb == "BDAT" and len(words) >= 3 and words[2].upper() == b"LAST":
            key = BDAT_LAST
        secret = False
        if verb == "AUTH":
            self.auth_mechanism = (
                words[1].decode("ascii", "replace").upper() if len(words) > 1 else None
            )
            secret = len(words) > 2
        self._pending.append(_Pending(verb=verb, key=key))
        return SentLine(verb=verb, secret=secret, data_line=False, ends_data=False)

    def _data_line_sent(self, line: bytes) -> SentLine:
        if line == b".":
            self._pending.append(_Pending(verb=END_OF_DATA, key=END_OF_DATA))
            return SentLine(verb="", secret=False, data_line=True, ends_data=True)
        if line == b"":
            self._in_headers = False
        elif self._in_headers:
            match = _HEADER_LINE.match(line)
            if match is not None:
                self._headers_seen.add(decode_text(match.group(1)).lower())
        return SentLine(verb="", secret=False, data_line=True, ends_data=False)

    def _is_auth_response(self, line: bytes) -> bool:
        """Tell whether ``line`` is a response to a SASL challenge rather than a command.

        After a 334 every line is a response. While AUTH itself still waits for its reply, a
        single word that is not a command verb is taken as a response sent ahead of the 334, so
        it is masked as a secret.
        """
        if self.phase is Phase.AUTH_EXCHANGE:
            return True
        if not self._pending or self._pending[-1].verb != "AUTH":
            return False
        words = line.split()
        return len(words) == 1 and verb_of(line) not in _KNOWN_VERBS

    def reply_received(self, reply: Reply) -> list[Advice]:
        """Match a reply with the oldest pending line, move the phase and return advice."""
        if self.phase is Phase.TLS_PENDING:
            # The server starts TLS right after its 220, so nothing may arrive in between.
            return [
                _warning(
                    f"Reply {reply.code} arrived after STARTTLS's 220 but before the TLS "
                    "handshake. It did not come through TLS, so it may be injected; ignore it.",
                    "tls.reply_before_handshake",
                )
            ]

        if self.greeting is None and self.phase is Phase.CONNECTING:
            entry = _Pending(verb=GREETING, key=GREETING)
        elif self._pending:
            entry = self._pending.popleft()
        else:
            self.last_matched_verb = None
            return self._unsolicited_reply(reply)
        self.last_matched_verb = entry.verb

        old_phase = self.phase
        self.phase = _next_phase(old_phase, entry.key, reply.code)
        advice = self._after_reply(entry, reply, old_phase)
        if self.phase is Phase.CLOSED:
            self._pending.clear()
        if reply.code == 421:
            # RFC 5321 section 3.8: 421 means the server closes the connection, whatever the
            # command was.
            self._close()
            advice.append(_server_closing(reply))
        return advice

    def _unsolicited_reply(self, reply: Reply) -> list[Advice]:
        if reply.code == 421:
            self._close()
            return [_server_closing(reply)]
        return [
            _warning(
                f"Unexpected reply {reply.code}: no command was waiting for a reply. The server "
                "may have replied twice, or sent it on its own (such as a timeout notice).",
                "reply.unsolicited",
            )
        ]

    def tls_started(self) -> list[Advice]:
        """Record that the TLS handshake succeeded.

        RFC 3207 section 4.2: both sides must forget what they learned before TLS, so
        capabilities and authentication are cleared and EHLO must be sent again. Called
        before the greeting (implicit TLS), it only sets ``tls_active``.
        """
        self.tls_active = True
        if self.phase is Phase.CONNECTING:
            return []
        self.phase = Phase.GREETED
        self.capabilities = None
        self.hello_verb = None
        self.authenticated = False
        self.recipients_accepted = 0
        discarded = len(self._pending)
        self._pending.clear()
        advice = [
            _info(
                "TLS is active. The server forgot the earlier EHLO and its capability list was "
                "cleared: send EHLO again to see what it offers over TLS.",
                "tls.ehlo_again",
            )
        ]
        if discarded:
            advice.append(
                _warning(
                    f"{discarded} line(s) went out in clear between STARTTLS and the handshake. "
                    "A correct server discards them without a reply. A reply to them now would "
                    "mean the server keeps plaintext commands across STARTTLS, an injection flaw.",
                    "tls.lines_before_handshake",
                )
            )
        return advice

    def connection_closed(self) -> None:
        """Record that the connection is gone; pending lines will get no reply."""
        self._close()

    def _close(self) -> None:
        self.phase = Phase.CLOSED
        self._pending.clear()

    # --- Side effects of replies ----------------------------------------------------------------

    def _after_reply(self, entry: _Pending, reply: Reply, old_phase: Phase) -> list[Advice]:
        """Update everything besides the phase after ``reply`` matched ``entry``."""
        if self.phase in (Phase.READY, Phase.GREETED) and old_phase in (
            Phase.MAIL,
            Phase.RCPT,
            Phase.DATA,
        ):
            self.recipients_accepted = 0
        handler = _REPLY_HANDLERS.get(entry.key)
        if handler is None:
            return []
        return handler(self, reply)

    def _greeting_received(self, reply: Reply) -> list[Advice]:
        self.greeting = reply
        if reply.code == 554:
            self.greeting_rejected = True
            return [
                _error(
                    "The server rejected the session in its greeting (554). It will reply 503 to "
                    "every command except QUIT, so send QUIT.",
                    "greeting.rejected",
                )
            ]
        if self.phase is Phase.CLOSED and reply.code != 421:
            return [
                _error(
                    f"The server is not available ({reply.code} greeting); try again later.",
                    "greeting.unavailable",
                )
            ]
        if reply.code not in (220, 421):
            return [
                _warning(
                    f"Greeting code {reply.code} is not the usual 220 or 554; the server may "
                    "not take commands.",
                    "greeting.unusual",
                )
            ]
        return []

    def _ehlo_replied(self, reply: Reply) -> list[Advice]:
        if reply.code != 250:
            if reply.code in (500, 502):
                return [
                    _info(
                        "The server does not know EHLO; fall back to HELO (no extensions).",
                        "ehlo.unsupported",
                    )
                ]
            return []
        self.capabilities = Capabilities.from_reply(reply)
        self.hello_verb = "EHLO"
        advice = [
            _warning(f"EHLO reply: {problem}", "ehlo.unparsed")
            for problem in self.capabilities.problems
        ]
        if self.capabilities.starttls and not self.tls_active:
            advice.append(
                _info(
                    "The server offers STARTTLS: upgrade to TLS before AUTH so the password "
                    "is not sent in clear.",
                    "ehlo.starttls_offered",
                )
            )
        return advice

    def _helo_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 250:
            self.capabilities = None
            self.hello_verb = "HELO"
        return []

    def _starttls_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 220:
            self.capabilities = None
            return [
                _info(
                    "STARTTLS accepted: the TLS handshake comes next. Capabilities cleared, "
                    "because what the server said in clear no longer counts.",
                    "starttls.capabilities_cleared",
                )
            ]
        return [
            _warning(
                f"STARTTLS was rejected ({reply.code}); the connection stays unencrypted.",
                "starttls.rejected",
            )
        ]

    def _auth_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 334:
            return [_challenge_advice(reply)]
        if reply.code == 235:
            self.authenticated = True
            return [_info("Authenticated: MAIL FROM comes next.", "auth.succeeded")]
        return [_auth_failure_advice(reply, self)]

    def _mail_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 250:
            self.recipients_accepted = 0
            return []
        if reply.code == 530:
            return [
                _warning("The server requires AUTH before MAIL FROM (530).", "mail.auth_required")
            ]
        return []

    def _rcpt_replied(self, reply: Reply) -> list[Advice]:
        if reply.code in (250, 251):
            self.recipients_accepted += 1
            return []
        if reply.code == 503:
            return [_warning("RCPT TO needs an accepted MAIL FROM first (503).", "rcpt.need_mail")]
        if reply.is_error:
            return [
                _info(
                    "This recipient was rejected; the transaction stays open for other recipients.",
                    "rcpt.rejected",
                )
            ]
        return []

    def _data_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 354:
            self._in_headers = True
            self._headers_seen = set()
            return [
                _info(
                    "Type the message: headers, an empty line, then the body. A line holding "
                    "only '.' ends the message.",
                    "data.started",
                )
            ]
        if reply.code in (503, 554) and self.recipients_accepted == 0:
            return [
                _warning(
                    f"DATA was rejected ({reply.code}): send RCPT TO and get a 250 first.",
                    "data.need_rcpt",
                )
            ]
        return []

    def _end_of_data_replied(self, reply: Reply) -> list[Advice]:
        if reply.is_success:
            return [
                _info(
                    "Message accepted; the transaction is done. Send MAIL FROM for another "
                    "message, or QUIT.",
                    "data.accepted",
                )
            ]
        return [
            _warning(
                f"The message was rejected ({reply.code}); the transaction is over.",
                "data.rejected",
            )
        ]

    def _bdat_replied(self, reply: Reply) -> list[Advice]:
        if reply.is_error:
            # RFC 3030 section 2: after a failed chunk the transaction has failed.
            return [
                _warning(
                    f"BDAT failed ({reply.code}); send RSET before trying again.", "bdat.failed"
                )
            ]
        return []

    # --- Advice before sending ------------------------------------------------------------------

    def check_line(self, line: bytes) -> list[Advice]:
        """Return advice on ``line`` (without CRLF) before it is sent; changes no state."""
        if self.phase is Phase.CLOSED:
            return [_warning("The connection is closed; no reply will come.", "closed")]
        if self.phase is Phase.TLS_PENDING:
            return [
                _warning(
                    "The TLS handshake must come first: this line would go out unencrypted "
                    "and break the handshake.",
                    "tls.pending",
                )
            ]
        if self.in_data:
            if line == b".":
                return _check_end_of_data(self._headers_seen)
            return _check_data_line(line, in_headers=self._in_headers)
        if self._is_auth_response(line):
            return _check_auth_response(line, in_exchange=self.phase is Phase.AUTH_EXCHANGE)
        return self._check_command(line)

    def _check_command(self, line: bytes) -> list[Advice]:
        verb = verb_of(line)
        text = line.decode("utf-8", errors="replace")
        advice: list[Advice] = []
        if self.phase is Phase.CONNECTING:
            advice.append(
                _warning(
                    "The server has not sent its greeting yet. Servers may reject a client "
                    "that talks first (early talker).",
                    "greeting.not_yet",
                )
            )
        if self.greeting_rejected and verb != "QUIT":
            advice.append(
                _warning(
                    "The server rejected the session in its greeting; it replies 503 to everything "
                    "except QUIT.",
                    "greeting.rejected",
                )
            )
        advice += self._check_pipelining(verb)
        if len(line) + 2 > MAX_COMMAND_LINE_OCTETS:
            advice.append(
                _info(
                    f"This line is {len(line) + 2} octets with CRLF; RFC 5321 allows 512 for a "
                    "command line unless an extension raises it.",
                    "line.too_long",
                )
            )
        check = _COMMAND_CHECKS.get(verb)
        if check is not None:
            advice += check(self, text)
        elif verb == "":
            advice.append(
                _warning("Empty line: the server will reply 500 (syntax error).", "line.empty")
            )
        elif verb not in _KNOWN_VERBS:
            advice.append(
                _info(
                    f"{verb} is not a standard SMTP command; the server will likely reply "
                    "500 or 502.",
                    "command.unknown",
                )
            )
        return advice

    def _check_pipelining(self, verb: str) -> list[Advice]:
        if not self._pending or self.phase is Phase.CONNECTING:
            return []
        last = self._pending[-1].verb
        if last in _ENDS_PIPELINE_GROUP:
            return [
                _warning(
                    f"{last} is still waiting for its reply and must be the last command of a "
                    "group: wait for the reply before sending more.",
                    "pipelining.after_group_end",
                )
            ]
        if self.capabilities is not None and not self.capabilities.pipelining:
            return [
                _info(
                    "A reply is still pending and the server did not offer PIPELINING: wait "
                    "for the reply before sending more.",
                    "pipelining.not_offered",
                )
            ]
        return []

    def _check_hello(self, text: str) -> list[Advice]:
        if len(text.split()) < 2:
            return [
                _warning(
                    "EHLO and HELO need your domain name (or [address]); without it the "
                    "server replies 501.",
                    "ehlo.missing_domain",
                )
            ]
        return []

    def _check_starttls(self, text: str) -> list[Advice]:
        if self.tls_active:
            return [
                _warning(
                    "TLS is already active; a second STARTTLS gets 503 (RFC 3207).",
                    "starttls.already_active",
                )
            ]
        if self.capabilities is None:
            return [
                _info(
                    "Send EHLO first: it shows whether the server offers STARTTLS.",
                    "starttls.before_ehlo",
                )
            ]
        if not self.capabilities.starttls:
            return [
                _warning(
                    "The server did not offer STARTTLS in its EHLO reply; expect 502 or 500.",
                    "starttls.not_offered",
                )
            ]
        return []

    def _check_auth(self, text: str) -> list[Advice]:
        words = text.split()
        caps = self.capabilities
        if self.authenticated:
            return [
                _warning(
                    "Already authenticated: a second AUTH gets 503 (RFC 4954 section 4).",
                    "auth.already_authenticated",
                )
            ]
        if self._transaction_open:
            return [
                _warning(
                    "AUTH is not allowed during a mail transaction; send RSET first "
                    "(RFC 4954 section 4).",
                    "auth.in_transaction",
                )
            ]
        if caps is None:
            return [_warning("Send EHLO before AUTH; expect 503 otherwise.", "auth.before_ehlo")]
        if caps.starttls and not self.tls_active:
            hidden = (
                ""
                if caps.auth
                else " It lists no AUTH yet, as servers that allow AUTH only over TLS do."
            )
            return [
                _warning(
                    "The server offers STARTTLS and the connection is not encrypted yet. Many "
                    "servers reply '530 Must issue a STARTTLS command first', and the "
                    "password would cross the network readable: send STARTTLS, then EHLO." + hidden,
                    "auth.before_starttls",
                )
            ]
        if not caps.auth:
            return [
                _warning(
                    "The server did not advertise AUTH in its EHLO reply; expect 502 or 503.",
                    "auth.not_advertised",
                )
            ]
        if len(words) < 2:
            return [_warning("AUTH needs a mechanism name, such as PLAIN.", "auth.no_mechanism")]
        mechanism = words[1].upper()
        if not caps.offers_mechanism(mechanism):
            offered = ", ".join(caps.auth_mechanisms) or "none"
            return [
                _warning(
                    f"The server does not offer {mechanism} (offered: {offered}); expect 504.",
                    "auth.mechanism_not_offered",
                )
            ]
        return []

    def _check_mail(self, text: str) -> list[Advice]:
        advice: list[Advice] = []
        if not self._hello_done:
            advice.append(
                _warning(
                    "Send EHLO (or HELO) before MAIL FROM; most servers reply 503.",
                    "mail.before_ehlo",
                )
            )
        if self._transaction_open:
            advice.append(
                _warning(
                    "A mail transaction is already open: a second MAIL FROM gets 503. Send "
                    "RSET first to start over.",
                    "mail.nested",
                )
            )
        caps = self.capabilities
        if caps is not None and caps.auth and not self.authenticated:
            advice.append(
                _info(
                    "The server advertises AUTH and you have not authenticated; many servers "
                    "reply 530 to MAIL FROM until you do.",
                    "mail.before_auth",
                )
            )
        address, params = _split_path(text, "FROM")
        if address is None:
            advice.append(_syntax_warning("MAIL FROM:<address>", "mail.syntax"))
        advice += _check_mail_params(caps, params, address or "")
        return advice

    def _check_rcpt(self, text: str) -> list[Advice]:
        advice: list[Advice] = []
        if not self._transaction_open:
            advice.append(
                _warning(
                    "RCPT TO needs an accepted MAIL FROM first; the server will reply 503.",
                    "rcpt.before_mail",
                )
            )
        address, params = _split_path(text, "TO")
        if address is None:
            advice.append(_syntax_warning("RCPT TO:<address>", "rcpt.syntax"))
        elif address == "":
            advice.append(
                _warning("RCPT TO needs an address; <> is only for MAIL FROM.", "rcpt.empty")
            )
        caps = self.capabilities
        for keyword, _ in params:
            if keyword in ("NOTIFY", "ORCPT") and (caps is None or not caps.dsn):
                advice.append(_not_offered(keyword, "DSN"))
        return advice

    def _check_data(self, text: str) -> list[Advice]:
        advice: list[Advice] = []
        if len(text.split()) > 1:
            advice.append(_warning("DATA takes no argument; expect 501.", "data.argument"))
        if not self._has_recipient:
            advice.append(
                _warning(
                    "DATA before an accepted RCPT TO: the server will reply 503 need RCPT.",
                    "data.before_rcpt",
                )
            )
        return advice

    def _check_bdat(self, text: str) -> list[Advice]:
        advice: list[Advice] = []
        if self.capabilities is None or not self.capabilities.chunking:
            advice.append(_not_offered("BDAT", "CHUNKING"))
        if not self._has_recipient:
            advice.append(
                _warning("BDAT before an accepted RCPT TO: expect 503.", "bdat.before_rcpt")
            )
        advice.append(
            _info(
                "BDAT must be followed at once by exactly the announced number of octets, "
                "CRLF line ends included; the message composer counts them for you.",
                "bdat.octets_follow",
            )
        )
        return advice

    def _check_argument_needed(self, text: str) -> list[Advice]:
        words = text.split()
        if len(words) < 2:
            return [
                _warning(
                    f"{words[0].upper()} needs an argument; the server will reply 501.",
                    "command.missing_argument",
                )
            ]
        return []

    # --- Suggestions ----------------------------------------------------------------------------

    def suggestions(self) -> list[Suggestion]:
        """Return the commands that make sense now, the usual next step marked recommended."""
        if self.phase in (Phase.CONNECTING, Phase.TLS_PENDING, Phase.CLOSED):
            return []
        if self.phase is Phase.AUTH_EXCHANGE:
            return [
                Suggestion("*", "*", "Cancel the AUTH exchange; the server replies 501.", False)
            ]
        if self.phase is Phase.DATA:
            return [
                Suggestion(".", ".", "A line holding only '.' ends the message and sends it.", True)
            ]
        if self.greeting_rejected:
            return [
                Suggestion("QUIT", "QUIT", "The server rejected the session; QUIT ends it.", True)
            ]
        if self.phase is Phase.GREETED:
            hello = _hello_suggestions(recommended=True, tls_active=self.tls_active)
            return [*hello, *self._common_suggestions()]
        return [*self._session_suggestions(), *self._common_suggestions()]

    def _session_suggestions(self) -> list[Suggestion]:
        result = self._security_suggestions() + self._transaction_suggestions()
        if self.phase is Phase.READY:
            result += _hello_suggestions(recommended=False, tls_active=self.tls_active)
        return result

    def _security_suggestions(self) -> list[Suggestion]:
        """Suggest STARTTLS and AUTH when offered and not done, outside a mail transaction."""
        caps = self.capabilities
        if caps is None or self.phase is not Phase.READY:
            return []
        result: list[Suggestion] = []
        offers_tls = caps.starttls and not self.tls_active
        if offers_tls:
            result.append(
                Suggestion(
                    "STARTTLS",
                    "STARTTLS",
                    "Encrypt the connection before sending a password or a message.",
                    True,
                )
            )
        if caps.auth and not self.authenticated:
            first_mechanism = caps.auth_mechanisms[0] if caps.auth_mechanisms else "PLAIN"
            result.append(
                Suggestion(
                    "AUTH",
                    f"AUTH {first_mechanism}",
                    "Log in with one of the mechanisms the server lists.",
                    not offers_tls,
                    mechanisms=caps.auth_mechanisms,
                )
            )
        return result

    def _transaction_suggestions(self) -> list[Suggestion]:
        """Suggest the next envelope step: MAIL FROM, RCPT TO, then DATA or BDAT."""
        caps = self.capabilities
        if self.phase is Phase.READY:
            offers_tls = caps is not None and caps.starttls and not self.tls_active
            waits_for_auth = caps is not None and caps.auth and not self.authenticated
            mail = Suggestion(
                "MAIL FROM",
                "MAIL FROM:<you@example.com>",
                "Start a message with the sender address (<> for a bounce).",
                not offers_tls and not waits_for_auth,
                params=_mail_params(caps),
            )
            return [mail]
        if self.phase not in (Phase.MAIL, Phase.RCPT):
            return []
        dsn = caps is not None and caps.dsn
        result = [
            Suggestion(
                "RCPT TO",
                "RCPT TO:<someone@example.com>",
                "Add a recipient; repeat for each one.",
                self.phase is Phase.MAIL,
                params=("NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;") if dsn else (),
            )
        ]
        if self.phase is Phase.RCPT:
            result.append(
                Suggestion("DATA", "DATA", "Send the message text after the server's 354.", True)
            )
        if self.phase is Phase.RCPT and caps is not None and caps.chunking:
            result.append(
                Suggestion(
                    "BDAT",
                    "BDAT 0 LAST",
                    "Send the message in chunks of counted octets (CHUNKING).",
                    False,
                )
            )
        return result

    def _common_suggestions(self) -> list[Suggestion]:
        result = []
        if self.phase in (Phase.MAIL, Phase.RCPT):
            result.append(
                Suggestion("RSET", "RSET", "Abort the current message and start over.", False)
            )
        result += [
            Suggestion("NOOP", "NOOP", "Check the connection is alive; changes nothing.", False),
            Suggestion(
                "VRFY", "VRFY user", "Ask whether a mailbox exists (often disabled).", False
            ),
            Suggestion("HELP", "HELP", "Ask the server for its list of commands.", False),
            Suggestion("QUIT", "QUIT", "End the session politely.", False),
        ]
        return result


def _hello_suggestions(*, recommended: bool, tls_active: bool) -> list[Suggestion]:
    if not recommended:
        ehlo_reason = "Ask for the extension list again."
    elif tls_active:
        ehlo_reason = "Greet the server again over TLS and get its list of extensions."
    else:
        ehlo_reason = "Introduce yourself and get the server's list of extensions."
    return [
        Suggestion("EHLO", "EHLO client.example.com", ehlo_reason, recommended),
        Suggestion("HELO", "HELO client.example.com", "Old greeting without extensions.", False),
    ]


def _mail_params(caps: Capabilities | None) -> tuple[str, ...]:
    if caps is None:
        return ()
    params: list[str] = []
    if caps.has("SIZE"):
        params.append("SIZE=")
    if caps.eightbitmime:
        params.append("BODY=8BITMIME")
    if caps.smtputf8:
        params.append("SMTPUTF8")
    if caps.dsn:
        params += ["RET=HDRS", "ENVID="]
    return tuple(params)


# --- Advice helpers --------------------------------------------------------------------------


def _server_closing(reply: Reply) -> Advice:
    return _error(
        f"The server is closing the connection ({reply.code}): {reply.text or 'no reason given'}",
        "reply.server_closing",
    )


def _syntax_warning(form: str, key: str) -> Advice:
    return _warning(f"Expected the form {form}; the server will likely reply 501.", key)


def _not_offered(parameter: str, extension: str) -> Advice:
    return _warning(
        f"{parameter} needs the {extension} extension, which the server did not offer in its EHLO "
        "reply; expect a 5xx reply (often 555 or 501).",
        f"param.{extension.split()[0].lower()}_not_offered",
    )


def _challenge_advice(reply: Reply) -> Advice:
    text = reply.lines[0].strip() if reply.lines else ""
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is not None and decoded and decoded.isascii() and decoded.decode().isprintable():
        decoded_note = f" The challenge decodes to {decoded.decode()!r}."
    elif text:
        decoded_note = ""
    else:
        decoded_note = " The challenge is empty."
    return _info(
        f"The server waits for your base64 response, or '*' to cancel.{decoded_note}",
        "auth.challenge",
    )


def _auth_failure_advice(reply: Reply, dialogue: Dialogue) -> Advice:
    hints = {
        530: "The server wants STARTTLS first: send STARTTLS, then EHLO, then AUTH.",
        535: "The credentials were rejected: check the user name and password (some providers "
        "need an app password or an SMTP-specific one).",
        534: "The mechanism is too weak or the provider wants another login method.",
        538: "This mechanism needs an encrypted connection: send STARTTLS first.",
        504: f"The server does not support the {dialogue.auth_mechanism or 'given'} mechanism.",
        501: "The exchange was cancelled or a response was not valid base64.",
        454: "Temporary authentication failure on the server side; try again later.",
    }
    hint = hints.get(reply.code, "See the explanation of the reply code.")
    return _warning(f"AUTH failed ({reply.code}). {hint}", "auth.failed")


def _check_auth_response(line: bytes, *, in_exchange: bool) -> list[Advice]:
    if in_exchange and verb_of(line) in _KNOWN_VERBS - {"AUTH"}:
        return [
            _warning(
                "The server waits for an AUTH response, so it will read this line as base64, "
                "not as a command. Send '*' to cancel the exchange first.",
                "auth.command_during_exchange",
            )
        ]
    if not _SASL_RESPONSE.fullmatch(line.strip()):
        return [
            _warning(
                "The server expects a base64 response (or '*' to cancel); this line is not "
                "base64 and will get 501.",
                "auth.response_not_base64",
            )
        ]
    return []


def _check_end_of_data(headers_seen: set[str]) -> list[Advice]:
    advice = [_info("This line ends the message and sends it.", "data.end")]
    # RFC 5322 section 3.6: every message must have a From and a Date header field.
    if "from" not in headers_seen:
        advice.append(
            _warning(
                "The message has no From: header. RFC 5322 requires one, and many servers "
                "reject a message without it.",
                "data.missing_from",
            )
        )
    if "date" not in headers_seen:
        advice.append(
            _info(
                "The message has no Date: header. RFC 5322 requires one; some submission "
                "servers add it, others reject the message.",
                "data.missing_date",
            )
        )
    return advice


def _check_data_line(line: bytes, *, in_headers: bool) -> list[Advice]:
    advice: list[Advice] = []
    # A line starting with ".." is taken as already doubled: the server keeps one dot.
    if line.startswith(b".") and not line.startswith(b".."):
        advice.append(
            _warning(
                "A message line starting with '.' loses that dot: the server removes one "
                "leading dot (RFC 5321 section 4.5.2). Double it ('..'); a line holding only "
                "'.' ends the message.",
                "data.leading_dot",
            )
        )
    if len(line) > MAX_MESSAGE_LINE_OCTETS:
        advice.append(
            _warning(
                f"This line is {len(line)} octets; RFC 5322 allows at most 998 per line.",
                "data.line_too_long",
            )
        )
    if in_headers and line:
        advice += _check_header_line(line)
    return advice


def _check_header_line(line: bytes) -> list[Advice]:
    if line[:1] in (b" ", b"\t"):
        return []  # A folded continuation of the previous header.
    match = _HEADER_LINE.match(line)
    if match is None:
        return [
            _warning(
                "This line is not a 'Name: value' header, yet no empty line has ended the "
                "headers. Send an empty line before the body text.",
                "data.not_a_header",
            )
        ]
    name = decode_text(match.group(1))
    if name.lower() in _VALID_HEADERS or name.lower().startswith("x-"):
        return []
    close = difflib.get_close_matches(
        name.lower(), [header.lower() for header in _COMMON_HEADERS], n=1, cutoff=0.75
    )
    if not close:
        return []
    intended = next(header for header in _COMMON_HEADERS if header.lower() == close[0])
    return [
        _warning(
            f"Header '{name}:' looks like a misspelling of '{intended}:'. Mail clients will "
            f"not show it as {intended}.",
            "data.header_misspelled",
        )
    ]


def _split_path(text: str, keyword: str) -> tuple[str | None, list[tuple[str, str | None]]]:
    """Split ``MAIL FROM:<addr> params`` into the address and parameters.

    Returns ``None`` as the address when the line does not have the ``FROM:<...>`` form.
    """
    match = re.match(rf"\s*\S+\s+{keyword}:\s*<([^>]*)>(.*)", text, re.IGNORECASE)
    if match is None:
        return None, []
    params: list[tuple[str, str | None]] = []
    for word in match.group(2).split():
        param = _PARAM.fullmatch(word)
        if param is not None:
            params.append((param.group(1).upper(), param.group(2)))
    return match.group(1), params


def _check_mail_params(
    caps: Capabilities | None, params: list[tuple[str, str | None]], address: str
) -> list[Advice]:
    advice: list[Advice] = []
    keywords = {keyword for keyword, _ in params}
    required = {
        "SIZE": "SIZE",
        "SMTPUTF8": "SMTPUTF8",
        "RET": "DSN",
        "ENVID": "DSN",
        "AUTH": "AUTH",
    }
    for keyword, value in params:
        extension = required.get(keyword)
        if extension is not None and (caps is None or not caps.has(extension)):
            advice.append(_not_offered(keyword, extension))
        if keyword == "BODY" and value is not None:
            advice += _check_body(caps, value.upper())
        if keyword == "SIZE" and caps is not None and caps.size and value and value.isdigit():
            if int(value) > caps.size:
                advice.append(
                    _warning(
                        f"SIZE={value} is over the server's limit of {caps.size} octets; "
                        "expect 552.",
                        "mail.size_over_limit",
                    )
                )
    if not address.isascii() and "SMTPUTF8" not in keywords:
        advice.append(
            _warning(
                "The address is not ASCII: add the SMTPUTF8 parameter (RFC 6531), or the "
                "server will reject it.",
                "mail.utf8_address",
            )
        )
    return advice


def _check_body(caps: Capabilities | None, body: str) -> list[Advice]:
    if body == "8BITMIME" and (caps is None or not caps.eightbitmime):
        return [_not_offered("BODY=8BITMIME", "8BITMIME")]
    if body == "BINARYMIME" and (caps is None or not caps.binarymime or not caps.chunking):
        return [_not_offered("BODY=BINARYMIME", "BINARYMIME and CHUNKING")]
    return []


_COMMAND_CHECKS: Final[dict[str, Callable[[Dialogue, str], list[Advice]]]] = {
    "EHLO": Dialogue._check_hello,
    "HELO": Dialogue._check_hello,
    "STARTTLS": Dialogue._check_starttls,
    "AUTH": Dialogue._check_auth,
    "MAIL FROM": Dialogue._check_mail,
    "RCPT TO": Dialogue._check_rcpt,
    "DATA": Dialogue._check_data,
    "BDAT": Dialogue._check_bdat,
    "MAIL": Dialogue._check_mail,
    "RCPT": Dialogue._check_rcpt,
    "VRFY": Dialogue._check_argument_needed,
    "EXPN": Dialogue._check_argument_needed,
}

_REPLY_HANDLERS: Final[dict[str, Callable[[Dialogue, Reply], list[Advice]]]] = {
    GREETING: Dialogue._greeting_received,
    "EHLO": Dialogue._ehlo_replied,
    "HELO": Dialogue._helo_replied,
    "STARTTLS": Dialogue._starttls_replied,
    "AUTH": Dialogue._auth_replied,
    "MAIL FROM": Dialogue._mail_replied,
    "RCPT TO": Dialogue._rcpt_replied,
    "DATA": Dialogue._data_replied,
    END_OF_DATA: Dialogue._end_of_data_replied,
    "BDAT": Dialogue._bdat_replied,
    BDAT_LAST: Dialogue._bdat_replied,
}
