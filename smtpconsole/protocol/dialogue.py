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

The rules of ``check_line`` and their texts are in ``advice.py``, and ``suggestions`` is computed
in ``suggestions.py``. Both read a ``DialogueView`` snapshot and never change the dialogue. When
you change ``_TRANSITIONS``, update ``suggestions.py`` and the phase tests in
tests/protocol/test_dialogue.py to match.
"""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from smtpconsole.protocol.advice import (
    HEADER_LINE,
    MAX_COMMAND_LINE_OCTETS,
    MAX_MESSAGE_LINE_OCTETS,
    Advice,
    AdviceLevel,
    advise_on_chunk_line,
    advise_on_line,
    error,
    info,
    warning,
)
from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.commands import KNOWN_VERBS, verb_of
from smtpconsole.protocol.replies import Reply, decode_text
from smtpconsole.protocol.sasl import looks_like_sasl_response
from smtpconsole.protocol.state import DialogueView, Phase
from smtpconsole.protocol.suggestions import Suggestion, suggest_commands

# Advice, AdviceLevel, Phase, Suggestion and the line limits are defined in their own modules and
# re-exported here, so existing imports keep working.
__all__ = [
    "BDAT_LAST",
    "END_OF_DATA",
    "GREETING",
    "MAX_COMMAND_LINE_OCTETS",
    "MAX_MESSAGE_LINE_OCTETS",
    "Advice",
    "AdviceLevel",
    "Dialogue",
    "Phase",
    "SentLine",
    "Suggestion",
]


@dataclass(frozen=True)
class SentLine:
    """The dialogue's classification of a line that was sent."""

    verb: str
    """Upper-cased verb (``MAIL FROM``); ``""`` for message lines, AUTH responses, empty lines."""
    secret: bool
    """True for an AUTH line with an initial response, for every SASL response line, and for a
    line that looks like one (``sasl.looks_like_sasl_response``) although no exchange waits."""
    data_line: bool
    """True for a line sent after DATA got 354, including the final ``.``."""
    ends_data: bool
    """True for the line holding only ``.`` that ends the message."""
    chunk: bool = False
    """True for octets of a BDAT chunk (RFC 3030), typed as a line after the BDAT command."""


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
        self.chunk_octets_left = 0
        """Octets the last ``BDAT <size>`` announced that have not been sent yet."""
        self.bdat_used = False
        """True once the current mail transaction sent BDAT: RFC 3030 section 3 forbids DATA in
        the rest of it."""
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
    def mid_message(self) -> bool:
        """True while the server reads message content, so a command sent now would be taken as
        content: inside DATA (``in_data``) or while BDAT chunk octets are owed."""
        return self.in_data or self.chunk_octets_left > 0

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

        Lines sent while ``chunk_octets_left`` is above zero are chunk octets, typed after a raw
        ``BDAT``: each counts its length plus CRLF against the chunk and adds no pending entry,
        because the server reads them as data and replies once to the BDAT command.
        """
        if self.chunk_octets_left > 0:
            self.chunk_sent(len(line) + 2)
            return SentLine(verb="", secret=False, data_line=True, ends_data=False, chunk=True)
        if self.in_data:
            return self._data_line_sent(line)
        if self._is_auth_response(line):
            self._pending.append(_Pending(verb="AUTH", key="AUTH", auth_response=True))
            return SentLine(verb="", secret=True, data_line=False, ends_data=False)

        verb = verb_of(line)
        if looks_like_sasl_response(line):
            # Typed when no exchange waits (such as after "503 already authenticated"), a base64
            # password goes out as a command, but it is still a secret: its verb is left out too,
            # because the verb would be the whole secret.
            self._pending.append(_Pending(verb="", key=""))
            return SentLine(verb="", secret=True, data_line=False, ends_data=False)
        words = line.split()
        key = verb
        if verb == "MAIL FROM" and not self._transaction_open:
            # A BDAT sent while an earlier MAIL FROM waited, and was then rejected, belongs to
            # no transaction.
            self.bdat_used = False
        if verb == "BDAT":
            if self._transaction_open:
                self.bdat_used = True
            if len(words) >= 3 and words[2].upper() == b"LAST":
                key = BDAT_LAST
            if len(words) >= 2 and words[1].isdigit():
                self.chunk_octets_left = int(words[1])
        secret = False
        if verb == "AUTH":
            self.auth_mechanism = (
                words[1].decode("ascii", "replace").upper() if len(words) > 1 else None
            )
            secret = len(words) > 2
        self._pending.append(_Pending(verb=verb, key=key))
        return SentLine(verb=verb, secret=secret, data_line=False, ends_data=False)

    def chunk_sent(self, size: int) -> None:
        """Count ``size`` octets of a BDAT chunk as sent; the session calls this for a whole chunk."""
        self.chunk_octets_left = max(0, self.chunk_octets_left - size)

    def _data_line_sent(self, line: bytes) -> SentLine:
        if line == b".":
            self._pending.append(_Pending(verb=END_OF_DATA, key=END_OF_DATA))
            return SentLine(verb="", secret=False, data_line=True, ends_data=True)
        if line == b"":
            self._in_headers = False
        elif self._in_headers:
            match = HEADER_LINE.match(line)
            if match is not None:
                self._headers_seen.add(decode_text(match.group(1)).lower())
        return SentLine(verb="", secret=False, data_line=True, ends_data=False)

    def _is_auth_response(self, line: bytes) -> bool:
        """Tell whether ``line`` is a response to a SASL challenge rather than a command.

        After a 334 the next line is a response, whatever it contains. While AUTH or a response
        still waits for its reply, a single word that is not a command verb is taken as a
        response sent ahead of the next 334, so it is masked as a secret. Any other line is a
        command typed ahead, such as MAIL FROM before the 235 arrives.
        """
        if self.phase is Phase.AUTH_EXCHANGE and self.awaiting_auth_response:
            return True
        if not self._pending or self._pending[-1].verb != "AUTH":
            return False
        words = line.split()
        return len(words) == 1 and verb_of(line) not in KNOWN_VERBS

    def reply_malformed(self) -> list[Advice]:
        """Record that a reply did not parse, and return advice; the session calls this when a
        line was waiting for a reply.

        The bad reply takes the place of the oldest pending line, so that later replies still
        match their own lines. The phase does not change, because the reply code is unknown,
        except after the final ``.`` of a message: any reply to it ends the mail transaction
        (RFC 5321 section 4.1.1.4).
        """
        if not self._pending:
            return []
        entry = self._pending.popleft()
        self.last_matched_verb = entry.verb
        if entry.key == END_OF_DATA and self.phase is Phase.DATA:
            self.phase = Phase.READY
            self._end_transaction()
        elif entry.verb == "BDAT":
            # As with any reply to BDAT, the server is not reading the chunk.
            self.chunk_octets_left = 0
        return [
            warning(
                f"The reply to {describe_pending(entry.verb)} did not parse, so whether the "
                "server accepted it is unknown. Send RSET to start the transaction over, or NOOP "
                "to check that replies match commands again.",
                "reply.malformed",
            )
        ]

    def reply_received(self, reply: Reply) -> list[Advice]:
        """Match a reply with the oldest pending line, move the phase and return advice."""
        if self.phase is Phase.TLS_PENDING:
            # The server starts TLS right after its 220, so nothing may arrive in between.
            return [
                warning(
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
            warning(
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
        self._end_transaction()
        discarded = len(self._pending)
        self._pending.clear()
        advice = [
            info(
                "TLS is active. The server forgot the earlier EHLO and its capability list was "
                "cleared: send EHLO again to see what it offers over TLS.",
                "tls.ehlo_again",
            )
        ]
        if discarded:
            advice.append(
                warning(
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
        self._end_transaction()

    def _end_transaction(self) -> None:
        self.recipients_accepted = 0
        self.bdat_used = False

    # --- Side effects of replies ----------------------------------------------------------------

    def _after_reply(self, entry: _Pending, reply: Reply, old_phase: Phase) -> list[Advice]:
        """Update everything besides the phase after ``reply`` matched ``entry``."""
        if self.phase in (Phase.READY, Phase.GREETED) and old_phase in (
            Phase.MAIL,
            Phase.RCPT,
            Phase.DATA,
        ):
            self._end_transaction()
        handler = _REPLY_HANDLERS.get(entry.key)
        if handler is None:
            return []
        return handler(self, reply)

    def _greeting_received(self, reply: Reply) -> list[Advice]:
        self.greeting = reply
        if reply.code == 554:
            self.greeting_rejected = True
            return [
                error(
                    "The server rejected the session in its greeting (554). It will reply 503 to "
                    "every command except QUIT, so send QUIT.",
                    "greeting.rejected",
                )
            ]
        if self.phase is Phase.CLOSED and reply.code != 421:
            return [
                error(
                    f"The server is not available ({reply.code} greeting); try again later.",
                    "greeting.unavailable",
                )
            ]
        if reply.code not in (220, 421):
            return [
                warning(
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
                    info(
                        "The server does not know EHLO; fall back to HELO (no extensions).",
                        "ehlo.unsupported",
                    )
                ]
            return []
        self.capabilities = Capabilities.from_reply(reply)
        self.hello_verb = "EHLO"
        advice = [
            warning(f"EHLO reply: {problem}", "ehlo.unparsed")
            for problem in self.capabilities.problems
        ]
        if self.capabilities.starttls and not self.tls_active:
            advice.append(
                info(
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
                info(
                    "STARTTLS accepted: the TLS handshake comes next. Capabilities cleared, "
                    "because what the server said in clear no longer counts.",
                    "starttls.capabilities_cleared",
                )
            ]
        return [
            warning(
                f"STARTTLS was rejected ({reply.code}); the connection stays unencrypted.",
                "starttls.rejected",
            )
        ]

    def _auth_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 334:
            return [_challenge_advice(reply)]
        if reply.code == 235:
            self.authenticated = True
            return [info("Authenticated: MAIL FROM comes next.", "auth.succeeded")]
        return [_auth_failure_advice(reply, self)]

    def _mail_replied(self, reply: Reply) -> list[Advice]:
        if reply.code == 250:
            self.recipients_accepted = 0
            return []
        if reply.code == 530:
            return [
                warning("The server requires AUTH before MAIL FROM (530).", "mail.auth_required")
            ]
        return []

    def _rcpt_replied(self, reply: Reply) -> list[Advice]:
        if reply.code in (250, 251):
            self.recipients_accepted += 1
            return []
        if reply.code == 503:
            return [warning("RCPT TO needs an accepted MAIL FROM first (503).", "rcpt.need_mail")]
        if reply.is_error:
            return [
                info(
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
                info(
                    "Type the message: headers, an empty line, then the body. A line holding "
                    "only '.' ends the message.",
                    "data.started",
                )
            ]
        if reply.code in (503, 554) and self.recipients_accepted == 0:
            return [
                warning(
                    f"DATA was rejected ({reply.code}): send RCPT TO and get a 250 first.",
                    "data.need_rcpt",
                )
            ]
        return []

    def _end_of_data_replied(self, reply: Reply) -> list[Advice]:
        if reply.is_success:
            return [
                info(
                    "Message accepted; the transaction is done. Send MAIL FROM for another "
                    "message, or QUIT.",
                    "data.accepted",
                )
            ]
        return [
            warning(
                f"The message was rejected ({reply.code}); the transaction is over.",
                "data.rejected",
            )
        ]

    def _bdat_replied(self, reply: Reply) -> list[Advice]:
        if self.chunk_octets_left:
            # A server that reads the chunk replies after its last octet. A reply before that
            # means it does not read one (BDAT unknown), so the next lines are commands again.
            self.chunk_octets_left = 0
        if reply.is_error:
            # RFC 3030 section 2: after a failed chunk the transaction has failed.
            return [
                warning(
                    f"BDAT failed ({reply.code}); send RSET before trying again.", "bdat.failed"
                )
            ]
        return []

    # --- Advice before sending and suggestions, computed from a snapshot ------------------------

    def check_line(self, line: bytes) -> list[Advice]:
        """Return advice on ``line`` (without CRLF) before it is sent; changes no state."""
        if self.chunk_octets_left > 0:
            return advise_on_chunk_line(line, self.chunk_octets_left)
        return advise_on_line(line, self._view(), auth_response=self._is_auth_response(line))

    def suggestions(self) -> list[Suggestion]:
        """Return the commands that make sense now, the usual next step marked recommended."""
        return suggest_commands(self._view())

    def _view(self) -> DialogueView:
        return DialogueView(
            phase=self.phase,
            capabilities=self.capabilities,
            tls_active=self.tls_active,
            authenticated=self.authenticated,
            greeting_rejected=self.greeting_rejected,
            last_pending_verb=self._pending[-1].verb if self._pending else None,
            hello_done=self._hello_done,
            transaction_open=self._transaction_open,
            has_recipient=self._has_recipient,
            bdat_used=self.bdat_used,
            in_data=self.in_data,
            in_headers=self._in_headers,
            headers_seen=frozenset(self._headers_seen),
        )


# --- Advice on replies -----------------------------------------------------------------------


def describe_pending(verb: str) -> str:
    """Name a line waiting for a reply, by the verb that ``Dialogue.pending`` lists, for messages."""
    if verb == END_OF_DATA:
        return "the end of the message ('.')"
    if verb == "":
        # An empty line, or one masked as a secret, whose text must not be shown.
        return "the line sent"
    return verb


def _server_closing(reply: Reply) -> Advice:
    return error(
        f"The server is closing the connection ({reply.code}): {reply.text or 'no reason given'}",
        "reply.server_closing",
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
    return info(
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
    return warning(f"AUTH failed ({reply.code}). {hint}", "auth.failed")


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
