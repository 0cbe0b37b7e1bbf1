"""The link between the Textual app and one live ``Session``: workers, event batches, errors.

Every network action runs in a Textual worker through ``SessionController.run``, which turns a
lost connection, a TLS failure or a timeout into a ``ConnectionFailed`` message, never a traceback.
Transcript events are gathered and posted in batches, so a flood of lines costs one pane update
per batch rather than one per line.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from textual.message_pump import MessagePump

from smtpconsole.errors import (
    ConnectionLost,
    ReadTimeout,
    SmtpConsoleError,
    TlsError,
    TransportError,
)
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.tui.messages import ConnectionFailed, EventsReceived, SessionChanged

if TYPE_CHECKING:
    from textual.app import App

    from smtpconsole.protocol.message import BuiltMessage
    from smtpconsole.protocol.replies import Reply
    from smtpconsole.recording import SavedScenario
    from smtpconsole.session import Session
    from smtpconsole.transcript import Event

BATCH_SECONDS = 0.02
"""Maximum delay before an event is shown; events arriving meanwhile share one pane update."""

MAX_EVENTS_PER_MESSAGE = 500
"""Maximum number of events formatted in one message handler, so input is handled in between."""

KEEPALIVE_SECONDS = 5.0
"""Idle seconds before a keepalive NOOP when the options set no interval and the user turns it on.

