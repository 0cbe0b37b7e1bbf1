"""One live SMTP dialogue: a Transport, a Dialogue and a Transcript that every front end watches.

A reader task takes the received bytes, feeds the ``ReplyParser`` and turns each result into a
transcript event. Each reply then goes to the ``send_command`` that sent its command, or else to
the queue that ``read_reply`` reads. Lines go out verbatim: ``send_line`` adds CRLF to the UTF-8
bytes and changes nothing else.

When a STARTTLS (typed or not) gets its 220, the reader stops, the session discards the bytes
received before the handshake (RFC 3207 section 6), upgrades the same connection and starts a new
reader. If verification fails, the certificate is fetched over a second, unverified connection so
that the user can inspect it, and ``start_tls(verify=False)`` reconnects and repeats the steps
without verification, because a failed handshake leaves the first connection unusable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from smtpconsole.errors import (
    ConnectFailed,
    ConnectionLost,
    MalformedReplyError,
    ReadTimeout,
    SmtpConsoleError,
    TlsError,
    TransportError,
)
from smtpconsole.options import ConnectOptions
from smtpconsole.protocol import commands, sasl
from smtpconsole.protocol.dialogue import END_OF_DATA, Advice, Dialogue, Phase, describe_pending
from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtpconsole.protocol.replies import CLOSED, NEED_DATA, Reply, ReplyParser, decode_text
from smtpconsole.tls import TlsInfo, create_context, failure_reason, tls_info_from
from smtpconsole.transcript import (
    MASK,
    AdviceGiven,
    BytesDiscarded,
    Connected,
    Connecting,
    ConnectionClosed,
    Event,
    LineSent,
    LineSource,
    MalformedReply,
    Note,
    ReplyReceived,
    TlsFailed,
    TlsStarted,
    Transcript,
    format_event,
)
from smtpconsole.transport import Transport

SECRET_WORDS_KEPT: Final = 8
"""Recent secret words that replies are checked for; older ones are not looked for."""

MIN_SECRET_WORD: Final = 6
"""Shorter words of a secret line (a lone ``*`` cancel, ``=``) are not looked for in replies,
because they could match ordinary reply text."""

logger = logging.getLogger(__name__)

REPLY_QUEUE_SIZE: Final = 100
"""Maximum unread replies kept for ``read_reply``; older ones are dropped, since they stay in the
transcript."""

MAX_UNSOLICITED_REPLIES: Final = 100
"""Replies in a row that no command asked for, after which the session closes the connection,
so that a server flooding replies cannot fill the transcript without limit."""

QUIT_TIMEOUT_SECONDS: Final = 5.0
"""Maximum seconds to wait for the reply to the QUIT that ``close`` sends."""

OVERDUE_QUIT_TIMEOUT_SECONDS: Final = 1.0
"""Seconds to wait for the reply to the closing QUIT when an earlier reply is overdue: replies come
in command order, so the reply to QUIT would come only after that one."""

INJECTION_REASON: Final = (
    "received after the STARTTLS 220 reply and before the TLS handshake, so TLS does not protect "
    "them; a server bug or a man in the middle injecting replies (RFC 3207 section 6, the "
    "CVE-2011-0411 attack)"
)

LATE_BYTES_REASON: Final = (
    "waiting in the stream when TLS started, before any command over TLS: either plaintext that "
    "arrived just before the handshake (RFC 3207 section 6) or data the server sent unasked"
)

_BDAT_OCTETS_FOLLOW: Final = "bdat.octets_follow"
"""Key of the advice that a typed BDAT line must be followed by its octets at once."""

_KEEPALIVE_PHASES: Final = frozenset({Phase.GREETED, Phase.READY, Phase.MAIL, Phase.RCPT})


@dataclass(eq=False)
class _Awaited:
    """A sent line that expects a reply; servers reply in command order, even when pipelining
    (RFC 2920)."""

    source: LineSource
    sent_at: float
    future: asyncio.Future[Reply] | None = None
    verb: str = ""
    """The verb that ``Dialogue.pending`` lists for the line, for messages about its reply."""
    overdue: bool = False
    """True once the reply is later than the read timeout, and this was reported."""
    timer: asyncio.TimerHandle | None = None
    """Calls ``Session._reply_overdue`` when the read timeout has passed without the reply."""

    def stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


@dataclass
class _ConnectionState:
    """State of one TCP connection; a reconnect starts a fresh one."""

    transport: Transport
    parser: ReplyParser
    awaiting: deque[_Awaited] = field(default_factory=deque)
    reader: asyncio.Task[None] | None = None
    handshake: asyncio.Task[TlsInfo] | None = None
    ended: bool = False
    unsolicited: int = 0
    """Replies in a row that no sent line was waiting for."""
    dropped_reported: int = 0
    overlong_noted: bool = False
    malformed: RemoteProtocolError | None = None
    """The first reply that did not parse, when the session ends the connection at one."""
    chunk_reply: _Awaited | None = None
    """The last BDAT line whose chunk octets are typed as lines: its reply comes after the last
    octet, so its read timeout starts then."""


class _ClosedMarker:
    def __init__(self, reason: str, error: Exception | None = None) -> None:
        self.reason = reason
        self.error = error
        """The error that ``read_reply`` raises; a ``ConnectionLost`` with ``reason`` when None."""


TlsFailure = Literal["implicit", "starttls"]


class Session:
    """A live dialogue with one server; create it, then ``await connect()``."""

    def __init__(self, options: ConnectOptions, *, strict_replies: bool = False) -> None:
        """Args:
        strict_replies: end the connection at the first reply that does not parse, and raise
            ``MalformedReplyError`` to every caller waiting for a reply. The script runner uses
            this. Without it the session shows the bad bytes and reads on, as the interactive
            front ends want. The bad reply then takes the place of the oldest line waiting for
            a reply, whose wait raises ``RemoteProtocolError``. A reply later than the read
            timeout gets a warning in the transcript, and the connection stays open.
        """
        self.options = options
        self.strict_replies = strict_replies
        self.transcript = Transcript()
        self.dialogue = Dialogue()
        self._secret_words: deque[str] = deque(maxlen=SECRET_WORDS_KEPT)
        """Words of recent secret lines, masked where a reply echoes them."""
        self._secret_echo: re.Pattern[bytes] | None = None
        """Matches any of ``_secret_words`` in received bytes, ignoring case."""
        """The dialogue of the current connection; a reconnect replaces it with a new one."""
        self.tls_info: TlsInfo | None = None
        """The last TLS handshake of the current connection, or None without TLS."""
        self.insecure = not options.tls.verify
        """True when certificate verification is off, by option or by an explicit retry."""
        self.last_reply_at: float | None = None
        """``time.monotonic()`` of the last reply received."""
        self.last_sent_at: float | None = None
        """``time.monotonic()`` of the last line sent."""
        self.closed = False
        """True once the connection has ended, by ``close`` or by the server."""
        self.tls_failure: TlsFailure | None = None
        """Which handshake failed last on this session, so that a retry can repeat it."""
        self._conn: _ConnectionState | None = None
        self._replies: asyncio.Queue[Reply | RemoteProtocolError | _ClosedMarker] = asyncio.Queue()
        self._keepalive: asyncio.Task[None] | None = None
        self._keepalive_seconds = options.keepalive
        # The argument of the last EHLO or HELO sent, so that the EHLO sent after STARTTLS or a
        # reconnect repeats the name the user chose.
        self._hello_name: str | None = None

    # Listeners and events

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` with every later transcript event; return the unsubscribe function."""
        return self.transcript.subscribe(listener)

    def _emit(self, event: Event) -> None:
        self.transcript.append(event)
        if logger.isEnabledFor(logging.DEBUG):
            # format_event masks secrets, so the log never contains them.
            for line in format_event(event):
                logger.debug("%s %s", self.address, line)

    def _emit_advice(self, advice_list: list[Advice]) -> None:
        for advice in advice_list:
            self._emit(AdviceGiven(advice))

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._conn is not None and not self._conn.ended

    @property
    def address(self) -> str:
        """The server as ``host:port``."""
        return self.options.address

    @property
    def server_name(self) -> str:
        """The name sent as SNI and checked against the certificate."""
        return self.options.tls.sni or self.options.host

    # Connecting

    async def connect(self, verify: bool | None = None) -> Reply:
        """Connect and return the greeting; without ``options.manual``, greet the server too.

        For security ``starttls`` the session sends EHLO, STARTTLS, does the handshake and sends
        EHLO again; for ``plain`` and ``tls`` it sends EHLO. Every step is in the transcript.
        An open connection is closed first, without QUIT.

        Args:
            verify: overrides certificate verification; ``False`` also marks the session insecure.

        Raises:
            ConnectFailed: the TCP connection failed.
            TlsError: the TLS handshake failed or the server rejected STARTTLS. ``details``
                contains the certificate (``TlsInfo``) when it could be fetched.
            ReadTimeout, ConnectionLost: no greeting arrived.
        """
        greeting = await self._open(verify)
        if self.options.manual or greeting.code != 220:
            return greeting
        ehlo_reply = await self.ehlo(source="auto")
        if self.options.security == "starttls":
            await self._auto_starttls(ehlo_reply)
            await self.ehlo(source="auto")
        return greeting

    async def _open(self, verify: bool | None) -> Reply:
        await self._drop_connection()
        if verify is False:
            self.insecure = True
        options = self.options
        implicit_tls = options.security == "tls"
        self.dialogue = Dialogue(tls_active=implicit_tls)
        self.tls_info = None
        self._replies = asyncio.Queue()
        self.tls_failure = None
        self._emit(Connecting(options.host, options.port, options.security))
        try:
            transport = await self._open_transport(implicit_tls, verify)
        except TransportError:
            self.closed = True
            raise
        self._conn = _ConnectionState(transport, ReplyParser(options.max_line_bytes))
        self.closed = False
        self._emit(Connected(transport.peer, transport.local))
        if implicit_tls:
            self._implicit_tls_started(transport, verify)
        self._start_reader(self._conn)
        self._start_keepalive()
        return await self._read_greeting()

    async def _read_greeting(self) -> Reply:
        """Return the greeting; a timeout gets a hint about the port's protocol.

        Raises:
            ReadTimeout: no greeting within ``options.read_timeout``.
        """
        try:
            return await self.read_reply()
        except ReadTimeout as exc:
            if self.options.security == "tls":
                hint = (
                    "the port may expect STARTTLS or plain SMTP (try --starttls or --plain), "
                    "or it is not an SMTP port"
                )
            else:
                hint = (
                    "the port may expect implicit TLS (try --tls, usual on port 465), or it is "
                    "not an SMTP port; raise --timeout if the server is slow to greet"
                )
            raise ReadTimeout(f"no greeting: {exc.message}", hint) from None

    async def _open_transport(self, implicit_tls: bool, verify: bool | None) -> Transport:
        options = self.options
        context = create_context(options.tls, verify=self._verify(verify)) if implicit_tls else None
        try:
            return await Transport.open(
                options.host,
                options.port,
                family=options.family,
                ssl_context=context,
                server_hostname=self.server_name,
                timeout=options.connect_timeout,
            )
        except ConnectFailed as exc:
            self._emit(Note(f"connecting failed: {exc.message}"))
            raise
        except TlsError as exc:
            self.tls_failure = "implicit"
            await self._report_tls_failure(exc, starttls=False)
            raise

    def _implicit_tls_started(self, transport: Transport, verify: bool | None) -> None:
        ssl_object = transport.ssl_object
        if ssl_object is None:
            return
        self.tls_info = tls_info_from(
            ssl_object, verified=self._verify(verify), server_name=self.server_name
        )
        self._emit(TlsStarted(self.tls_info))

    async def _auto_starttls(self, ehlo_reply: Reply) -> None:
        if not ehlo_reply.is_success:
            raise TlsError(
                f"EHLO was rejected ({ehlo_reply.code}), so STARTTLS cannot follow",
                "send HELO and continue without TLS only if you must (--plain), or use --manual",
            )
        reply = await self.send_command(commands.starttls(), source="auto")
        if reply.code != 220:
            raise TlsError(
                f"{self.address} rejected STARTTLS: {reply.code} {reply.text}",
                "the connection is still open without TLS; check the port, or use --tls or --plain",
            )
        await self.start_tls()

    def _verify(self, verify: bool | None) -> bool:
        if verify is not None:
            return verify
        return self.options.tls.verify and not self.insecure

    def _ehlo_name(self) -> str:
        if self._hello_name:
            return self._hello_name
        if self.options.ehlo_name:
            return self.options.ehlo_name
        hostname = socket.gethostname()
        if "." in hostname:
            return hostname
        # RFC 5321 section 4.1.4: without a fully qualified name, send an address literal.
        local = self._conn.transport.local if self._conn else "127.0.0.1:0"
        address = local.rsplit(":", 1)[0].strip("[]")
        return f"[IPv6:{address}]" if ":" in address else f"[{address}]"

    def default_ehlo_name(self) -> str:
        """Return the name the next EHLO or HELO of the session sends.

        That is the name of the last EHLO or HELO sent, else ``options.ehlo_name``, else this
        host's fully qualified name, else an address literal of the local address.
        """
        return self._ehlo_name()

    async def ehlo(self, source: LineSource = "builder") -> Reply:
        """Send EHLO with ``options.ehlo_name`` (or this host's name) and return the reply."""
        return await self.send_command(commands.ehlo(self._ehlo_name()), source=source)

    # Sending

    async def send_line(
        self, text: str, source: LineSource = "typed", *, secret: bool = False
    ) -> None:
        """Send ``text`` verbatim: its UTF-8 bytes plus CRLF, whatever it contains.

        Advice from the dialogue goes to the transcript first but never stops the line.

        Raises:
            LocalProtocolError: ``text`` contains CR or LF; nothing was sent.
            ConnectionLost: there is no open connection, or writing failed.
        """
        await self._send(commands.encode_line(text), source, secret=secret)

    async def send_command(
        self,
        line: str,
        source: LineSource = "builder",
        *,
        secret: bool = False,
        timeout: float | None = None,
    ) -> Reply:
        """Send ``line`` verbatim and return the reply to it.

        Raises:
            LocalProtocolError: ``line`` contains CR or LF; nothing was sent.
            ReadTimeout: no reply within ``timeout`` (default ``options.read_timeout``) seconds.
            ConnectionLost: the connection closed before the reply.
            RemoteProtocolError: the reply does not parse (without ``strict_replies``).
        """
        awaited = await self._send(
            commands.encode_line(line), source, secret=secret, expect_reply=True
        )
        assert awaited is not None
        return await self._wait_reply(awaited, timeout)

    async def send_typed(
        self, line: str, source: LineSource = "typed", *, timeout: float | None = None
    ) -> Reply | None:
        """Send ``line`` verbatim, as typed, and return the reply when one is due now.

        A command gets its reply, and so do the line holding only ``.`` that ends DATA and the
        line that completes the chunk of a typed ``BDAT <size>`` (the reply to that BDAT). A
        message line after 354, a ``BDAT`` line whose octets follow, and chunk octets still owed
        get None, because the server replies to none of them yet. After a typed STARTTLS gets
        220, this also waits for the TLS handshake.

        Raises:
            LocalProtocolError: ``line`` contains CR or LF; nothing was sent.
            ReadTimeout: no reply within ``timeout`` (default ``options.read_timeout``) seconds.
            ConnectionLost: the connection closed before the reply.
            RemoteProtocolError: the reply does not parse (without ``strict_replies``).
            TlsError: the TLS handshake after a typed STARTTLS failed.
        """
        dialogue = self.dialogue
        conn = self._require_connection()
        raw = commands.encode_line(line)
        if dialogue.chunk_octets_left > 0:
            await self._send(raw, source)
            awaited = conn.chunk_reply
            if dialogue.chunk_octets_left > 0 or awaited is None or awaited.future is None:
                return None
            conn.chunk_reply = None
            return await self._wait_reply(awaited, timeout)
        if dialogue.in_data and line != ".":
            await self._send(raw, source)
            return None
        awaited = await self._send(raw, source, expect_reply=True)
        assert awaited is not None
        if conn.chunk_reply is awaited:
            # A BDAT line: the next lines are its chunk, and the reply comes after them.
            return None
        reply = await self._wait_reply(awaited, timeout)
        if self.dialogue.phase is Phase.TLS_PENDING:
            await self.start_tls()
        return reply

    async def send_chunk(
        self,
        data: bytes,
        last: bool = False,
        *,
        source: LineSource = "builder",
        timeout: float | None = None,
    ) -> Reply:
        """Send one BDAT chunk (RFC 3030) and return the reply to it.

        ``BDAT <size>`` (with ``LAST`` when ``last``) and the ``data`` octets go out in one write,
        because the server reads exactly ``size`` octets right after the line. The transcript gets
        the BDAT line, then ``data`` as a ``LineSent`` with source ``data``. ``data`` is sent as
        it is: no dot-stuffing and no line-end conversion.

        Raises:
            ReadTimeout: no reply within ``timeout`` (default ``options.read_timeout``) seconds.
            ConnectionLost: the connection closed before the reply.
        """
        line = commands.encode_line(commands.bdat(len(data), last))
        awaited = await self._send(line, source, expect_reply=True, chunk=data)
        assert awaited is not None
        return await self._wait_reply(awaited, timeout)

    async def send_lines(self, lines: Sequence[str], source: LineSource = "builder") -> None:
        """Send ``lines`` verbatim in one write, as a group of pipelined commands (RFC 2920).

        Each line gets its advice and its ``LineSent`` event, as with ``send_line``; read the
        replies with ``read_reply``. One write lets the server read the whole group at once and
        send its replies in one flush. Written line by line, the group got its replies from
        Postfix 3.7 in separate segments, and the last one waited about 40 ms for the client's
        delayed ACK.

        Raises:
            LocalProtocolError: a line contains CR or LF; nothing was sent.
            ConnectionLost: there is no open connection, or writing failed.
        """
        raws = [commands.encode_line(text) for text in lines]
        conn = await self._wait_for_handshake(self._require_connection())
        for raw in raws:
            self._record_line(conn, raw, source)
        await conn.transport.write(b"".join(raws))

    async def _send(
        self,
        raw: bytes,
        source: LineSource,
        *,
        secret: bool = False,
        expect_reply: bool = False,
        chunk: bytes | None = None,
        advise: bool = True,
    ) -> _Awaited | None:
        """Send the line ``raw`` (CRLF included), followed in the same write by ``chunk``.

        ``advise=False`` leaves out the dialogue's advice, for lines the session sends on its own.
        """
        conn = await self._wait_for_handshake(self._require_connection())
        awaited = self._record_line(
            conn,
            raw,
            source,
            secret=secret,
            expect_reply=expect_reply,
            chunk_follows=chunk is not None,
            advise=advise,
        )
        if chunk is not None:
            self.dialogue.chunk_sent(len(chunk))
            self._emit(LineSent(chunk, "data", False, chunk=True))
            raw += chunk
        await conn.transport.write(raw)
        return awaited

    def _record_line(
        self,
        conn: _ConnectionState,
        raw: bytes,
        source: LineSource,
        *,
        secret: bool = False,
        expect_reply: bool = False,
        chunk_follows: bool = False,
        advise: bool = True,
    ) -> _Awaited | None:
        """Give the advice on a line about to be written, update the dialogue, emit ``LineSent``.

        The state changes before the write, because the reply can arrive before the write returns.
        """
        line = raw[:-2]
        if advise:
            advice = self.dialogue.check_line(line)
            if chunk_follows:
                # The chunk follows its BDAT line at once here, so that reminder does not apply.
                advice = [item for item in advice if item.key != _BDAT_OCTETS_FOLLOW]
            self._emit_advice(advice)
        self._flag_control_characters(line)

        dialogue = self.dialogue
        pending_before = len(dialogue.pending)
        sent = dialogue.line_sent(line)
        self._remember_hello_name(sent.verb, line)
        awaited = None
        if expect_reply or len(dialogue.pending) > pending_before:
            verb = dialogue.pending[-1] if len(dialogue.pending) > pending_before else sent.verb
            # The reply to a BDAT whose octets are typed next comes after the last of them.
            octets_typed = dialogue.chunk_octets_left > 0 and not chunk_follows
            awaited = self._expect_reply(conn, source, expect_reply, verb, timed=not octets_typed)
            if octets_typed:
                conn.chunk_reply = awaited
        elif sent.chunk and dialogue.chunk_octets_left == 0:
            self._chunk_typed(conn)
        self.last_sent_at = time.monotonic()
        if secret or sent.secret:
            self._remember_secret_words(line)
        self._emit(LineSent(raw, source, secret or sent.secret, chunk=sent.chunk))
        return awaited

    def _remember_hello_name(self, verb: str, line: bytes) -> None:
        if verb not in ("EHLO", "HELO"):
            return
        argument = line.split(None, 1)[1:]
        if argument:
            self._hello_name = decode_text(argument[0]).strip() or None

    def _flag_control_characters(self, line: bytes) -> None:
        """Warn about control characters in a line, which still goes out as it is."""
        found = sorted(
            {f"\\x{byte:02x}" for byte in line if (byte < 0x20 and byte != 0x09) or byte == 0x7F}
        )
        if found:
            text = (
                f"the line contains control characters ({', '.join(found)}); it is sent as typed, "
                "but servers may reject it or cut it there"
            )
            self._emit(AdviceGiven(Advice("warning", text, "line.control_characters")))

    async def _wait_for_handshake(self, conn: _ConnectionState) -> _ConnectionState:
        """Hold a line back until a running TLS handshake ends, so that it cannot corrupt it."""
        handshake = conn.handshake
        if handshake is not None and not handshake.done():
            with contextlib.suppress(TlsError):
                await asyncio.shield(handshake)
        return self._require_connection()

    def _expect_reply(
        self,
        conn: _ConnectionState,
        source: LineSource,
        wait: bool,
        verb: str,
        *,
        timed: bool = True,
    ) -> _Awaited:
        """Add a line to the replies awaited; ``timed`` starts its read timeout now."""
        future = asyncio.get_running_loop().create_future() if wait else None
        awaited = _Awaited(source, time.monotonic(), future, verb)
        conn.awaiting.append(awaited)
        if timed:
            self._start_reply_timer(conn, awaited)
        return awaited

    def _chunk_typed(self, conn: _ConnectionState) -> None:
        """Start the read timeout of the BDAT whose chunk the last typed line completed."""
        awaited = conn.chunk_reply
        if awaited is not None and awaited in conn.awaiting and awaited.timer is None:
            awaited.sent_at = time.monotonic()
            self._start_reply_timer(conn, awaited)

    def _start_reply_timer(self, conn: _ConnectionState, awaited: _Awaited) -> None:
        if self.strict_replies:
            # The runner's waits raise ReadTimeout instead, and end the run.
            return
        awaited.timer = asyncio.get_running_loop().call_later(
            self.options.read_timeout, self._reply_overdue, conn, awaited
        )

    def _reply_overdue(self, conn: _ConnectionState, awaited: _Awaited) -> None:
        """Warn once that the reply to ``awaited`` is later than the read timeout.

        The connection stays open, because the user decides whether to wait longer. The line
        console does not wait for replies, so this warning is the only timeout it reports.
        """
        awaited.timer = None
        if conn.ended or awaited.overdue or awaited not in conn.awaiting:
            return
        awaited.overdue = True
        text = (
            f"No reply to {describe_pending(awaited.verb)} within "
            f"{self.options.read_timeout:g} s. The server may be slow, stuck or waiting for more "
            "input: wait, or reconnect. A command sent now would take the late reply as its own."
        )
        self._emit(AdviceGiven(Advice("warning", text, "reply.overdue")))

    def _require_connection(self) -> _ConnectionState:
        conn = self._conn
        if conn is None or conn.ended:
            raise ConnectionLost(
                f"not connected to {self.address}", "connect again to send more commands"
            )
        return conn

    async def send_data(self, payload: bytes, timeout: float | None = None) -> Reply:
        """Send a message after the 354 reply and return the final reply.

        Args:
            payload: the message, already dot-stuffed and ending in CRLF.CRLF (RFC 5321 4.5.2).

        Raises:
            LocalProtocolError: the payload does not end in CRLF.CRLF, or DATA has not got 354.
        """
        if not (payload.endswith(b"\r\n.\r\n") or payload == b".\r\n"):
            raise LocalProtocolError(
                "the message must end with CRLF.CRLF",
                field="payload",
                value=payload[-20:].decode("utf-8", "backslashreplace"),
            )
        if not self.dialogue.in_data:
            raise LocalProtocolError(
                "send DATA and wait for its 354 reply before the message", field="payload"
            )
        conn = self._require_connection()
        for line in _lines_for_dialogue(payload):
            self.dialogue.line_sent(line)
        awaited = self._expect_reply(conn, "data", True, END_OF_DATA)
        self.last_sent_at = time.monotonic()
        self._emit(LineSent(payload, "data", False))
        await conn.transport.write(payload)
        return await self._wait_reply(awaited, timeout)

    # Receiving

    async def read_reply(self, timeout: float | None = None) -> Reply:
        """Return the next reply that no ``send_command`` is waiting for.

        Raises:
            ReadTimeout: nothing arrived within ``timeout`` (default ``options.read_timeout``)
                seconds; a ``Note`` in the transcript records it too.
            ConnectionLost: the connection closed and every earlier reply has been read.
            RemoteProtocolError: the next reply does not parse (without ``strict_replies``).
        """
        seconds = self.options.read_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                item = await self._replies.get()
        except TimeoutError:
            self._emit(
                Note(f"{_no_reply_message(self.address, seconds)}; the connection is still open")
            )
            raise _read_timeout_error(self.address, seconds) from None
        if isinstance(item, RemoteProtocolError):
            raise item
        if isinstance(item, _ClosedMarker):
            self._replies.put_nowait(item)
            if item.error is not None:
                raise item.error
            raise ConnectionLost(item.reason, "connect again to continue")
        return item

    async def _wait_reply(
        self, awaited: _Awaited, timeout: float | None, *, note: bool = True
    ) -> Reply:
        """Return the reply to ``awaited``; ``note=False`` leaves a timeout out of the transcript."""
        future = awaited.future
        assert future is not None
        seconds = self.options.read_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(seconds):
                return await asyncio.shield(future)
        except TimeoutError:
            # A late reply then goes to the read_reply queue.
            future.cancel()
            if note and not awaited.overdue:
                message = _no_reply_message(self.address, seconds)
                self._emit(Note(f"{message}; the connection is still open"))
            awaited.overdue = True
            raise _read_timeout_error(self.address, seconds) from None

    def _start_reader(self, conn: _ConnectionState) -> None:
        conn.reader = asyncio.create_task(self._read_loop(conn), name=f"smtp-reader {self.address}")

    async def _read_loop(self, conn: _ConnectionState) -> None:
        try:
            while True:
                data = await conn.transport.read()
                if not data:
                    await self._on_eof(conn)
                    return
                conn.parser.feed(data)
                if self._process_replies(conn):
                    conn.handshake = self._begin_handshake(conn, verify=None)
                    return
                if conn.malformed is not None:
                    await self._end_malformed(conn, conn.malformed)
                    return
                if conn.unsolicited > MAX_UNSOLICITED_REPLIES:
                    await self._end_flood(conn)
                    return
                self._note_overlong(conn)
        except ConnectionLost as exc:
            await self._on_eof(conn, exc.message)
        except Exception as exc:
            logger.exception("reader for %s failed", self.address)
            await self._end_connection(conn, "internal error while reading", repr(exc))
            raise

    def _process_replies(self, conn: _ConnectionState, *, at_eof: bool = False) -> bool:
        """Emit every complete reply; return True when a STARTTLS 220 was reached."""
        while True:
            try:
                result = conn.parser.next_reply()
            except RemoteProtocolError as exc:
                self._emit(MalformedReply(exc.raw, exc.message))
                self._report_dropped(conn)
                if self.strict_replies:
                    conn.malformed = exc
                    return False
                if conn.awaiting and not at_eof:
                    self._on_malformed_reply(conn, exc)
                continue
            if result is NEED_DATA or result is CLOSED or not isinstance(result, Reply):
                return False
            self._on_reply(conn, result)
            if self.dialogue.phase is Phase.TLS_PENDING:
                return True
            if conn.unsolicited > MAX_UNSOLICITED_REPLIES:
                return False

    def _on_malformed_reply(self, conn: _ConnectionState, exc: RemoteProtocolError) -> None:
        """Match a reply that does not parse with the oldest line awaiting a reply.

        Later replies then still match their own lines. The wait for this line ends at once
        with ``RemoteProtocolError``, or the error goes to the ``read_reply`` queue.
        """
        awaited = conn.awaiting.popleft()
        awaited.stop_timer()
        conn.unsolicited = 0
        self.last_reply_at = time.monotonic()
        self._emit_advice(self.dialogue.reply_malformed())
        error = RemoteProtocolError(
            f"the reply to {describe_pending(awaited.verb)} does not parse: {exc.message}", exc.raw
        )
        if awaited.future is not None and not awaited.future.done():
            awaited.future.set_exception(error)
            # Mark the exception retrieved, because the caller may have stopped waiting.
            awaited.future.exception()
        elif awaited.source != "keepalive":
            self._queue_reply(error)

    def _on_reply(self, conn: _ConnectionState, reply: Reply) -> None:
        now = time.monotonic()
        awaited = conn.awaiting.popleft() if conn.awaiting else None
        if awaited is not None:
            awaited.stop_timer()
        if awaited is None and self.dialogue.greeting is not None:
            conn.unsolicited += 1
        else:
            conn.unsolicited = 0
        latency = now - awaited.sent_at if awaited is not None else None
        self.last_reply_at = now
        # The dialogue moves first, so that listeners of the event see the new phase.
        advice = self.dialogue.reply_received(reply)
        reply = self._mask_echoed_secrets(reply)
        self._emit(ReplyReceived(reply, latency))
        self._report_dropped(conn)
        self._emit_advice(advice)
        if awaited is not None and awaited.future is not None and not awaited.future.done():
            awaited.future.set_result(reply)
        elif awaited is None or awaited.source != "keepalive":
            self._queue_reply(reply)

    def _remember_secret_words(self, line: bytes) -> None:
        words = decode_text(line).split()
        if words and words[0].upper() == "AUTH":
            words = words[2:]
        self._secret_words.extend(word for word in words if len(word) >= MIN_SECRET_WORD)
        if self._secret_words:
            alternatives = b"|".join(re.escape(word.encode()) for word in self._secret_words)
            self._secret_echo = re.compile(alternatives, re.IGNORECASE)

    def _mask_echoed_secrets(self, reply: Reply) -> Reply:
        """Return ``reply`` with any echo of a recent secret word masked.

        Some servers quote an unknown command in their 500 reply, upper-cased or not (aiosmtpd:
        ``500 Error: command "..." not recognized``), so a password typed as a command would come
        back in clear. The dialogue has already seen the reply as it came.
        """
        if self._secret_echo is None or not self._secret_echo.search(reply.raw):
            return reply
        mask = MASK.encode()
        lines = tuple(
            decode_text(self._secret_echo.sub(mask, line.encode())) for line in reply.lines
        )
        return replace(reply, lines=lines, raw=self._secret_echo.sub(mask, reply.raw))

    async def _end_malformed(self, conn: _ConnectionState, exc: RemoteProtocolError) -> None:
        """End the connection at a reply that does not parse, in ``strict_replies`` mode."""
        received = decode_text(exc.raw.rstrip(b"\r\n"))
        text = f"{self.address} sent a reply that does not parse: {exc.message}"
        if received and received not in exc.message:
            text += f"; received {received!r}"
        error = MalformedReplyError(
            text,
            "the server does not follow the reply format of RFC 5321 section 4.2 (a three-digit "
            "code on every line, the same code on each line of one reply): check that TARGET is "
            "an SMTP port",
            exc.raw,
        )
        await self._end_connection(
            conn, "closed by the client: the server sent a reply that does not parse", None, error
        )

    async def _end_flood(self, conn: _ConnectionState) -> None:
        message = (
            f"the server sent more than {MAX_UNSOLICITED_REPLIES} replies in a row that no "
            "command asked for"
        )
        self._emit(
            AdviceGiven(Advice("error", f"{message}; closing the connection", "reply.flood"))
        )
        await self._end_connection(conn, "closed by the client: reply flood", message)

    def _queue_reply(self, item: Reply | RemoteProtocolError | _ClosedMarker) -> None:
        if self._replies.qsize() >= REPLY_QUEUE_SIZE:
            self._replies.get_nowait()
        self._replies.put_nowait(item)

    def _note_overlong(self, conn: _ConnectionState) -> None:
        if conn.parser.dropped_bytes > conn.dropped_reported and not conn.overlong_noted:
            conn.overlong_noted = True
            self._emit(
                Note(
                    f"a reply line is longer than {conn.parser.max_line_bytes} bytes; its first "
                    f"{conn.parser.max_line_bytes} bytes are kept and the rest is discarded"
                )
            )

    def _report_dropped(self, conn: _ConnectionState) -> None:
        dropped = conn.parser.dropped_bytes - conn.dropped_reported
        conn.overlong_noted = False
        if dropped > 0:
            conn.dropped_reported = conn.parser.dropped_bytes
            self._emit(Note(f"{dropped} bytes past the line limit were discarded"))

    async def _on_eof(self, conn: _ConnectionState, error: str | None = None) -> None:
        """Parse what is left after the end of the stream, then end the connection."""
        mid_reply = conn.parser.partial
        conn.parser.feed_eof()
        # The connection ends now, which fails every wait, so a bad last reply takes no slot.
        self._process_replies(conn, at_eof=True)
        if conn.malformed is not None:
            await self._end_malformed(conn, conn.malformed)
            return
        if error is not None:
            reason = "the connection broke"
        elif self._quit_sent():
            reason = "the server closed the connection after QUIT"
        else:
            reason = "the server closed the connection"
        if mid_reply:
            reason += " in the middle of a reply"
        await self._end_connection(conn, reason, error)

    def _quit_sent(self) -> bool:
        for event in reversed(self.transcript.events):
            if isinstance(event, LineSent):
                return commands.verb_of(event.raw) == "QUIT"
        return False

    async def _end_connection(
        self,
        conn: _ConnectionState,
        reason: str,
        error: str | None,
        cause: Exception | None = None,
    ) -> None:
        """Close the connection and fail every wait for a reply with ``cause``, or with a
        ``ConnectionLost`` that gives ``reason`` when ``cause`` is None."""
        if conn.ended:
            return
        conn.ended = True
        self.closed = True
        self.dialogue.connection_closed()
        self._emit(ConnectionClosed(reason, error))
        lost = cause or ConnectionLost(f"{reason} ({self.address})", "connect again to continue")
        _fail_all(conn.awaiting, lost)
        self._queue_reply(_ClosedMarker(f"{reason} ({self.address})", cause))
        self._stop_keepalive()
        await conn.transport.close()

    # TLS

    async def start_tls(self, verify: bool | None = None) -> TlsInfo:
        """Finish the STARTTLS upgrade after a 220 reply, and return the handshake result.

        The session starts the handshake itself as soon as the 220 arrives; this waits for it.
        After a failed handshake, ``verify=False`` is the explicit choice to continue without
        verification: it reconnects and repeats greeting, EHLO and STARTTLS (or, for implicit
        TLS, the connection) with an unverified handshake, all in the transcript, and marks the
        session insecure. It does not send the EHLO that should follow; ``retry_insecure`` does.

        Raises:
            TlsError: the handshake failed, or there is no STARTTLS 220 to complete.
        """
        conn = self._conn
        if conn is not None and not conn.ended:
            handshake = conn.handshake
            if handshake is None and self.dialogue.phase is Phase.TLS_PENDING:
                handshake = conn.handshake = self._begin_handshake(conn, verify)
            if handshake is not None:
                try:
                    return await asyncio.shield(handshake)
                except TlsError:
                    if verify is not False:
                        raise
        if verify is False and self.tls_failure is not None:
            return await self._reconnect_without_verification()
        if self.tls_failure is not None:
            raise TlsError(
                "the last TLS handshake failed, so the connection was closed",
                "fix the TLS options and connect again, or continue without verification by "
                "explicit choice",
            )
        raise TlsError(
            "no STARTTLS handshake to perform",
            "send STARTTLS and wait for its 220 reply first",
        )

    async def retry_insecure(self) -> TlsInfo:
        """Continue without verification after a failed handshake, then EHLO unless manual."""
        info = await self.start_tls(verify=False)
        if not self.options.manual:
            await self.ehlo(source="auto")
        return info

    def _begin_handshake(
        self, conn: _ConnectionState, verify: bool | None
    ) -> asyncio.Task[TlsInfo]:
        task = asyncio.create_task(self._handshake(conn, verify), name=f"smtp-tls {self.address}")
        # The outcome is also in the transcript, so no caller has to await the task.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    async def _handshake(self, conn: _ConnectionState, verify: bool | None) -> TlsInfo:
        # RFC 3207 section 6: anything received before the handshake is not protected by TLS.
        leftover = conn.parser.take_buffered() + await conn.transport.read_available()
        if leftover:
            self._emit(BytesDiscarded(leftover, INJECTION_REASON))
        verified = self._verify(verify)
        try:
            context = create_context(self.options.tls, verify=verified)
            await conn.transport.start_tls(context, self.server_name, self.options.connect_timeout)
        except TlsError as exc:
            self.tls_failure = "starttls"
            await self._report_tls_failure(exc, starttls=True)
            await self._end_connection(conn, "the TLS handshake failed", exc.message)
            raise
        # Bytes that landed in the stream buffer between the check above and the switch to TLS
        # were never decrypted, and a server sends nothing over TLS before the client's EHLO.
        late = await conn.transport.read_available()
        if late:
            self._emit(BytesDiscarded(late, LATE_BYTES_REASON))
        ssl_object = conn.transport.ssl_object
        assert ssl_object is not None
        self.tls_info = tls_info_from(ssl_object, verified=verified, server_name=self.server_name)
        advice = self.dialogue.tls_started()
        self._emit(TlsStarted(self.tls_info))
        self._emit_advice(advice)
        self._drop_unanswerable(conn)
        self._start_reader(conn)
        return self.tls_info

    def _drop_unanswerable(self, conn: _ConnectionState) -> None:
        """Fail the waits for lines sent between STARTTLS and the handshake: they get no reply."""
        unanswered = SmtpConsoleError(
            "the line was sent between STARTTLS and the TLS handshake, so it gets no reply",
            "send nothing after STARTTLS until TLS has started",
        )
        _fail_all(conn.awaiting, unanswered)

    async def _report_tls_failure(self, exc: TlsError, *, starttls: bool) -> None:
        """Emit ``TlsFailed``; after a verification failure, with the certificate fetched over a
        second connection, because the failed handshake does not expose it."""
        cause = exc.__cause__
        info = None
        if isinstance(cause, ssl.SSLCertVerificationError):
            info = await self._fetch_certificate(starttls, failure_reason(cause))
        exc.details = info
        self._emit(TlsFailed(exc.message if exc.hint is None else str(exc), info))

    async def _fetch_certificate(self, starttls: bool, verify_error: str) -> TlsInfo | None:
        try:
            info = await fetch_certificate(
                self.options, starttls=starttls, ehlo_name=self._ehlo_name()
            )
        except (TransportError, RemoteProtocolError) as exc:
            self._emit(Note(f"could not fetch the server certificate: {exc}"))
            return None
        self._emit(
            Note(
                "fetched the server certificate over a second connection without verification"
                + (" (its greeting, EHLO and STARTTLS are not shown)" if starttls else "")
            )
        )
        return replace(info, verify_error=verify_error)

    async def _reconnect_without_verification(self) -> TlsInfo:
        failure = self.tls_failure
        steps = "the connection" if failure == "implicit" else "greeting, EHLO and STARTTLS"
        self._emit(
            Note(
                f"continuing WITHOUT certificate verification, as requested: reconnecting to "
                f"{self.address} and repeating {steps}"
            )
        )
        self.insecure = True
        if failure == "implicit":
            await self._open(verify=False)
        else:
            greeting = await self._open(verify=False)
            if greeting.code != 220:
                raise TlsError(
                    f"{self.address} greeted with {greeting.code} on reconnecting, so STARTTLS "
                    "cannot follow",
                    "read the greeting in the transcript, and connect again later",
                )
            await self._auto_starttls(await self.ehlo(source="auto"))
        self.tls_failure = None
        assert self.tls_info is not None
        return self.tls_info

    # Authentication

    async def authenticate(self, mechanism: sasl.SaslMechanism) -> Reply:
        """Run one SASL exchange (RFC 4954) and return the final reply (235 on success).

        Each 334 challenge is decoded and shown as a ``Note``; each response goes out as a
        secret line. A challenge that is not base64 cancels the exchange with ``*``.

        Raises:
            RemoteProtocolError: the server accepted (235) but the mechanism could not verify
                the server, as SCRAM requires.
        """
        line, _included = sasl.auth_line(mechanism)
        reply = await self.send_command(line, source="auth")
        return await self.continue_authentication(mechanism, reply)

    async def continue_authentication(self, mechanism: sasl.SaslMechanism, reply: Reply) -> Reply:
        """Respond to the 334 challenges from ``reply`` on, as ``authenticate`` does after its AUTH.

        Front ends call this when a typed AUTH line got 334.
        """
        while reply.code == 334 and self.connected:
            try:
                challenge = sasl.decode_challenge(reply.text)
            except RemoteProtocolError as exc:
                return await self._cancel_auth(mechanism, f"the 334 challenge is invalid: {exc}")
            self._emit(Note(_describe_challenge(challenge)))
            try:
                response = mechanism.respond(challenge)
            except RemoteProtocolError as exc:
                return await self._cancel_auth(
                    mechanism, f"the {mechanism.name} exchange failed: {exc}"
                )
            reply = await self.send_command(
                sasl.encode_response(response), source="auth", secret=True
            )
        if reply.code == 235:
            try:
                mechanism.finish(None)
            except RemoteProtocolError as exc:
                self._emit(AdviceGiven(Advice("error", str(exc), "auth.server_unverified")))
                raise
        return reply

    async def _cancel_auth(self, mechanism: sasl.SaslMechanism, problem: str) -> Reply:
        text = f"{problem}; cancelling the exchange with '*' (RFC 4954 section 4)"
        self._emit(AdviceGiven(Advice("error", text, "auth.cancelled")))
        return await self.send_command(mechanism.cancel(), source="auth")

    # Keepalive

    @property
    def keepalive(self) -> float | None:
        """Seconds of idle time before a NOOP is sent; None when the keepalive is off."""
        return self._keepalive_seconds

    def set_keepalive(self, seconds: float | None) -> None:
        """Turn the keepalive on with ``seconds`` of idle time, or off with None or 0."""
        self._keepalive_seconds = seconds if seconds and seconds > 0 else None
        self._stop_keepalive()
        if self.connected:
            self._start_keepalive()

    def _start_keepalive(self) -> None:
        self._stop_keepalive()
        interval = self._keepalive_seconds
        if interval and interval > 0:
            self._keepalive = asyncio.create_task(
                self._keepalive_loop(interval), name=f"smtp-keepalive {self.address}"
            )

    def _stop_keepalive(self) -> None:
        task = self._keepalive
        self._keepalive = None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _keepalive_loop(self, interval: float) -> None:
        started = time.monotonic()
        while self.connected:
            last_activity = max(started, self.last_sent_at or 0.0, self.last_reply_at or 0.0)
            idle = time.monotonic() - last_activity
            if idle < interval:
                await asyncio.sleep(interval - idle)
                continue
            if self._keepalive_allowed():
                self._emit(Note(f"idle for {idle:.0f} s: sending NOOP to keep the connection open"))
                try:
                    # The reply resolves a future that no caller awaits, so it stays out of the
                    # read_reply queue.
                    await self._send(b"NOOP\r\n", "keepalive", expect_reply=True)
                except TransportError:
                    return
            else:
                await asyncio.sleep(interval)

    def _keepalive_allowed(self) -> bool:
        conn = self._conn
        return (
            conn is not None
            and not conn.ended
            and not conn.awaiting
            and self.dialogue.phase in _KEEPALIVE_PHASES
        )

    # Closing

    async def close(self) -> None:
        """Send QUIT when the dialogue allows it, then close the connection."""
        conn = self._conn
        if conn is None or conn.ended:
            await self._drop_connection()
            return
        # A QUIT already sent, pipelined after a message, must not be followed by another one.
        # Without a greeting the server has not spoken yet, and the client must not talk first
        # (RFC 5321 section 3.1).
        # Inside DATA or a BDAT chunk the server would read QUIT as message content.
        quit_allowed = not (
            self.dialogue.mid_message
            or self.dialogue.awaiting_auth_response
            or self.dialogue.greeting is None
            or self._quit_sent()
        )
        if quit_allowed and self.dialogue.phase not in (Phase.CLOSED, Phase.TLS_PENDING):
            with contextlib.suppress(TransportError, RemoteProtocolError):
                await self._send_closing_quit(conn)
        await self._drop_connection("closed by the client")

    async def _send_closing_quit(self, conn: _ConnectionState) -> None:
        """Send QUIT without advice, which is about the user's lines, and wait briefly."""
        timeout = min(self.options.read_timeout, QUIT_TIMEOUT_SECONDS)
        now = time.monotonic()
        if any(
            awaited.overdue or now - awaited.sent_at >= self.options.read_timeout
            for awaited in conn.awaiting
        ):
            timeout = min(timeout, OVERDUE_QUIT_TIMEOUT_SECONDS)
        raw = commands.encode_line(commands.quit())
        awaited = await self._send(raw, "auto", expect_reply=True, advise=False)
        assert awaited is not None
        await self._wait_reply(awaited, timeout, note=False)

    async def _drop_connection(self, reason: str = "closed by the client") -> None:
        conn = self._conn
        self._stop_keepalive()
        if conn is None:
            return
        current = asyncio.current_task()
        for task in (conn.reader, conn.handshake):
            if task is not None and task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, SmtpConsoleError):
                    await task
        await self._end_connection(conn, reason, None)


