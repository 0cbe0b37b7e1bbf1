"""Hints for replies that well-known providers send: AWS SES, Gmail, Office 365 and Postfix.

Each pattern matches on the reply text and, where the text alone is not distinctive, on the
reply code, the enhanced status code or the server's host name. When no text matches, the
host-based AUTH advice of ``auth_hints`` is used. Providers can change their texts at any time, so
a hint is advice and never changes what the console does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from smtpconsole.protocol import auth_hints
from smtpconsole.protocol.replies import Reply

_GMAIL_HOSTS: Final = ("gmail.com", "google.com", "googlemail.com")


@dataclass(frozen=True)
class ProviderPattern:
    """A reply shape of one provider and the advice for it."""

    provider: str
    hint: str
    text: re.Pattern[str] | None = None
    """Regular expression searched in the reply text; any text when None."""
    codes: frozenset[int] = frozenset()
    """Reply codes it applies to; any code when empty."""
    statuses: frozenset[str] = frozenset()
    """Enhanced status codes it applies to; any status when empty."""
    hosts: tuple[str, ...] = ()
    """Host name suffixes it applies to; any host when empty."""
    verbs: frozenset[str] = frozenset()
    """Commands whose replies it applies to, as ``verb_of`` returns them; any when empty."""

    def matches(self, reply: Reply, host: str | None, last_verb: str | None) -> bool:
        if self.codes and reply.code not in self.codes:
            return False
        if self.statuses and reply.enhanced_status not in self.statuses:
            return False
        if self.hosts and not _host_in(host, self.hosts):
            return False
        if self.verbs and (last_verb or "").upper() not in self.verbs:
            return False
        return self.text is None or self.text.search(reply.text) is not None


def _host_in(host: str | None, suffixes: tuple[str, ...]) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == suffix or host.endswith("." + suffix) for suffix in suffixes)


def _text(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_SES_CREDENTIALS: Final = (
    "this is the reply SES sends for wrong SMTP credentials. Use the SMTP user name and password "
    "made for SES SMTP, not the IAM access key pair, and the endpoint of the region they were "
    "made for."
)

# Ordered: the first matching pattern gives the hint, so specific patterns come first.
PATTERNS: Final[tuple[ProviderPattern, ...]] = (
    # AWS SES
    ProviderPattern(
        "AWS SES",
        "every sender identity (the MAIL FROM address and the From header) must be verified "
        "in the SES console for the region named in the reply. In the SES sandbox the "
        "recipients must be verified too. Verify the address or its whole domain, or request "
        "production access.",
        text=_text(r"Email address is not verified"),
    ),
    ProviderPattern(
        "AWS SES",
        _SES_CREDENTIALS,
        # Case-sensitive: aiosmtpd and others send "Authentication credentials invalid".
        text=re.compile(r"Authentication Credentials Invalid"),
        codes=frozenset({535}),
    ),
    ProviderPattern(
        "AWS SES",
        "the 24-hour sending quota of the account is used up. Wait until the oldest messages "
        "leave the 24-hour window, or request a higher quota.",
        text=_text(r"Daily message quota exceeded"),
    ),
    ProviderPattern(
        "AWS SES",
        "messages are sent faster than the account's maximum send rate per second. Slow down and "
        "retry with increasing pauses.",
        text=_text(r"Maximum sending rate exceeded"),
    ),
    # Gmail
    ProviderPattern(
        "Gmail",
        "Google rejects the normal account password here. With 2-Step Verification, create an "
        "app password (Google Account, Security, App passwords) and use it, or authenticate "
        "with OAuth 2.0 (XOAUTH2).",
        text=_text(
            r"BadCredentials|Username and Password not accepted|"
            r"Application-specific password required"
        ),
    ),
    ProviderPattern(
        "Gmail",
        "the sender domain's DMARC policy requires authenticated mail. Publish SPF and sign "
        "with DKIM for the From domain, or send through that domain's own provider.",
        statuses=frozenset({"5.7.26"}),
    ),
    ProviderPattern(
        "Gmail",
        "Gmail refused the message as unauthenticated or against policy. Authenticate the "
        "sender domain with SPF, DKIM and DMARC, and send through the domain's provider.",
        statuses=frozenset({"5.7.1"}),
        hosts=_GMAIL_HOSTS,
    ),
    ProviderPattern(
        "Gmail",
        "smtp.gmail.com accepts MAIL only after AUTH; authenticate first.",
        statuses=frozenset({"5.7.0"}),
        hosts=_GMAIL_HOSTS,
        text=_text(r"Authentication Required"),
    ),
    # Office 365
    ProviderPattern(
        "Office 365",
        "SMTP AUTH is disabled for this mailbox or the whole tenant, or security defaults block "
        "basic authentication. An administrator can enable it with "
        "`Set-CASMailbox -Identity USER -SmtpClientAuthenticationDisabled $false`; otherwise "
        "authenticate with OAuth 2.0 (XOAUTH2).",
        text=_text(r"SmtpClientAuthentication is disabled|5\.7\.139"),
    ),
    ProviderPattern(
        "Office 365",
        "smtp.office365.com accepts MAIL only from authenticated clients: send STARTTLS, EHLO, "
        "then AUTH before MAIL FROM.",
        text=_text(r"Client not authenticated to send mail|5\.7\.57"),
    ),
    ProviderPattern(
        "Office 365",
        "the user name or password was rejected, or SMTP AUTH is disabled for the mailbox. "
        "Check `Get-CASMailbox USER | Format-List SmtpClientAuthenticationDisabled`, and use "
        "an app password or XOAUTH2 when multi-factor authentication is on.",
        statuses=frozenset({"5.7.3"}),
    ),
    ProviderPattern(
        "Office 365",
        "the logged-in user may not send as this sender. Use the mailbox's own address in MAIL "
        "FROM and From, or have an administrator grant Send As.",
        text=_text(r"SendAsDenied|5\.7\.60"),
    ),
    # Postfix
    ProviderPattern(
        "Postfix",
        "the server relays to other domains only for authenticated or trusted clients. "
        "Authenticate with AUTH first, or send only to domains this server hosts.",
        text=_text(r"Relay access denied"),
    ),
    ProviderPattern(
        "Postfix",
        "DATA came before any recipient was accepted (Postfix and aiosmtpd send this text). "
        "Send RCPT TO and check for a 250 reply before DATA.",
        text=_text(r"need RCPT command"),
    ),
    ProviderPattern(
        "Postfix",
        "RCPT TO came before MAIL FROM. Start the message with MAIL FROM:<sender>.",
        text=_text(r"need MAIL command"),
    ),
    ProviderPattern(
        "Postfix",
        "the sender restrictions rejected MAIL FROM: the sender domain may not exist, or the "
        "logged-in user may not use this address (reject_sender_login_mismatch). Use the "
        "address the account owns.",
        text=_text(r"Sender address rejected"),
    ),
    ProviderPattern(
        "Postfix",
        "the recipient restrictions rejected this address: the mailbox is unknown or relaying "
        "is not allowed. Check the address, or authenticate.",
        text=_text(r"Recipient address rejected"),
    ),
    # Any provider: the text SES, Gmail and aiosmtpd send before TLS.
    ProviderPattern(
        "Any provider",
        "send STARTTLS, finish the TLS handshake, send EHLO again, then repeat the command.",
        text=_text(r"Must issue a STARTTLS command first"),
    ),
)


def _auth_hint(reply: Reply, host: str | None) -> str | None:
    hint = auth_hints.provider_hint(reply.code, host)
    return None if hint is None else f"{hint.provider}: {hint.text}"


def provider_hint(
    reply: Reply, *, host: str | None = None, last_verb: str | None = None
) -> str | None:
    """Return ``"<provider>: <advice>"`` for the first pattern that matches, or None."""
    for pattern in PATTERNS:
        if pattern.matches(reply, host, last_verb):
            return f"{pattern.provider}: {pattern.hint}"
    # Host-based advice for AUTH replies (SES, Gmail, Microsoft 365) lives in auth_hints.
    return _auth_hint(reply, host)