Shorter than common idle timeouts, so the NOOP comes before the server gives up: the practice
server closes a connection after 10 s idle (``practice.rules.IDLE_TIMEOUT_SECONDS``), and Amazon
SES has been seen to close one after about 10 s too.
"""

SessionFactory = Callable[[ConnectOptions], "Session"]


def _default_session_factory(options: ConnectOptions) -> Session:
    from smtpconsole.session import Session

    return Session(options)


class SessionController:
    """Owns the app's session; a reconnect reuses it, so the transcript continues."""

    def __init__(
        self,
        app: App[int],
        target: MessagePump,
        options: ConsoleOptions,
        session_factory: SessionFactory = _default_session_factory,
    ) -> None:
        self.app = app
        self.target = target
        """Where batches and failures are posted: the main screen."""
        self.options = options
        self.session: Session | None = None
        self._typed_lock: asyncio.Lock | None = None
        self._keepalive_on = bool(options.connect.keepalive)
        self.keepalive_seconds = options.connect.keepalive or KEEPALIVE_SECONDS
        """Idle seconds before a keepalive NOOP when F7 turns it on: the configured interval."""
        self.auth_running = False
        """True while ``authenticate`` runs a SASL exchange, whose 334 challenges need no user input."""
        self._factory = session_factory
        self._pending: list[Event] = []
        self._flush_scheduled = False
        self._unsubscribe: Callable[[], None] | None = None
        self._thread = threading.get_ident()

    # Events

    def _on_event(self, event: Event) -> None:
        if threading.get_ident() != self._thread:
            self.app.call_from_thread(self._on_event, event)
            return
        self._pending.append(event)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.app.set_timer(BATCH_SECONDS, self._flush, name="event batch")

    def _flush(self) -> None:
        self._flush_scheduled = False
        events, self._pending = self._pending, []
        # Several smaller messages let key presses be handled between them during a flood.
        for start in range(0, len(events), MAX_EVENTS_PER_MESSAGE):
            self.target.post_message(EventsReceived(events[start : start + MAX_EVENTS_PER_MESSAGE]))
        self.target.post_message(SessionChanged())

    def add_events(self, events: Sequence[Event]) -> None:
        """Show ``events`` as if the session had sent them (tests and benchmarks)."""
        for event in events:
            self._on_event(event)

    # Running actions

    def run(self, action: Callable[[], Awaitable[object]], description: str) -> None:
        """Run ``action`` in a worker; failures become a ``ConnectionFailed`` or a notification."""
        self.app.run_worker(self._guarded(action, description), group="session", name=description)

    async def _guarded(self, action: Callable[[], Awaitable[object]], description: str) -> None:
        # Imported here, after the first screen: the protocol package is not needed to start.
        from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError

        start = len(self.session.transcript) if self.session is not None else 0
        try:
            await action()
        except TlsError as error:
            reported = self._tls_failure_reported(start)
            self._fail(
                ConnectionFailed(error.message, error.hint, error.details, reported=reported)
            )
        except ReadTimeout as error:
            still_open = self.session is not None and not self.session.closed
            self._fail(ConnectionFailed(error.message, error.hint, connection_open=still_open))
        except TransportError as error:
            self._fail(ConnectionFailed(error.message, error.hint))
        except SmtpConsoleError as error:
            message = error.message + (f"\n{error.hint}" if error.hint else "")
            self.app.notify(message, title=f"{description} failed", severity="error")
        except OSError as error:
            self._fail(ConnectionFailed(f"{description} failed: {error}"))
        except LocalProtocolError as error:
            self.app.notify(error.message, title=f"{description}: not sent", severity="error")
        except RemoteProtocolError as error:
            self.app.notify(error.message, title=f"{description}: bad reply", severity="error")
        finally:
            self._flush_now()

    def _tls_failure_reported(self, start: int) -> bool:
        """Return True when the session put a ``TlsFailed`` event in the transcript since ``start``."""
        from smtpconsole.transcript import TlsFailed

        if self.session is None:
            return False
        return any(isinstance(event, TlsFailed) for event in self.session.transcript.events[start:])

    def _fail(self, failure: ConnectionFailed) -> None:
        # Events already received go first, so the pane shows the failure after its cause.
        if self._pending:
            events, self._pending = self._pending, []
            self.target.post_message(EventsReceived(events))
        self.target.post_message(failure)

    def _flush_now(self) -> None:
        if not self._flush_scheduled:
            self._flush()

    # Session lifetime

    async def connect(self) -> None:
        """Connect, or reconnect on the same session so the transcript continues."""
        session = self.session
        if session is None:
            session = self._factory(self.options.connect)
            self.session = session
            self._unsubscribe = session.subscribe(self._on_event)
            self._adopt_keepalive(session)
        self.target.post_message(SessionChanged())
        await session.connect()

    async def connect_insecure(self) -> None:
        """Continue without certificate verification, by the user's explicit choice.

        After a failed handshake this is the session's ``retry_insecure``, which reconnects and
        repeats the steps in the transcript. The session stays marked insecure until the app
        exits, and the status bar shows it.
        """
        session = self.session
        if session is None:
            raise SmtpConsoleError("not connected yet", "connect first")
        self.target.post_message(SessionChanged())
        if session.tls_failure is not None:
            await session.retry_insecure()
        else:
            await session.connect(verify=False)

    async def close(self) -> None:
        """Send QUIT if still connected and close; the transcript stays readable."""
        session = self.session
        if session is None:
            return
        try:
            if not session.closed:
                await session.close()
        finally:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

    def require_session(self) -> Session:
        """Return the live session, or raise ``SmtpConsoleError`` with a hint to reconnect."""
        session = self.session
        if session is None or session.closed:
            raise ConnectionLost(
                "not connected: the connection is closed", "press F5 (session: reconnect)"
            )
        return session

    # Sending

    async def send_typed(self, text: str) -> None:
        """Send ``text`` verbatim as typed; the session does a STARTTLS handshake itself.

        Each typed line runs in its own worker, so a lock keeps lines typed ahead in their order
        while an earlier one waits, for example for a TLS handshake.
        """
        if self._typed_lock is None:
            self._typed_lock = asyncio.Lock()
        async with self._typed_lock:
            await self.require_session().send_line(text, source="typed")

    async def send_lines(self, lines: Sequence[str]) -> None:
        """Send builder lines in order, each waiting for its reply; STARTTLS then upgrades."""
        session = self.require_session()
        for line in lines:
            reply = await session.send_command(line, source="builder")
            if self._tls_pending(session, reply):
                await session.start_tls()

    @staticmethod
    def _tls_pending(session: Session, reply: Reply) -> bool:
        return reply.code == 220 and session.dialogue.phase.name == "TLS_PENDING"

    async def authenticate(self, mechanism: str, username: str, secret: str) -> Reply:
        """Run a SASL exchange through the session with a token built by ``protocol.sasl``."""
        from smtpconsole.protocol import sasl

        session = self.require_session()
        if not secret:
            secret = self.profile_secret()
        created = sasl.create_mechanism(mechanism, username=username, secret=secret)
        self.auth_running = True
        try:
            return await session.authenticate(created)
        finally:
            self.auth_running = False

    def profile_secret(self) -> str:
        """Return the secret of the profile or command line, never prompting on the terminal.

        Raises:
            CredentialError: no secret is configured, or its source failed.
        """
        from smtpconsole.credentials import resolve_secret
        from smtpconsole.errors import CredentialError

        secret = resolve_secret(self.options.auth, prompt=False)
        if not secret:
            raise CredentialError(
                "no password or token given",
                "type it in the password field, or use --password-env or a profile",
            )
        return secret

    async def answer_challenge(self, answer_base64: str) -> None:
        """Send one response to a 334 challenge; the dialogue marks it secret."""
        await self.require_session().send_line(answer_base64, source="auth")

    async def deliver(
        self,
        mail_from: str,
        recipients: Sequence[str],
        built: BuiltMessage,
        mail_params: Sequence[tuple[str, str | None]] = (),
    ) -> Reply | None:
        """Send MAIL, one RCPT per recipient and DATA with the composed payload.

        Returns:
            The final reply to the message, or None when the server refused MAIL, every
            recipient or DATA (the refusal is in the transcript).
        """
        from smtpconsole.protocol import commands

        session = self.require_session()
        reply = await session.send_command(commands.mail(mail_from, mail_params))
        if not reply.is_success:
            return None
        accepted = 0
        for address in recipients:
            reply = await session.send_command(commands.rcpt(address))
            accepted += reply.is_success
        if accepted == 0:
            return None
        reply = await session.send_command(commands.data())
        if reply.code != 354:
            return None
        return await session.send_data(built.payload_for_data)

    async def export(self, path: str) -> str:
        """Write the redacted transcript as text to ``path``; return the path written."""
        session = self.session
        if session is None:
            raise SmtpConsoleError("nothing to export yet", "connect first")
        return str(session.transcript.export_text(path, reveal=False))

    def save_scenario(self) -> SavedScenario:
        """Save the current connection as a new scenario file in the exports folder.

        Raises:
            NothingToRecordError: no command was sent on the current connection.
        """
        from smtpconsole.recording import ReplaySettings, save_scenario

        session = self.session
        if session is None:
            raise SmtpConsoleError("nothing to record yet: not connected", "connect first")
        settings = ReplaySettings.of_session(session, self.options.auth)
        return save_scenario(session.transcript, settings)

    # Keepalive

    @property
    def keepalive(self) -> float | None:
        """Idle seconds before a keepalive NOOP, as the session uses them; None when it is off."""
        session = self.session
        if session is None:
            return self.keepalive_seconds if self._keepalive_on else None
        return session.keepalive

    def _adopt_keepalive(self, session: Session) -> None:
        # The session's own interval wins, so F7 later turns it back on with the same interval.
        # Without one, F7 may have turned the keepalive on before the session existed.
        if session.keepalive:
            self.keepalive_seconds = session.keepalive
            self._keepalive_on = True
        elif self._keepalive_on:
            session.set_keepalive(self.keepalive_seconds)

    def toggle_keepalive(self) -> float | None:
        """Turn the NOOP keepalive off, or on with ``keepalive_seconds``; return the new interval."""
        interval = None if self.keepalive else self.keepalive_seconds
        self._keepalive_on = interval is not None
        session = self.session
        if session is not None:
            session.set_keepalive(interval)
        return interval
