"""Connection, TLS and authentication settings shared by every front end.

``cli`` builds these from the command line and a profile; the session, the TUI, the line mode and the
script runner only read them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from smtpconsole.errors import UsageError

Security = Literal["plain", "starttls", "tls"]
SECURITY_MODES: tuple[Security, ...] = ("plain", "starttls", "tls")

DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "tls": 465}
"""Port used when none is given: 25 (RFC 5321), 587 (RFC 6409), 465 (RFC 8314)."""

# A DNS name: labels of letters, digits and hyphens (RFC 1123 section 2.1), underscores allowed
# because internal names use them.
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+$")


@dataclass(frozen=True)
class Target:
    """A server address as typed: ``host``, ``host:port`` or ``[v6addr]:port``."""

    host: str
    port: int | None = None


def parse_port(text: str | int, what: str = "port") -> int:
    """Return ``text`` as a TCP port number, or raise ``UsageError`` naming the value."""
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise UsageError(
            f"invalid {what} {text!r}: not a number", "give a port from 1 to 65535, e.g. 587"
        ) from None
    if not 1 <= port <= 65535:
        raise UsageError(f"invalid {what} {port}: out of range", "give a port from 1 to 65535")
    return port


def parse_target(text: str) -> Target:
    """Parse ``host``, ``host:port``, ``v6addr`` or ``[v6addr]:port``.

    Raises:
        UsageError: the text is empty, the host is not a valid name or address, or the port is bad.
    """
    text = text.strip()
    hint = "write host, host:port or [v6addr]:port, e.g. mail.example.com:587 or [::1]:2525"
    if not text:
        raise UsageError("invalid target: empty", hint)
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise UsageError(f"invalid target {text!r}: '[' without ']'", hint)
        host = text[1:close]
        rest = text[close + 1 :]
        if rest and not rest.startswith(":"):
            raise UsageError(f"invalid target {text!r}: unexpected {rest!r} after ']'", hint)
        _check_ipv6(host, text, hint)
        return Target(host, parse_port(rest[1:]) if rest else None)
    if text.count(":") > 1:
        # A bare IPv6 address such as ::1 carries no port.
        _check_ipv6(text, text, hint)
        return Target(text, None)
    host, sep, port_text = text.partition(":")
    if not host:
        raise UsageError(f"invalid target {text!r}: no host before ':'", hint)
    if not _is_host(host):
        raise UsageError(f"invalid target {text!r}: {host!r} is not a host name or address", hint)
    return Target(host, parse_port(port_text) if sep else None)


def _check_ipv6(host: str, text: str, hint: str) -> None:
    try:
        ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        raise UsageError(
            f"invalid target {text!r}: {host!r} is not an IPv6 address", hint
        ) from None


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    # A name whose last label is digits or hex (5, 127.1, 0x7f.1) is not a DNS name: the system
    # resolver would read it as a shortened IPv4 address such as 0.0.0.5.
    last_label = host.rstrip(".").rsplit(".", 1)[-1]
    if last_label.isdigit() or last_label.lower().startswith("0x"):
        return False
    return bool(_HOSTNAME.match(host))


def format_target(host: str, port: int) -> str:
    """Return ``host:port``, with brackets around an IPv6 address."""
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


@dataclass(frozen=True)
class TlsOptions:
    """TLS settings and certificate verification."""

    verify: bool = True
    """Verify the server certificate and host name; False only by an explicit choice."""
    ca_file: str | None = None
    """PEM file of trusted CA certificates; the system store when None."""
    sni: str | None = None
    """Server name sent in the TLS handshake and checked against the certificate; the host when None."""
    client_cert: str | None = None
    """PEM file with a client certificate, and its key unless ``client_key`` is given."""
    client_key: str | None = None
    """PEM file with the client certificate's private key."""
    min_version: str | None = None
    """Lowest TLS version accepted: ``1.2`` or ``1.3``; the ssl module's default when None."""


@dataclass(frozen=True)
class ConnectOptions:
    """The server address and the connection settings."""

    host: str
    port: int
    security: Security = "starttls"
    ehlo_name: str | None = None
    """Name sent with EHLO; the local host name when None."""
    tls: TlsOptions = field(default_factory=TlsOptions)
    connect_timeout: float = 15.0
    """Seconds allowed for the TCP connection and the TLS handshake."""
    read_timeout: float = 60.0
    """Seconds to wait for a reply before reporting a timeout."""
    family: Literal[0, 4, 6] = 0
    """0 for any address family, 4 for IPv4 only, 6 for IPv6 only."""
    manual: bool = False
    """When True, send nothing on connect: no automatic EHLO or STARTTLS."""
    keepalive: float | None = None
    """Seconds of idle time after which a NOOP is sent; None turns the keepalive off."""
    max_line_bytes: int = 8192
    """Longest reply line kept whole; longer lines are cut for display and flagged."""

    @property
    def address(self) -> str:
        return format_target(self.host, self.port)


@dataclass(frozen=True)
class AuthOptions:
    """Authentication settings. The secret itself is resolved later and never stored here."""

    mechanism: str | None = None
    """SASL mechanism such as PLAIN or LOGIN; the best one the server offers when None."""
    username: str | None = None
    password_env: str | None = None
    """Environment variable holding the password or token."""
    password_command: tuple[str, ...] | None = None
    """Command (run without a shell) whose trimmed output is the password."""
    keyring_service: str | None = None
    """Service name under which the password is stored in the system keyring."""
    authzid: str | None = None
    """Authorization identity for PLAIN; empty when None."""


@dataclass(frozen=True)
class ConsoleOptions:
    """Everything a front end needs to start: connection, authentication and the profile used."""

    connect: ConnectOptions
    auth: AuthOptions = field(default_factory=AuthOptions)
    profile_name: str | None = None
    mail_from: str | None = None
    rcpt_to: tuple[str, ...] = ()
