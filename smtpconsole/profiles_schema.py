"""The profile model: one server, how to reach it, and where its password comes from.

A profile never contains a password. ``PasswordSource`` names where the password is read when it is
needed (an environment variable, a command, the system keyring or a prompt), and
``smtpconsole.credentials`` reads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from smtpconsole.options import (
    DEFAULT_PORTS,
    AuthOptions,
    ConnectOptions,
    ConsoleOptions,
    Security,
    TlsOptions,
)

PasswordKind = Literal["env", "command", "keyring", "prompt"]
PASSWORD_KINDS: tuple[PasswordKind, ...] = ("env", "command", "keyring", "prompt")

TLS_VERSIONS: tuple[str, ...] = ("1.2", "1.3")
"""Values accepted for ``tls.min_version``, matching ``TlsOptions.min_version``."""


@dataclass(frozen=True)
class PasswordSource:
    """Reference to the source of a password, which itself is never stored."""

    kind: PasswordKind
    """``env``, ``command``, ``keyring`` or ``prompt``."""
    env: str | None = None
    """Environment variable containing the password, for kind ``env``."""
    command: tuple[str, ...] | None = None
    """Argument vector run without a shell whose trimmed output is the password, for ``command``."""
    keyring: str | None = None
    """Keyring service name, looked up with the profile's username, for kind ``keyring``."""

    def describe(self) -> str:
        """Return the source as a reference safe to show, e.g. ``env: SES_SMTP_PASSWORD``."""
        if self.kind == "env":
            return f"env: {self.env}"
        if self.kind == "command":
            return f"command: {list(self.command or ())}"
        if self.kind == "keyring":
            return f"keyring: {self.keyring}"
        return "prompt"


@dataclass(frozen=True)
class AuthSettings:
    """The ``auth`` section: SASL mechanism, user name and password source."""

    mechanism: str | None = None
    """SASL mechanism name, upper case; the best one the server offers when None."""
    username: str | None = None
    """Authentication identity sent with AUTH."""
    password: PasswordSource | None = None
    """Source of the password. None means no source is set, so a front end may prompt for it."""
    authzid: str | None = None
    """Authorization identity for PLAIN; empty when None."""


@dataclass(frozen=True)
class TlsSettings:
    """The ``tls`` section: certificate checks and client certificates."""

    verify: bool = True
    """Verify the server certificate and host name."""
    ca_file: str | None = None
    """PEM file of trusted CA certificates, relative to the profile's folder unless absolute."""
    sni: str | None = None
    """Server name sent in the handshake and checked against the certificate; the host when None."""
    client_cert: str | None = None
    """PEM client certificate, relative to the profile's folder unless absolute."""
    client_key: str | None = None
    """PEM private key of the client certificate, relative to the profile's folder."""
    min_version: str | None = None
    """Lowest TLS version accepted, ``1.2`` or ``1.3``."""


@dataclass(frozen=True)
class EnvelopeSettings:
    """The ``envelope`` section: default sender and recipients offered by the builder."""

    mail_from: str | None = None
    """Default reverse path for MAIL FROM; an empty string is the null sender ``<>``."""
    rcpt_to: tuple[str, ...] = ()
    """Default recipients for RCPT TO."""


@dataclass(frozen=True)
class TimeoutSettings:
    """The ``timeouts`` section, in seconds."""

    connect: float | None = None
    """Seconds allowed for the TCP connection and the TLS handshake."""
    read: float | None = None
    """Seconds to wait for a reply."""
    keepalive: float | None = None
    """Idle seconds after which a NOOP is sent; off when None."""


class ProfileOverrides(TypedDict, total=False):
    """Command-line values that replace profile fields; only the options the user gave.

    Keys are the field names of ``ConnectOptions``, ``TlsOptions`` and ``AuthOptions``, plus
    ``mail_from`` and ``rcpt_to``. Giving any of ``password_env``, ``password_command`` and
    ``keyring_service`` replaces the profile's whole password source.
    """

    host: str
    port: int
    security: Security
    ehlo_name: str
    connect_timeout: float
    read_timeout: float
    keepalive: float | None
    family: Literal[0, 4, 6]
    manual: bool
    verify: bool
    ca_file: str
    sni: str
    client_cert: str
    client_key: str
    min_version: str
    mechanism: str
    username: str
    password_env: str
    password_command: tuple[str, ...]
    keyring_service: str
    authzid: str
    mail_from: str
    rcpt_to: tuple[str, ...]


_PASSWORD_OVERRIDES = ("password_env", "password_command", "keyring_service")