def _lines_for_dialogue(payload: bytes) -> list[bytes]:
    """Return the lines of a DATA payload that the dialogue needs: the header section, up to and
    including the empty line that ends it, and the final ``.``.

    The dialogue's state changes only on header lines and on the end line, so the body lines are
    left out. Passing every line of a 20 MB message to the dialogue took about 0.8 s.
    """
    message = payload[:-3]
    if message.startswith(b"\r\n"):
        header = [b""]
    else:
        end = message.find(b"\r\n\r\n")
        header = message.split(b"\r\n")[:-1] if end < 0 else [*message[:end].split(b"\r\n"), b""]
    return [*header, b"."]


def _fail_all(awaiting: deque[_Awaited], error: Exception) -> None:
    for awaited in awaiting:
        awaited.stop_timer()
        if awaited.future is not None and not awaited.future.done():
            awaited.future.set_exception(error)
            # Mark the exception retrieved, because the caller may have stopped waiting.
            awaited.future.exception()
    awaiting.clear()


def _no_reply_message(address: str, seconds: float) -> str:
    return f"no reply from {address} within {seconds:g} s"


def _read_timeout_error(address: str, seconds: float) -> ReadTimeout:
    return ReadTimeout(
        _no_reply_message(address, seconds),
        "the server may wait for more input (a line, or the end of DATA); send it, or raise "
        "--timeout if the server is slow",
    )


