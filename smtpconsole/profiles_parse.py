"""Validation of profile YAML into a ``Profile``, collecting every issue instead of stopping at one.

Each reader method takes a node and the dotted field path, records an issue for a bad value and
returns ``INVALID``, so one pass over a file reports all of its problems for ``profiles check``.
An absent or ``null`` optional field is left unset.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Final, TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from smtpconsole.errors import UsageError
from smtpconsole.options import SECURITY_MODES, Security, parse_target
from smtpconsole.profiles_schema import (
    PASSWORD_KINDS,
    TLS_VERSIONS,
    AuthSettings,
    EnvelopeSettings,
    PasswordSource,
    Profile,
    TimeoutSettings,
    TlsSettings,
)
from smtpconsole.profiles_yaml import (
    ProfileIssue,
    compose_profile,
    construct_scalar,
    did_you_mean,
    is_null,
    is_quoted_value_of,
    issue_at,
    node_kind,
)


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()
"""Returned by a reader for a value it rejected; the issue is already recorded."""

T = TypeVar("T")

SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "": (
        "name",
        "host",
        "port",
        "security",
        "ehlo",
        "auth",
        "tls",
        "envelope",
        "timeouts",
        "notes",
    ),
    "auth": ("mechanism", "username", "password", "authzid"),
    "tls": ("verify", "ca_file", "sni", "client_cert", "client_key", "min_version"),
    "envelope": ("mail_from", "rcpt_to"),
    "timeouts": ("connect", "read", "keepalive"),
    "auth.password": PASSWORD_KINDS,
}

SECURITY_ALIASES: dict[str, Security] = {"ssl": "tls", "smtps": "tls", "none": "plain"}

LITERAL_PASSWORD_MESSAGE = (
    "a password written in the profile is not allowed: use env, command, keyring or prompt"
)
COMMAND_EXAMPLE = "write an argument list, run without a shell: command: [pass, show, smtp]"
PASSWORD_HINT = (
    "name where the password is read: password: {env: SMTP_PASSWORD}, "
    "password: {command: [pass, show, smtp]}, password: {keyring: SERVICE} or password: prompt"
)

# RFC 4422 section 3.1: a SASL mechanism name is 1 to 20 upper-case letters, digits, "-" or "_".
_SASL_NAME = re.compile(r"^[A-Z0-9_-]{1,20}$")
# POSIX.1-2017 section 8.1: portable environment variable names.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def parse_profile(text: str, file: Path | None = None) -> tuple[Profile | None, list[ProfileIssue]]:
    """Parse and validate profile YAML; return the profile, or None with every issue found."""
    root, issues = compose_profile(text, file)
    if issues:
        return None, issues
    reader = _ProfileReader(file)
    profile = reader.read_profile(root)
    if reader.issues:
        return None, sorted(reader.issues, key=lambda issue: (issue.line or 0, issue.column or 0))
    return profile, []


def describe_value(value: object, *, secret: bool = False) -> str:
    """Return a short representation of a scalar value for an error message.

    With ``secret`` the value is replaced by ``(value not shown)``, for fields where a user may
    have pasted a password.
    """
    if secret:
        return "(value not shown)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _ProfileReader:
    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.issues: list[ProfileIssue] = []

    def error(self, node: Node | None, field: str, message: str, hint: str | None = None) -> None:
        self.issues.append(issue_at(self.file, node, field, message, hint))

    # Structure: mappings, keys and scalars.

    def mapping(self, node: Node | None, section: str) -> dict[str, Node] | None:
        """Return the fields of a mapping node by key, recording unknown and duplicate keys."""
        if node is None or is_null(node):
            return {}
        if not isinstance(node, MappingNode):
            where = f"{section}: " if section else ""
            self.error(
                node, section, f"{where}expected a mapping of fields, got a {node_kind(node)}"
            )
            return None
        fields: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, section)
            if key is None:
                continue
            if key in fields:
                path = _join(section, key)
                self.error(
                    key_node, path, f"duplicate key {key!r}, first at line {first_line[key]}"
                )
                continue
            if key not in SECTION_FIELDS[section]:
                self.unknown_key(key_node, section, key)
                continue
            fields[key] = value_node
            first_line[key] = key_node.start_mark.line + 1
        return fields

    def key(self, node: Node, section: str) -> str | None:
        value = construct_scalar(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, str):
            return value
        value_text = (
            describe_value(value) if isinstance(node, ScalarNode) else f"a {node_kind(node)}"
        )
        self.error(
            node, section, f"invalid key {value_text}: keys must be strings", "quote the key"
        )
        return None

    def unknown_key(self, node: Node, section: str, key: str) -> None:
        allowed = SECTION_FIELDS[section]
        home = _section_of(key, exclude=section)
        suggestion = did_you_mean(key, allowed)
        hint = None
        if home is not None:
            hint = f"{key!r} belongs under {home}:"
        elif suggestion is not None:
            hint = f"did you mean {suggestion!r}?"
        message = f"unknown key {key!r}: expected one of {', '.join(allowed)}"
        self.error(node, _join(section, key), message, hint)

    def scalar(self, node: Node | None, field: str, expected: str) -> object:
        """Return the value of a scalar node, None when absent, or INVALID for a mapping or list."""
        if node is None:
            return None
        if not isinstance(node, ScalarNode):
            self.error(node, field, f"expected {expected}, got a {node_kind(node)}")
            return INVALID
        return construct_scalar(node)

    def typed(
        self, node: Node | None, field: str, kind: type[T], expected: str, *, secret: bool = False
    ) -> T | None:
        """Return a scalar of type ``kind``; a bool never counts as an int or a float."""
        value = self.scalar(node, field, expected)
        if value is None or value is INVALID:
            return None
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return value
        hint = "remove the quotes" if is_quoted_value_of(node, kind) else None
        got = f"{_type_name(value)} {describe_value(value, secret=secret)}"
        self.error(node, field, f"expected {expected}, got {got}", hint)
        return None

    def text(
        self, node: Node | None, field: str, *, single_line: bool = True, secret: bool = False
    ) -> str | None:
        """Return a string field; single-line fields reject control characters and empty text."""
        value = self.typed(node, field, str, "a string", secret=secret)
        if value is None or not single_line:
            return value
        if not value.strip():
            self.error(node, field, "must not be empty", "remove the line to leave it unset")
            return None
        if _CONTROL.search(value):
            value_text = describe_value(value, secret=secret)
            self.error(node, field, f"invalid value {value_text}: control characters")
            return None
        return value

    # The profile and its sections.

    def read_profile(self, root: Node | None) -> Profile | None:
        if root is None or is_null(root):
            self.error(root, "", "empty profile: expected a mapping with at least 'host'")
            return None
        fields = self.mapping(root, "")
        if fields is None:
            return None
        host = self.host(fields.get("host"), "host")
        if "host" not in fields or (host is None and is_null(fields["host"])):
            self.error(root, "host", "missing required field", "add e.g. host: smtp.example.com")
        default_name = self.file.stem if self.file is not None else None
        name = self.text(fields.get("name"), "name") or default_name
        profile = Profile(
            name=name or "",
            host=host or "",
            port=self.port(fields.get("port")),
            security=self.security(fields.get("security")) or "starttls",
            ehlo=self.ehlo(fields.get("ehlo")),
            auth=self.auth(fields.get("auth")),
            tls=self.tls(fields.get("tls")),
            envelope=self.envelope(fields.get("envelope")),
            timeouts=self.timeouts(fields.get("timeouts")),
            notes=self.text(fields.get("notes"), "notes", single_line=False),
            path=self.file,
        )
        if not profile.name:
            self.error(
                root, "name", "missing required field: a profile not read from a file needs a name"
            )
        return profile

    def host(self, node: Node | None, field: str) -> str | None:
        value = self.text(node, field)
        if value is None:
            return None
        try:
            target = parse_target(value)
        except UsageError as error:
            self.error(
                node, field, error.message, "give a host name or IP address, e.g. smtp.example.com"
            )
            return None
        if target.port is not None:
            message = f"invalid value {value!r}: the port goes in its own field"
            self.error(node, field, message, f"write host: {target.host} and port: {target.port}")
            return None
        return target.host

    def port(self, node: Node | None) -> int | None:
        value = self.typed(node, "port", int, "an integer from 1 to 65535")
        if value is not None and not 1 <= value <= 65535:
            self.error(node, "port", f"invalid port {value}: expected an integer from 1 to 65535")
            return None
        return value

    def security(self, node: Node | None) -> Security | None:
        value = self.text(node, "security")
        if value is None:
            return None
        for mode in SECURITY_MODES:
            if value.lower() == mode:
                return mode
        suggestion = SECURITY_ALIASES.get(value.lower()) or did_you_mean(value, SECURITY_MODES)
        message = f"invalid value {value!r}: expected one of {', '.join(SECURITY_MODES)}"
        self.error(
            node, "security", message, f"did you mean {suggestion!r}?" if suggestion else None
        )
        return None

    def ehlo(self, node: Node | None) -> str | None:
        value = self.text(node, "ehlo")
        if value is not None and any(char.isspace() for char in value):
            message = f"invalid value {value!r}: an EHLO name has no spaces"
            self.error(
                node, "ehlo", message, "give a domain such as client.example.com or [192.0.2.1]"
            )
            return None
        return value

    def auth(self, node: Node | None) -> AuthSettings:
        fields = self.mapping(node, "auth")
        if not fields:
            return AuthSettings()
        return AuthSettings(
            mechanism=self.mechanism(fields.get("mechanism")),
            username=self.text(fields.get("username"), "auth.username"),
            password=self.password(fields.get("password")),
            authzid=self.text(fields.get("authzid"), "auth.authzid"),
        )

    def mechanism(self, node: Node | None) -> str | None:
        value = self.text(node, "auth.mechanism")
        if value is None:
            return None
        if not _SASL_NAME.match(value.upper()):
            message = (
                f"invalid SASL mechanism name {value!r}: expected 1 to 20 letters, digits, "
                "'-' or '_'"
            )
            self.error(node, "auth.mechanism", message, "e.g. PLAIN, LOGIN, CRAM-MD5, XOAUTH2")
            return None
        return value.upper()

    def password(self, node: Node | None) -> PasswordSource | None:
        # Values are never echoed in this section, because one may be the password itself.
        field = "auth.password"
        if node is None or is_null(node):
            return None
        if isinstance(node, ScalarNode):
            if construct_scalar(node) == "prompt":
                return PasswordSource("prompt")
            self.error(node, field, LITERAL_PASSWORD_MESSAGE, PASSWORD_HINT)
            return None
        fields = self.mapping(node, field)
        if fields is None or (not fields and isinstance(node, MappingNode) and node.value):
            # Every key was invalid, and each one is already reported.
            return None
        if len(fields) != 1:
            self.error(
                node, field, "give exactly one of env, command, keyring or prompt", PASSWORD_HINT
            )
            return None
        ((kind, value_node),) = fields.items()
        return self.password_source(kind, value_node)

    def password_source(self, kind: str, node: Node) -> PasswordSource | None:
        field = f"auth.password.{kind}"
        if is_null(node):
            self.error(node, field, f"missing value for {kind}", PASSWORD_HINT)
            return None
        if kind == "env":
            name = self.text(node, field, secret=True)
            if name is not None and not _ENV_NAME.match(name):
                message = "invalid environment variable name: use letters, digits and '_'"
                self.error(node, field, message, "e.g. env: SMTP_PASSWORD")
                return None
            return PasswordSource("env", env=name) if name else None
        if kind == "command":
            argv = self.string_list(node, field, example=COMMAND_EXAMPLE, secret=True)
            if argv is not None and not argv:
                self.error(node, field, "must not be empty", COMMAND_EXAMPLE)
                return None
            return PasswordSource("command", command=argv) if argv else None
        if kind == "keyring":
            service = self.text(node, field, secret=True)
            return PasswordSource("keyring", keyring=service) if service else None
        if self.typed(node, field, bool, "true", secret=True) is not True:
            self.error(node, field, "expected true", "or write password: prompt")
            return None
        return PasswordSource("prompt")

    def string_list(
        self,
        node: Node | None,
        field: str,
        *,
        example: str,
        single_string_ok: bool = False,
        secret: bool = False,
    ) -> tuple[str, ...] | None:
        """Return a list of strings; a single string counts as a list of one when allowed."""
        if node is None or is_null(node):
            return None
        if isinstance(node, ScalarNode) and single_string_ok:
            value = self.text(node, field, secret=secret)
            return (value,) if value is not None else None
        if not isinstance(node, SequenceNode):
            kind = "a string" if isinstance(node, ScalarNode) else f"a {node_kind(node)}"
            self.error(node, field, f"expected a list of strings, got {kind}", example)
            return None
        items = [
            self.text(item, f"{field}[{index}]", secret=secret)
            for index, item in enumerate(node.value)
        ]
        if any(item is None for item in items):
            return None
        return tuple(item for item in items if item is not None)

    def tls(self, node: Node | None) -> TlsSettings:
        fields = self.mapping(node, "tls")
        if not fields:
            return TlsSettings()
        verify = self.typed(fields.get("verify"), "tls.verify", bool, "true or false")
        client_key = self.text(fields.get("client_key"), "tls.client_key")
        client_cert = self.text(fields.get("client_cert"), "tls.client_cert")
        if client_key is not None and "client_cert" not in fields:
            self.error(fields["client_key"], "tls.client_key", "client_key needs client_cert")
        return TlsSettings(
            verify=True if verify is None else verify,
            ca_file=self.text(fields.get("ca_file"), "tls.ca_file"),
            sni=self.host(fields.get("sni"), "tls.sni"),
            client_cert=client_cert,
            client_key=client_key,
            min_version=self.tls_version(fields.get("min_version")),
        )

    def tls_version(self, node: Node | None) -> str | None:
        value = self.scalar(node, "tls.min_version", "1.2 or 1.3")
        if value is None or value is INVALID:
            return None
        # Unquoted 1.2 is a float in YAML, so both spellings are accepted.
        text = str(value) if isinstance(value, float | str) else None
        if text in TLS_VERSIONS:
            return text
        value_text = describe_value(value)
        self.error(node, "tls.min_version", f"invalid value {value_text}: expected 1.2 or 1.3")
        return None

    def envelope(self, node: Node | None) -> EnvelopeSettings:
        fields = self.mapping(node, "envelope")
        if not fields:
            return EnvelopeSettings()
        mail_from = self.address(fields.get("mail_from"), "envelope.mail_from", empty_ok=True)
        recipients = self.string_list(
            fields.get("rcpt_to"),
            "envelope.rcpt_to",
            example="e.g. rcpt_to: [a@example.com, b@example.com]",
            single_string_ok=True,
        )
        for index, address in enumerate(recipients or ()):
            item = fields["rcpt_to"]
            item_node = item.value[index] if isinstance(item, SequenceNode) else item
            self.check_address(item_node, f"envelope.rcpt_to[{index}]", address)
        return EnvelopeSettings(mail_from=mail_from, rcpt_to=recipients or ())

    def address(self, node: Node | None, field: str, *, empty_ok: bool) -> str | None:
        value = self.typed(node, field, str, "an address string")
        if value == "" and empty_ok:
            return value
        if value is None:
            return None
        self.check_address(node, field, value)
        return value

    def check_address(self, node: Node | None, field: str, value: str) -> None:
        if _CONTROL.search(value) or not value.strip() or " " in value:
            message = f"invalid address {describe_value(value)}: spaces or control characters"
            self.error(node, field, message, "write one address such as user@example.com")
        elif value.startswith("<") or value.endswith(">"):
            self.error(node, field, f"invalid address {value!r}", "write it without < and >")

    def timeouts(self, node: Node | None) -> TimeoutSettings:
        fields = self.mapping(node, "timeouts")
        if not fields:
            return TimeoutSettings()
        return TimeoutSettings(
            connect=self.seconds(fields.get("connect"), "timeouts.connect"),
            read=self.seconds(fields.get("read"), "timeouts.read"),
            keepalive=self.seconds(fields.get("keepalive"), "timeouts.keepalive"),
        )

    def seconds(self, node: Node | None, field: str) -> float | None:
        value = self.scalar(node, field, "a number of seconds")
        if value is None or value is INVALID:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            got = f"{_type_name(value)} {describe_value(value)}"
            self.error(node, field, f"expected a number of seconds, got {got}")
            return None
        if not math.isfinite(value) or value <= 0:
            self.error(node, field, f"invalid value {value}: expected a number of seconds above 0")
            return None
        return float(value)


def _join(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _section_of(key: str, exclude: str) -> str | None:
    for section, names in SECTION_FIELDS.items():
        if section and section != exclude and key in names:
            return section
    return None
