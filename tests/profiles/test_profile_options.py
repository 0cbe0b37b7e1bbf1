"""Profile.to_console_options: profile fields, defaults, and command-line overrides winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole.options import AuthOptions, ConnectOptions, TlsOptions
from smtpconsole.profiles import load_profile_file
from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_schema import PasswordSource, Profile, ProfileOverrides

from .conftest import REPO_PROFILES

PROFILE_TEXT = """
name: work
host: mail.example.com
port: 2525
security: starttls
ehlo: client.example.com
auth:
  mechanism: PLAIN
  username: bob
  password: {env: WORK_SMTP}
tls:
  ca_file: certs/ca.pem
  client_cert: ~/client.pem
  client_key: /keys/client.key
  sni: mx.example.com
  min_version: 1.2
envelope:
  mail_from: bob@example.com
  rcpt_to: [a@example.com, b@example.com]
timeouts:
  connect: 5
  read: 20
  keepalive: 8
"""


def parse(text: str) -> Profile:
    parsed, issues = parse_profile(text, Path("/profiles/test.yaml"))
    assert parsed is not None, issues
    return parsed


@pytest.fixture
def profile(tmp_path: Path) -> Profile:
    parsed, issues = parse_profile(PROFILE_TEXT, tmp_path / "dir" / "work.yaml")
    assert parsed is not None, issues
    return parsed


def test_profile_fields_without_overrides(profile: Profile, tmp_path: Path) -> None:
    options = profile.to_console_options()

    connect = options.connect
    assert (connect.host, connect.port, connect.security) == ("mail.example.com", 2525, "starttls")
    assert connect.ehlo_name == "client.example.com"
    assert (connect.connect_timeout, connect.read_timeout, connect.keepalive) == (5.0, 20.0, 8.0)
    assert connect.tls.sni == "mx.example.com"
    assert connect.tls.min_version == "1.2"
    assert options.auth == AuthOptions(mechanism="PLAIN", username="bob", password_env="WORK_SMTP")
    assert options.profile_name == "work"
    assert options.mail_from == "bob@example.com"
    assert options.rcpt_to == ("a@example.com", "b@example.com")


def test_files_relative_to_profile_folder(
    profile: Profile, tmp_path: Path, isolated_home: Path
) -> None:
    tls = profile.to_console_options().connect.tls

    assert tls.ca_file == str(tmp_path / "dir" / "certs" / "ca.pem")
    assert tls.client_cert == str(isolated_home / "client.pem")
    assert tls.client_key == "/keys/client.key"


def test_overrides_win(profile: Profile) -> None:
    overrides: ProfileOverrides = {
        "host": "other.example.com",
        "port": 587,
        "security": "tls",
        "ehlo_name": "cli.example.com",
        "username": "alice",
        "mechanism": "LOGIN",
        "verify": False,
        "ca_file": "cli-ca.pem",
        "sni": "cli.example.com",
        "connect_timeout": 1.0,
        "read_timeout": 2.0,
        "keepalive": None,
        "family": 6,
        "manual": True,
        "mail_from": "",
        "rcpt_to": ("c@example.com",),
    }

    options = profile.to_console_options(overrides)

    connect = options.connect
    assert (connect.host, connect.port, connect.security) == ("other.example.com", 587, "tls")
    assert connect.ehlo_name == "cli.example.com"
    assert (connect.connect_timeout, connect.read_timeout) == (1.0, 2.0)
    assert connect.keepalive is None
    assert (connect.family, connect.manual) == (6, True)
    assert connect.tls.verify is False
    assert connect.tls.ca_file == "cli-ca.pem"
    assert connect.tls.sni == "cli.example.com"
    assert (options.auth.username, options.auth.mechanism) == ("alice", "LOGIN")
    assert options.auth.password_env == "WORK_SMTP"
    assert options.mail_from == ""
    assert options.rcpt_to == ("c@example.com",)


def test_fields_not_overridden_keep_profile_values(profile: Profile) -> None:
    options = profile.to_console_options({"port": 2626})

    assert options.connect.port == 2626
    assert options.connect.host == "mail.example.com"
    assert options.connect.tls.sni == "mx.example.com"
    assert options.auth.username == "bob"


def test_password_override_replaces_whole_source(profile: Profile) -> None:
    options = profile.to_console_options({"keyring_service": "smtpconsole"})

    assert options.auth.keyring_service == "smtpconsole"
    assert options.auth.password_env is None
    assert options.auth.password_command is None


def test_password_command_source() -> None:
    parsed = parse("host: h\nauth:\n  password: {command: [pass, show, x]}\n")

    auth = parsed.to_console_options().auth

    assert auth.password_command == ("pass", "show", "x")
    assert auth.password_env is None


def test_prompt_source_gives_no_stored_source() -> None:
    parsed = parse("host: h\nauth:\n  username: u\n  password: prompt\n")

    auth = parsed.to_console_options().auth

    assert auth == AuthOptions(username="u")


@pytest.mark.parametrize(("security", "port"), [("plain", 25), ("starttls", 587), ("tls", 465)])
def test_port_defaults_to_security(security: str, port: int) -> None:
    parsed = parse(f"host: h\nsecurity: {security}\n")

    assert parsed.to_console_options().connect.port == port


def test_security_override_moves_default_port() -> None:
    parsed = parse("host: h\nsecurity: starttls\n")

    assert parsed.to_console_options({"security": "tls"}).connect.port == 465


def test_defaults_match_connect_options() -> None:
    parsed = parse("host: h\n")

    connect = parsed.to_console_options().connect

    assert connect == ConnectOptions(host="h", port=587, tls=TlsOptions())


def test_unknown_override_rejected(profile: Profile) -> None:
    with pytest.raises(ValueError, match="unknown override keys: bogus"):
        profile.to_console_options({"bogus": 1})


def test_local_postfix_example_options() -> None:
    profile = load_profile_file(REPO_PROFILES / "local-postfix.yaml")

    options = profile.to_console_options()

    assert options.connect.address == "127.0.0.1:2525"
    assert options.connect.security == "starttls"
    assert options.connect.tls == TlsOptions(ca_file="/tmp/smtp-peer/ca.crt", sni="mail.test")
    assert options.auth == AuthOptions(
        mechanism="PLAIN", username="tester", password_env="SMTP_PEER_PASS"
    )


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (PasswordSource("env", env="SES_SMTP_PASSWORD"), "env: SES_SMTP_PASSWORD"),
        (
            PasswordSource("command", command=("pass", "show", "x")),
            "command: ['pass', 'show', 'x']",
        ),
        (PasswordSource("keyring", keyring="smtpconsole"), "keyring: smtpconsole"),
        (PasswordSource("prompt"), "prompt"),
    ],
)
def test_password_source_describe(source: PasswordSource, text: str) -> None:
    assert source.describe() == text
