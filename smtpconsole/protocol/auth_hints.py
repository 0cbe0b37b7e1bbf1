"""Meanings of the replies to AUTH and the requirements of known providers, as data for ``explain``.

Codes and meanings are from RFC 4954 sections 4 and 6 and RFC 3463 / RFC 5248 for the enhanced
status codes. Provider hints describe what each provider documents for SMTP submission; they are
matched on the server's host name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class AuthReplyHint:
    """Meaning of one reply code after AUTH, and the next step for the user."""

    code: int
    meaning: str
    action: str


@dataclass(frozen=True)
class ProviderHint:
    """Advice for one provider, shown when the host matches and the reply code is listed."""

    provider: str
    host_suffixes: tuple[str, ...]
    """Host name endings that identify the provider, lower-case, such as ``.amazonaws.com``."""
    codes: tuple[int, ...]
    """Reply codes after which the hint is shown."""
    text: str


AUTH_REPLY_HINTS: Final[dict[int, AuthReplyHint]] = {
    hint.code: hint
    for hint in (
        AuthReplyHint(
            235,
            "Authentication succeeded.",
            "Continue with MAIL FROM.",
        ),
        AuthReplyHint(
            334,
            "The server sends a challenge (base64) and waits for the client's response.",
            "Send the base64 response on one line, or '*' to cancel the exchange.",
        ),
        AuthReplyHint(
            454,
            "Temporary authentication failure: the server could not check the credentials now.",
            "Try again later; if it persists, the server's authentication backend is failing.",
        ),
        AuthReplyHint(
            530,
            "Authentication required, or (with 5.7.0) TLS is required before AUTH.",
            "Run STARTTLS and EHLO again before AUTH; then authenticate before MAIL FROM.",
        ),
        AuthReplyHint(
            534,
            "The mechanism is too weak for this server or account (5.7.9).",
            "Use another mechanism, or the credential type the provider asks for.",
        ),
        AuthReplyHint(
            535,
            "The credentials are invalid (5.7.8).",
            "Check the user name and password, and that this account may use SMTP AUTH.",
        ),
        AuthReplyHint(
            538,
            "This mechanism needs an encrypted connection (5.7.11).",
            "Run STARTTLS first, or connect with implicit TLS.",
        ),
    )
}
"""Meaning of each reply code seen after AUTH (RFC 4954 section 6)."""

AUTH_ENHANCED_STATUS: Final[dict[str, str]] = {
    "2.7.0": "Authentication succeeded.",
    "4.7.0": "Temporary authentication failure.",
    "4.7.12": "A password transition is needed; log in once by other means, then retry.",
    "5.7.0": "Authentication required, or TLS required first.",
    "5.7.8": "Authentication credentials invalid.",
    "5.7.9": "Authentication mechanism is too weak.",
    "5.7.11": "Encryption required for the requested authentication mechanism.",
}
"""Enhanced status codes used with AUTH replies (RFC 4954 section 6, RFC 5248)."""

PROVIDER_HINTS: Final[tuple[ProviderHint, ...]] = (
    ProviderHint(
        "Amazon SES",
        ("amazonaws.com",),
        (535, 530, 454),
        "Amazon SES SMTP credentials are not the IAM secret access key: derive the SMTP password"
        " with `smtpconsole ses-password --region REGION` or create SMTP credentials in the SES"
        " console. The password is bound to one region, so it works only with"
        " email-smtp.REGION.amazonaws.com for that region.",
    ),
    ProviderHint(
        "Gmail",
        ("gmail.com", "googlemail.com", "google.com"),
        (534, 535),
        "Gmail rejects the account password for SMTP: turn on 2-Step Verification and use an"
        " app password, or authenticate with XOAUTH2 and an OAuth 2.0 access token.",
    ),
    ProviderHint(
        "Microsoft 365",
        ("office365.com", "outlook.com", "hotmail.com", "live.com"),
        (535, 530, 534),
        "Microsoft 365 disables SMTP AUTH per mailbox by default (and may disable it for the"
        " whole tenant): an administrator must enable Authenticated SMTP for this mailbox. Where"
        " basic authentication is turned off, use XOAUTH2 with an OAuth 2.0 access token.",
    ),
)
"""Provider advice, matched on the host name of the server."""


def provider_hint(code: int, host: str | None) -> ProviderHint | None:
    """Return the provider hint for reply ``code`` from ``host``, or None when none applies."""
    if not host:
        return None
    name = host.lower().rstrip(".")
    for hint in PROVIDER_HINTS:
        if code in hint.codes and any(_matches(name, suffix) for suffix in hint.host_suffixes):
            return hint
    return None


def _matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)
