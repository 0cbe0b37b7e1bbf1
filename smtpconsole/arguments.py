"""The shared connection, TLS and authentication options, and the ConsoleOptions built from them.

Headless: the script runner adds these options to its own subcommands, so this module imports no
front end.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from smtpconsole.errors import UsageError
from smtpconsole.options import (
    DEFAULT_PORTS,
    AuthOptions,
    ConnectOptions,
    ConsoleOptions,
    Security,
    TlsOptions,
    parse_port,
    parse_target,
)

SASL_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "SCRAM-SHA-1", "SCRAM-SHA-256")

# POSIX portable environment variable names (letters, digits, underscore; no leading digit).
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the connection, TLS and authentication options that every front end shares."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--profile", metavar="NAME", help="load host, port, TLS and auth from a profile"
    )
    mode = group.add_mutually_exclusive_group()
    mode.add_argument(
        "--plain",
        dest="security",
        action="store_const",
        const="plain",
        help="plain SMTP, no TLS (default on port 25)",
    )
    mode.add_argument(
        "--starttls",
        dest="security",
        action="store_const",
        const="starttls",
        help="upgrade to TLS with STARTTLS (default except on ports 25 and 465)",
    )
    mode.add_argument(
        "--tls",
        dest="security",
        action="store_const",
        const="tls",
        help="implicit TLS from the first byte (default on port 465)",
    )
    group.add_argument(
        "--port", metavar="N", help="TCP port (default 587, 465 with --tls, 25 with --plain)"
    )
    group.add_argument(
        "--ehlo",
        metavar="NAME",
        help="name sent with EHLO (default: this host's name if it is fully qualified, else an address literal such as [127.0.0.1])",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        help="seconds allowed for the connection and for each reply (default: 15 for the connection, 60 for a reply)",
    )
    family = group.add_mutually_exclusive_group()
    family.add_argument("-4", dest="family", action="store_const", const=4, help="use IPv4 only")
    family.add_argument("-6", dest="family", action="store_const", const=6, help="use IPv6 only")
    group.add_argument(
        "--manual",
        action="store_true",
        default=None,
        help="send nothing on connect: no automatic EHLO or STARTTLS",
    )
    group.add_argument(
        "--keepalive",
        metavar="SECONDS",
        type=float,
        help="send NOOP after this many idle seconds (off by default)",
    )

    tls = parser.add_argument_group("TLS")
    tls.add_argument("--ca-file", metavar="PEM", help="trust the CA certificates in this PEM file")
    tls.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="do not verify the server certificate (shown in the status bar)",
    )
    tls.add_argument("--sni", metavar="NAME", help="server name to send in TLS and to verify")
    tls.add_argument(
        "--client-cert", metavar="PEM", help="client certificate (with its key unless --client-key)"
    )
    tls.add_argument("--client-key", metavar="PEM", help="private key of the client certificate")
    tls.add_argument(
        "--tls-min-version", choices=("1.2", "1.3"), help="lowest TLS version to accept"
    )

    auth = parser.add_argument_group("authentication")
    auth.add_argument("--user", metavar="NAME", help="user name for AUTH")
    auth.add_argument(
        "--password-env",
        metavar="VAR",
        help="read the password or token from this environment variable",
    )
    auth.add_argument(
        "--auth", metavar="MECH", help=f"SASL mechanism: {', '.join(SASL_MECHANISMS)}"
    )


def _existing_file(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        raise UsageError(
            f"{option} {value}: is a folder, not a file",
            f"give the path of a PEM file to {option}",
        )
    if not path.is_file():
        raise UsageError(
            f"{option} {value}: file not found", f"give the path of a readable PEM file to {option}"
        )
    return str(path)


def _positive_seconds(value: float | None, option: str) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"invalid {option} {value}: must be more than 0 seconds")
    return value


def _check_line_field(value: str | None, option: str) -> str | None:
    if value is not None and any(char in value for char in "\r\n\0"):
        raise UsageError(f"invalid {option} {value!r}: contains CR, LF or NUL")
    return value


def _overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the shared options and return only those the user gave, by field name."""
    given: dict[str, Any] = {}
    if getattr(args, "target", None):
        target = parse_target(args.target)
        given["host"] = target.host
        if target.port is not None:
            given["port"] = target.port
    if args.port is not None:
        port = parse_port(args.port, "--port")
        if "port" in given and given["port"] != port:
            raise UsageError(
                f"conflicting ports: the target has {given['port']} and --port has {port}",
                "give the port once",
            )
        given["port"] = port
    fields: dict[str, Any] = {
        "security": args.security,
        "ehlo_name": _check_line_field(args.ehlo, "--ehlo"),
        "family": args.family,
        "manual": args.manual,
        "keepalive": _positive_seconds(args.keepalive, "--keepalive"),
        "ca_file": _existing_file(args.ca_file, "--ca-file"),
        "verify": False if args.insecure else None,
        "sni": _check_line_field(args.sni, "--sni"),
        "client_cert": _existing_file(args.client_cert, "--client-cert"),
        "client_key": _existing_file(args.client_key, "--client-key"),
        "min_version": args.tls_min_version,
        "username": _check_line_field(args.user, "--user"),
        "password_env": _checked_env_name(args.password_env),
        "mechanism": _checked_mechanism(args.auth),
    }
    if args.client_key is not None and args.client_cert is None:
        raise UsageError(
            "--client-key given without --client-cert",
            "give the certificate with --client-cert PEM; the key alone is not used",
        )
    timeout = _positive_seconds(args.timeout, "--timeout")
    if timeout is not None:
        fields["connect_timeout"] = timeout
        fields["read_timeout"] = timeout
    given.update({name: value for name, value in fields.items() if value is not None})
    return given


