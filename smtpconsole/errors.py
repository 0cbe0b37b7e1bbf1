"""The one error base of smtpconsole, with a hint for the user, and a subclass per area."""

from __future__ import annotations


class SmtpConsoleError(Exception):
    """An error the user can act on: what failed, on which value, and a hint on what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nHint: {self.hint}"
        return self.message


class UsageError(SmtpConsoleError):
    """Invalid command-line arguments: a bad TARGET, port, file or option combination."""


class ProfileError(SmtpConsoleError):
    """A profile that cannot be found, parsed, validated or written."""


class TransportError(SmtpConsoleError):
    """A connection that failed, closed or timed out."""


class ConnectFailed(TransportError, ConnectionError):
    """The TCP connection could not be opened."""


class ConnectionLost(TransportError, ConnectionError):
    """The server closed the connection, or it broke, while the session was using it."""


class ReadTimeout(TransportError, TimeoutError):
    """No reply from the server within the read timeout."""


class MalformedReplyError(TransportError):
    """The server sent a reply that does not parse, and the session closed the connection.

    Only a session created with ``strict_replies`` raises it; ``raw`` contains the bad bytes.
    """

    def __init__(self, message: str, hint: str | None = None, raw: bytes = b"") -> None:
        super().__init__(message, hint)
        self.raw = raw


class TlsError(TransportError):
    """A TLS handshake failed; ``details`` contains the peer certificate when one was seen."""

    def __init__(
        self, message: str, hint: str | None = None, details: object | None = None
    ) -> None:
        super().__init__(message, hint)
        self.details = details


class CredentialError(SmtpConsoleError):
    """A password or token that could not be read from its source."""


class ScriptError(SmtpConsoleError):
    """A scenario file that is invalid, or a step whose expectation failed."""


def format_error_lines(message: str, hint: str | None, program: str = "smtpconsole") -> list[str]:
    """Return the lines every command prints on stderr for an error: the message, then the hint."""
    lines = [f"{program}: error: {message}"]
    if hint:
        lines.append(f"{program}: hint: {hint}")
    return lines