@dataclass(frozen=True)
class Profile:
    """One server profile, as read from a YAML file or built by the console."""

    name: str
    """Name used with ``--profile``; the file name without ``.yaml`` when the file gives none."""
    host: str
    """Host name or IP address of the server."""
    port: int | None = None
    """TCP port; the usual port of ``security`` (25, 587 or 465) when None."""
    security: Security = "starttls"
    """``plain`` (no TLS), ``starttls`` (upgrade after EHLO) or ``tls`` (TLS from the start)."""
    ehlo: str | None = None
    """Name sent with EHLO; the local host name when None."""
    auth: AuthSettings = field(default_factory=AuthSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    envelope: EnvelopeSettings = field(default_factory=EnvelopeSettings)
    timeouts: TimeoutSettings = field(default_factory=TimeoutSettings)
    notes: str | None = None
    """Free text shown with the profile, e.g. what the provider requires."""
    path: Path | None = field(default=None, compare=False)
    """File the profile was read from; never written into the file."""

    @property
    def effective_port(self) -> int:
        """The port to connect to: ``port``, or the usual port of ``security``."""
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

    def resolve_file(self, value: str | None) -> str | None:
        """Return a file named in the profile as an absolute path.

        ``~`` is expanded. A relative path is taken from the folder of the profile file, or from
        the working directory for a profile that was not read from a file.
        """
        if value is None:
            return None
        expanded = Path(os.path.expanduser(value))
        if expanded.is_absolute() or self.path is None:
            return str(expanded)
        return str(self.path.parent / expanded)

    def to_console_options(self, overrides: Mapping[str, Any] | None = None) -> ConsoleOptions:
        """Build the options a front end starts with; ``overrides`` win over profile fields.

        ``overrides`` contains only the options the user gave, with the keys and types of
        ``ProfileOverrides``. When ``security`` is overridden and neither the profile nor the
        overrides give a port, the port follows the new security mode.

        Raises:
            ValueError: a key of ``overrides`` is not a field of ``ProfileOverrides``.
        """
        unknown = set(overrides or {}) - set(ProfileOverrides.__annotations__)
        if unknown:
            raise ValueError(f"unknown override keys: {', '.join(sorted(unknown))}")
        command_line = cast(ProfileOverrides, dict(overrides or {}))
        return ConsoleOptions(
            connect=self._connect_options(command_line),
            auth=self._auth_options(command_line),
            profile_name=self.name,
            mail_from=command_line.get("mail_from", self.envelope.mail_from),
            rcpt_to=command_line.get("rcpt_to", self.envelope.rcpt_to),
        )

    def _connect_options(self, command_line: ProfileOverrides) -> ConnectOptions:
        security = command_line.get("security", self.security)
        port = command_line.get("port", self.port)
        defaults = ConnectOptions(host="", port=1)
        return ConnectOptions(
            host=command_line.get("host", self.host),
            port=port if port is not None else DEFAULT_PORTS[security],
            security=security,
            ehlo_name=command_line.get("ehlo_name", self.ehlo),
            tls=self._tls_options(command_line),
            connect_timeout=command_line.get(
                "connect_timeout", _or_default(self.timeouts.connect, defaults.connect_timeout)
            ),
            read_timeout=command_line.get(
                "read_timeout", _or_default(self.timeouts.read, defaults.read_timeout)
            ),
            keepalive=command_line.get("keepalive", self.timeouts.keepalive),
            family=command_line.get("family", defaults.family),
            manual=command_line.get("manual", defaults.manual),
        )

    def _tls_options(self, command_line: ProfileOverrides) -> TlsOptions:
        # Files command_line on the command line are relative to the working directory, as typed.
        tls = self.tls
        return TlsOptions(
            verify=command_line.get("verify", tls.verify),
            ca_file=command_line.get("ca_file", self.resolve_file(tls.ca_file)),
            sni=command_line.get("sni", tls.sni),
            client_cert=command_line.get("client_cert", self.resolve_file(tls.client_cert)),
            client_key=command_line.get("client_key", self.resolve_file(tls.client_key)),
            min_version=command_line.get("min_version", tls.min_version),
        )

    def _auth_options(self, command_line: ProfileOverrides) -> AuthOptions:
        auth = self.auth
        source = auth.password
        options = AuthOptions(
            mechanism=command_line.get("mechanism", auth.mechanism),
            username=command_line.get("username", auth.username),
            password_env=source.env if source else None,
            password_command=source.command if source else None,
            keyring_service=source.keyring if source else None,
            authzid=command_line.get("authzid", auth.authzid),
        )
        if any(key in command_line for key in _PASSWORD_OVERRIDES):
            options = replace(
                options,
                password_env=command_line.get("password_env"),
                password_command=command_line.get("password_command"),
                keyring_service=command_line.get("keyring_service"),
            )
        return options


def _or_default(value: float | None, default: float) -> float:
    return default if value is None else value
