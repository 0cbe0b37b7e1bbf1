"""Rules of the practice server and the aiosmtpd handler hooks that apply them.

The replies copy what the AWS SES SMTP endpoint sends, with the practice server's own name and the
region ``PRACTICE-LOCAL-1`` where SES names itself and its region. aiosmtpd's options carry most
rules (``require_starttls``, ``auth_required``, ``data_size_limit``); this module adds what they
cannot express:

- EHLO lists ``AUTH PLAIN LOGIN`` before STARTTLS too, as SES does, although AUTH is refused
  with 530 until TLS is active.
- Sender identities are checked at the end of DATA, as SES does: the envelope sender (MAIL FROM)
  and every address in the ``From`` header must be verified. In sandbox mode, recipients must be
  verified as well. A rejected message is not stored.
- Accepted messages go to the mailbox with warnings about their headers.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from smtpconsole.practice.mailbox import Mailbox, StoredMessage, header_warnings

SERVER_NAME: Final = "localhost"
"""Name in the greeting and the first EHLO line; SES sends ``email-smtp.amazonaws.com`` there."""

REGION: Final = "PRACTICE-LOCAL-1"
"""Region named in the 554 rejection, where SES names its own region (for example US-EAST-1)."""

MAX_MESSAGE_BYTES: Final = 10_485_760
"""Message size limit advertised with SIZE and enforced with 552; SES advertised 10 MiB."""

IDLE_TIMEOUT_SECONDS: Final = 10.0
"""Seconds without data from the client before ``421 Timeout ...`` and close."""

MAX_BAD_COMMANDS: Final = 10
"""Rejected commands (reply codes 500 to 504) allowed per connection before 421 and close."""

DEFAULT_USER: Final = "practice-user"

DEFAULT_VERIFIED: Final = ("sender@example.com", "verified.example")
"""Verified identities: a full address, or a domain that verifies every address in it."""

# Reply texts, as the SES SMTP endpoint sends them.
REPLY_AUTH_OK: Final = "235 Authentication successful."
REPLY_AUTH_INVALID: Final = "535 Authentication Credentials Invalid"
REPLY_AUTH_REQUIRED: Final = "530 Authentication required"
REPLY_STARTTLS_FIRST: Final = "530 Must issue a STARTTLS command first"
REPLY_TIMEOUT: Final = "421 Timeout waiting for data from client."
REPLY_TOO_MANY_ERRORS: Final = "421 Too many bad commands, closing connection."
REPLY_OK: Final = "250 Ok"
REPLY_NOT_VERIFIED: Final = (
    "554 Message rejected: Email address is not verified. "
    "The following identities failed the check in region {region}: {identities}"
)


@dataclass(frozen=True)
class PracticeRules:
    """Strictness settings of the practice server; the defaults behave like SES."""

    require_starttls: bool = True
    """Reject every command but EHLO, STARTTLS, NOOP and QUIT until TLS is active (530)."""
    require_auth: bool = True
    """Reject MAIL, RCPT and DATA until AUTH succeeds (530)."""
    verified_identities: tuple[str, ...] = DEFAULT_VERIFIED
    """Addresses, or whole domains, that may appear as sender."""
    sandbox: bool = False
    """Also require every recipient to be verified, as SES does for accounts in its sandbox."""
    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_bad_commands: int = MAX_BAD_COMMANDS
    region: str = REGION

    def is_verified(self, address: str) -> bool:
        """Return True when ``address`` or its domain is a verified identity (case-insensitive)."""
        address = address.lower()
        domain = address.rpartition("@")[2]
        for identity in self.verified_identities:
            identity = identity.lower()
            if identity == address or ("@" not in identity and identity == domain):
                return True
        return False


def new_session_id() -> str:
    """Return an id for one connection, shown in its greeting."""
    return secrets.token_hex(8)


def new_message_id() -> str:
    """Return an id in the form SES uses: time in hex, a UUID and a sequence suffix."""
    return f"{int(time.time() * 1000):016x}-{uuid.uuid4()}-000000"


def ehlo_lines(server_name: str, rules: PracticeRules, tls_active: bool) -> list[str]:
    """Return the EHLO reply lines, in SES's order; STARTTLS is dropped once TLS is active."""
    lines = [f"250-{server_name}", "250-8BITMIME", f"250-SIZE {rules.max_message_bytes}"]
    if not tls_active:
        lines.append("250-STARTTLS")
    lines.append("250-AUTH PLAIN LOGIN")
    lines.append(REPLY_OK)
    return lines


def _header_addresses(raw: bytes) -> list[str]:
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    values = parser.parsebytes(raw).get_all("From") or []
    return [address for _, address in email.utils.getaddresses(values) if address]


def unverified_identities(rules: PracticeRules, envelope: Envelope) -> list[str]:
    """Return the addresses that fail the identity check, each once, in the order found."""
    candidates: list[str] = [envelope.mail_from or ""]
    candidates += _header_addresses(envelope.original_content or b"")
    if rules.sandbox:
        candidates += envelope.rcpt_tos
    return _unique(a for a in candidates if a and not rules.is_verified(a))


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


class PracticeHandler:
    """aiosmtpd handler: EHLO lines, the identity check at the end of DATA, and the mailbox."""

    def __init__(self, rules: PracticeRules, mailbox: Mailbox, user: str, password: str) -> None:
        self.rules = rules
        self.mailbox = mailbox
        self.user = user
        self._password = password

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        # aiosmtpd's five-argument hook replaces the whole reply and must record the name itself.
        session.host_name = hostname
        return ehlo_lines(server.hostname, self.rules, tls_active=session.ssl is not None)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failed = unverified_identities(self.rules, envelope)
        if failed:
            return REPLY_NOT_VERIFIED.format(region=self.rules.region, identities=", ".join(failed))
        message_id = new_message_id()
        raw = envelope.original_content or b""
        self.mailbox.add(
            StoredMessage(
                message_id=message_id,
                mail_from=envelope.mail_from or "",
                rcpt_to=tuple(envelope.rcpt_tos),
                raw=raw,
                peer=_format_peer(session.peer),
                username=_login_name(session),
                tls=session.ssl is not None,
                warnings=header_warnings(raw),
            )
        )
        return f"{REPLY_OK} {message_id}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd ``authenticator``: accept only the practice user and its password."""
        valid = (
            isinstance(auth_data, LoginPassword)
            and secrets.compare_digest(auth_data.login, self.user.encode())
            and secrets.compare_digest(auth_data.password, self._password.encode())
        )
        if valid:
            return AuthResult(success=True, auth_data=auth_data, message=REPLY_AUTH_OK)
        return AuthResult(success=False, handled=False, message=REPLY_AUTH_INVALID)


def _format_peer(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(peer)


def _login_name(session: Session) -> str | None:
    auth_data = session.auth_data
    if isinstance(auth_data, LoginPassword):
        return auth_data.login.decode("utf-8", errors="backslashreplace")
    return None
