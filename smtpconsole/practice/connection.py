"""One practice-server connection: aiosmtpd's SMTP protocol with SES reply texts and limits.

aiosmtpd 1.4.6 creates one ``SMTP`` instance per client connection. This subclass changes three
things its options cannot:

- Reply texts. ``push`` is the one place every reply passes, so a table there replaces the texts
  aiosmtpd hard-codes with the ones SES sends (``250 Ok`` for ``250 OK``, and so on).
- The idle timeout. aiosmtpd's ``timeout`` closes silently and restarts only on a valid command,
  so typing a message by hand in DATA would time out. Here every received byte restarts the timer,
  and a timeout sends ``421 Timeout waiting for data from client.`` before closing, as SES does.
- A limit on rejected commands: after ``max_bad_commands`` replies with codes 500 to 504 the
  server sends 421 and closes. aiosmtpd also closes after 5 unrecognised verbs (its module
  constant ``BOGUS_LIMIT``), so that limit comes first for unknown verbs. Its ``502 5.5.1`` reply
  is replaced by the same 421.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any, AnyStr, Final

from aiosmtpd.smtp import SMTP

from smtpconsole.practice.rules import (
    REPLY_AUTH_REQUIRED,
    REPLY_OK,
    REPLY_STARTTLS_FIRST,
    REPLY_TIMEOUT,
    REPLY_TOO_MANY_ERRORS,
    SERVER_NAME,
    PracticeHandler,
    PracticeRules,
)

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_SECONDS: Final = 3600.0
"""aiosmtpd's own timeout: time allowed between two valid commands, a backstop to the idle timer."""

# Replies aiosmtpd 1.4.6 hard-codes in smtp.py, and what SES sends in their place.
_REPLACED_REPLIES: Final = {
    "250 OK": REPLY_OK,
    "530 5.7.0 Authentication required": REPLY_AUTH_REQUIRED,
    # With require_starttls off, AUTH before TLS gets this 538; SES sends 530 either way.
    "538 5.7.11 Encryption required for requested authentication mechanism": REPLY_STARTTLS_FIRST,
    "502 5.5.1 Too many unrecognized commands, goodbye.": REPLY_TOO_MANY_ERRORS,
}

_BAD_COMMAND_CODES: Final = range(500, 505)


class _DropLoginDataWarning(logging.Filter):
    """Drop aiosmtpd's warning about its own use of ``Session.login_data`` on every AUTH.

    aiosmtpd 1.4.6 sets the deprecated attribute itself after each successful AUTH and logs a
    warning for it, which would reach the terminal through logging's last-resort handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Session.login_data is deprecated" not in record.getMessage()


def quiet_aiosmtpd_warnings() -> None:
    """Install the filter on aiosmtpd's ``mail.log`` logger once."""
    logger = logging.getLogger("mail.log")
    if not any(isinstance(f, _DropLoginDataWarning) for f in logger.filters):
        logger.addFilter(_DropLoginDataWarning())


class PracticeConnection(SMTP):
    """aiosmtpd SMTP protocol for one client of the practice server."""

    # AUTH LOGIN prompts as SES sends them (base64 of "Username:" and "Password:").
    AuthLoginUsernameChallenge = "Username:"
    AuthLoginPasswordChallenge = "Password:"

    def __init__(
        self,
        handler: PracticeHandler,
        *,
        rules: PracticeRules,
        tls_context: ssl.SSLContext,
        session_id: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(
            handler,
            hostname=SERVER_NAME,
            ident=f"ESMTP SmtpConsolePractice-{session_id} practice server on localhost",
            tls_context=tls_context,
            require_starttls=rules.require_starttls,
            auth_required=rules.require_auth,
            auth_require_tls=True,
            authenticator=handler.authenticate,
            data_size_limit=rules.max_message_bytes,
            enable_SMTPUTF8=False,
            timeout=COMMAND_TIMEOUT_SECONDS,
            loop=loop,
        )
        self.rules = rules
        self.session_id = session_id
        self.bad_commands = 0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._closing = False

    # Idle timer: asyncio Protocol callbacks, which aiosmtpd also implements.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Called again after STARTTLS with the TLS transport; the timer simply restarts.
        super().connection_made(transport)
        self._restart_idle_timer()

    def data_received(self, data: bytes) -> None:
        self._restart_idle_timer()
        super().data_received(data)

    def connection_lost(self, error: Exception | None) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        super().connection_lost(error)

    def _restart_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = self.loop.call_later(self.rules.idle_timeout, self._idle_timed_out)

    def _idle_timed_out(self) -> None:
        log.info("%r idle for %.1f s, closing", self._peer(), self.rules.idle_timeout)
        self._close_with(REPLY_TIMEOUT)

    def _close_with(self, reply: str) -> None:
        # transport.close() sends the buffered reply before closing, also over TLS.
        transport = self.transport
        if self._closing or transport is None:
            return
        self._closing = True
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(reply.encode("ascii") + b"\r\n")
        transport.close()

    def _peer(self) -> Any:
        return self.session.peer if self.session is not None else None

    # Replies.

    async def push(self, status: AnyStr) -> None:
        """Send one reply line, with SES's text in place of aiosmtpd's, and count rejections."""
        if self._closing:
            return
        if isinstance(status, str):
            text = _REPLACED_REPLIES.get(status, status)
            if text == REPLY_TOO_MANY_ERRORS:
                # aiosmtpd closes the transport itself right after this reply.
                self._closing = True
            await super().push(text)
            code = _reply_code(text)
        else:
            await super().push(status)
            code = _reply_code(status.decode("ascii", errors="replace"))
        if code in _BAD_COMMAND_CODES:
            self.bad_commands += 1
            if self.bad_commands >= self.rules.max_bad_commands:
                log.info("%r sent %d bad commands, closing", self._peer(), self.bad_commands)
                self._close_with(REPLY_TOO_MANY_ERRORS)


def _reply_code(status: str) -> int | None:
    head = status[:3]
    return int(head) if head.isdigit() else None