def _describe_challenge(challenge: bytes) -> str:
    if not challenge:
        return "334 challenge: empty (the server waits for the first response)"
    return f"334 challenge, decoded: {decode_text(challenge)!r}"


async def fetch_certificate(options: ConnectOptions, *, starttls: bool, ehlo_name: str) -> TlsInfo:
    """Connect without verification and return the server's certificate details.

    For STARTTLS this reads the greeting, sends EHLO and STARTTLS and expects 220 before the
    handshake. The connection is closed afterwards.

    Raises:
        TransportError: connecting, the exchange or the handshake failed.
        RemoteProtocolError: the server's replies did not parse.
    """
    server_name = options.tls.sni or options.host
    context = create_context(options.tls, verify=False)
    transport = await Transport.open(
        options.host,
        options.port,
        family=options.family,
        ssl_context=None if starttls else context,
        server_hostname=server_name,
        timeout=options.connect_timeout,
    )
    try:
        if starttls:
            await _starttls_exchange(transport, options, ehlo_name)
            await transport.start_tls(context, server_name, options.connect_timeout)
        ssl_object = transport.ssl_object
        if ssl_object is None:
            raise TlsError(f"no TLS connection to {options.address}")
        info = tls_info_from(ssl_object, verified=False, server_name=server_name)
        # A QUIT spares the server an error about a client that left mid-dialogue.
        with contextlib.suppress(TransportError):
            await transport.write(commands.encode_line(commands.quit()))
        return info
    finally:
        await transport.close()


async def _starttls_exchange(transport: Transport, options: ConnectOptions, ehlo_name: str) -> None:
    parser = ReplyParser(options.max_line_bytes)
    for line, expected in (
        (None, 220),
        (commands.ehlo(ehlo_name), 250),
        (commands.starttls(), 220),
    ):
        if line is not None:
            await transport.write(commands.encode_line(line))
        reply = await _read_one_reply(transport, parser, options.read_timeout)
        if reply.code != expected:
            raise TlsError(
                f"{options.address} replied {reply.code} {reply.text!r} where {expected} was "
                "expected, while fetching its certificate"
            )


async def _read_one_reply(transport: Transport, parser: ReplyParser, timeout: float) -> Reply:
    while True:
        result = parser.next_reply()
        if isinstance(result, Reply):
            return result
        if result is CLOSED:
            raise ConnectionLost(f"{transport.address} closed the connection")
        data = await transport.read(timeout)
        if data:
            parser.feed(data)
        else:
            parser.feed_eof()