def _checked_env_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not _ENV_NAME.match(name):
        raise UsageError(
            f"invalid --password-env {name!r}: not an environment variable name",
            "give the variable's name, e.g. --password-env SMTP_PASSWORD, not its value",
        )
    if name not in os.environ:
        raise UsageError(
            f"--password-env {name}: the environment variable is not set",
            f"export {name}=... before running, or leave out --password-env to be prompted",
        )
    return name


def _checked_mechanism(name: str | None) -> str | None:
    if name is None:
        return None
    upper = name.upper()
    if upper not in SASL_MECHANISMS:
        raise UsageError(
            f"unknown --auth mechanism {name!r}", f"use one of {', '.join(SASL_MECHANISMS)}"
        )
    return upper


def _default_security(port: int | None) -> Security:
    if port in (465,):
        return "tls"
    if port == 25:
        return "plain"
    return "starttls"


def options_from_overrides(given: dict[str, Any], *, require_host: bool = True) -> ConsoleOptions:
    """Build ConsoleOptions from validated command-line values alone, without a profile.

    With ``require_host`` False a missing TARGET gives an empty host, which the TUI fills in
    from its connect screen.
    """
    if "host" not in given and require_host:
        raise UsageError(
            "no server given", "give a TARGET such as mail.example.com:587, or --profile NAME"
        )
    security: Security = given.get("security") or _default_security(given.get("port"))
    tls = TlsOptions(
        verify=given.get("verify", True),
        ca_file=given.get("ca_file"),
        sni=given.get("sni"),
        client_cert=given.get("client_cert"),
        client_key=given.get("client_key"),
        min_version=given.get("min_version"),
    )
    connect_fields = {
        name: given[name]
        for name in (
            "ehlo_name",
            "connect_timeout",
            "read_timeout",
            "family",
            "manual",
            "keepalive",
        )
        if name in given
    }
    connect = ConnectOptions(
        host=given.get("host", ""),
        port=given.get("port", DEFAULT_PORTS[security]),
        security=security,
        tls=tls,
        **connect_fields,
    )
    auth = AuthOptions(
        mechanism=given.get("mechanism"),
        username=given.get("username"),
        password_env=given.get("password_env"),
    )
    return ConsoleOptions(connect=connect, auth=auth)


def console_options_from_args(
    args: argparse.Namespace, *, require_host: bool = True
) -> ConsoleOptions:
    """Build ConsoleOptions from the shared options, a profile first when ``--profile`` is given."""
    given = _overrides_from_args(args)
    if args.profile:
        from smtpconsole.profiles import load_profile

        profile = load_profile(args.profile)
        options: ConsoleOptions = profile.to_console_options(given)
        return options
    return options_from_overrides(given, require_host=require_host)
