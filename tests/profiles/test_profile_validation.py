"""Validation of profile fields: each error names the file, line, field, value and what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_schema import PasswordSource, Profile
from smtpconsole.profiles_yaml import ProfileIssue

FILE = Path("/profiles/test.yaml")


def issues_of(text: str) -> list[ProfileIssue]:
    profile, issues = parse_profile(text, FILE)
    assert profile is None, "expected the profile to be rejected"
    return issues


def only_issue(text: str) -> ProfileIssue:
    issues = issues_of(text)
    assert len(issues) == 1, [issue.format() for issue in issues]
    return issues[0]


def parse_valid(text: str) -> Profile:
    profile, issues = parse_profile(text, FILE)
    assert issues == [], [issue.format() for issue in issues]
    assert profile is not None
    return profile


# (YAML, field, line, text in the message, text in the hint or None)
FIELD_ERRORS = [
    ("host: [a, b]\n", "host", 1, "expected a string, got a list", None),
    ("host: 42\n", "host", 1, "expected a string, got integer 42", None),
    ("host: mail.example.com:25\n", "host", 1, "the port goes in its own field", "port: 25"),
    ("host: 'bad host'\n", "host", 1, "not a host name", "host name or IP address"),
    ("host: ''\n", "host", 1, "must not be empty", None),
    ("host: h\nport: '587'\n", "port", 2, "got string '587'", "remove the quotes"),
    ("host: h\nport: 0\n", "port", 2, "invalid port 0: expected an integer from 1 to 65535", None),
    ("host: h\nport: 65536\n", "port", 2, "invalid port 65536", None),
    ("host: h\nport: true\n", "port", 2, "got boolean True", None),
    ("host: h\nport: 58.7\n", "port", 2, "got number 58.7", None),
    (
        "host: h\nsecurity: startls\n",
        "security",
        2,
        "expected one of plain, starttls, tls",
        "did you mean 'starttls'?",
    ),
    ("host: h\nsecurity: ssl\n", "security", 2, "invalid value 'ssl'", "did you mean 'tls'?"),
    ("host: h\nsecurity: 1\n", "security", 2, "expected a string, got integer 1", None),
    ("host: h\nehlo: my client\n", "ehlo", 2, "an EHLO name has no spaces", None),
    ("host: h\nname: ''\n", "name", 2, "must not be empty", None),
    ("host: h\nnotes: [a]\n", "notes", 2, "expected a string, got a list", None),
    ("host: h\nauth: plain\n", "auth", 2, "expected a mapping of fields, got a scalar", None),
    (
        "host: h\nauth:\n  mechanism: 'PL AIN'\n",
        "auth.mechanism",
        3,
        "invalid SASL mechanism name 'PL AIN'",
        "PLAIN",
    ),
    ("host: h\nauth:\n  username: {a: b}\n", "auth.username", 3, "got a mapping", None),
    (
        'host: h\nauth:\n  username: "a\\r\\nMAIL FROM:<x>"\n',
        "auth.username",
        3,
        "control characters",
        None,
    ),
    (
        "host: h\ntls:\n  verify: 'no'\n",
        "tls.verify",
        3,
        "expected true or false, got string",
        None,
    ),
    (
        "host: h\ntls:\n  min_version: 1.1\n",
        "tls.min_version",
        3,
        "invalid value 1.1: expected 1.2 or 1.3",
        None,
    ),
    ("host: h\ntls:\n  sni: 'a b'\n", "tls.sni", 3, "not a host name", None),
    (
        "host: h\ntls:\n  client_key: k.pem\n",
        "tls.client_key",
        3,
        "client_key needs client_cert",
        None,
    ),
    (
        "host: h\nenvelope:\n  mail_from: '<a@example.com>'\n",
        "envelope.mail_from",
        3,
        "invalid address '<a@example.com>'",
        "without < and >",
    ),
    (
        "host: h\nenvelope:\n  rcpt_to: [a@example.com, 7]\n",
        "envelope.rcpt_to[1]",
        3,
        "expected a string, got integer 7",
        None,
    ),
    (
        "host: h\nenvelope:\n  mail_from: a b@example.com\n",
        "envelope.mail_from",
        3,
        "invalid address 'a b@example.com': spaces or control characters",
        "user@example.com",
    ),
    (
        "host: h\nenvelope:\n  rcpt_to: {a: b}\n",
        "envelope.rcpt_to",
        3,
        "expected a list of strings, got a mapping",
        None,
    ),
    (
        "host: h\ntimeouts:\n  connect: 0\n",
        "timeouts.connect",
        3,
        "expected a number of seconds above 0",
        None,
    ),
    ("host: h\ntimeouts:\n  read: .inf\n", "timeouts.read", 3, "invalid value inf", None),
    (
        "host: h\ntimeouts:\n  keepalive: soon\n",
        "timeouts.keepalive",
        3,
        "expected a number of seconds, got string 'soon'",
        None,
    ),
]


@pytest.mark.parametrize(("text", "field", "line", "message", "hint"), FIELD_ERRORS)
def test_field_error(text: str, field: str, line: int, message: str, hint: str | None) -> None:
    issue = only_issue(text)

    assert issue.file == FILE
    assert issue.field == field
    assert issue.line == line
    assert message in issue.message
    if hint is not None:
        assert issue.hint is not None and hint in issue.hint


UNKNOWN_KEYS = [
    ("host: h\nprot: 25\n", "prot", "did you mean 'port'?"),
    ("host: h\nsecurty: tls\n", "securty", "did you mean 'security'?"),
    ("host: h\nauth:\n  user: bob\n", "auth.user", "did you mean 'username'?"),
    ("host: h\ntls:\n  verfy: false\n", "tls.verfy", "did you mean 'verify'?"),
    ("host: h\ntls:\n  cafile: ca.pem\n", "tls.cafile", "did you mean 'ca_file'?"),
    ("host: h\nenvelope:\n  rcpt: [a@b]\n", "envelope.rcpt", "did you mean 'rcpt_to'?"),
    ("host: h\ntimeouts:\n  conect: 5\n", "timeouts.conect", "did you mean 'connect'?"),
    ("host: h\nusername: bob\n", "username", "'username' belongs under auth:"),
    ("host: h\nca_file: ca.pem\n", "ca_file", "'ca_file' belongs under tls:"),
]


@pytest.mark.parametrize(("text", "field", "hint"), UNKNOWN_KEYS)
def test_unknown_key_suggests(text: str, field: str, hint: str) -> None:
    issue = only_issue(text)

    assert issue.field == field
    assert issue.message.startswith(f"unknown key {field.rsplit('.', 1)[-1]!r}: expected one of")
    assert issue.hint == hint


def test_unknown_key_without_close_match() -> None:
    issue = only_issue("host: h\nzzzzzz: 1\n")

    assert issue.hint is None
    assert "expected one of name, host, port" in issue.message


def test_missing_host() -> None:
    issue = only_issue("port: 25\n")

    assert issue.field == "host"
    assert issue.message == "missing required field"
    assert issue.line == 1
    assert issue.hint == "add e.g. host: smtp.example.com"


def test_null_host_is_missing() -> None:
    issue = only_issue("host:\nport: 25\n")

    assert issue.field == "host"
    assert issue.message == "missing required field"


def test_duplicate_key() -> None:
    issue = only_issue("host: a\nport: 25\nhost: b\n")

    assert issue.field == "host"
    assert issue.line == 3
    assert issue.message == "duplicate key 'host', first at line 1"


def test_non_string_key() -> None:
    issue = only_issue("host: h\n25: port\n")

    assert "invalid key 25: keys must be strings" in issue.message


def test_all_errors_collected_in_line_order() -> None:
    text = "prot: 25\nsecurity: startls\nauth:\n  password: hunter2\ntls:\n  min_version: 1.0\n"

    issues = issues_of(text)

    fields = [issue.field for issue in issues]
    assert fields == ["prot", "host", "security", "auth.password", "tls.min_version"]
    assert [issue.line for issue in issues] == [1, 1, 2, 4, 6]


def test_issue_format_names_file_line_field() -> None:
    issue = only_issue("host: h\nport: 70000\n")

    assert issue.format() == (
        "/profiles/test.yaml:2:7: port: invalid port 70000: expected an integer from 1 to 65535"
    )


# Passwords: only a reference to where the password is read may be written.


@pytest.mark.parametrize("value", ["hunter2", "'prompt me'", "123456", "''", "true"])
def test_literal_password_rejected(value: str) -> None:
    issue = only_issue(f"host: h\nauth:\n  password: {value}\n")

    assert issue.field == "auth.password"
    assert issue.line == 3
    assert "use env, command, keyring or prompt" in issue.message
    assert issue.hint is not None and "{env: SMTP_PASSWORD}" in issue.hint


def test_literal_password_never_echoed() -> None:
    issues = issues_of("host: h\nauth:\n  password: Sup3r-Secret\n")

    assert all("Sup3r-Secret" not in issue.format() for issue in issues)


@pytest.mark.parametrize(
    "text",
    [
        "auth:\n  password: {env: 'Sup3r Secret'}\n",
        "auth:\n  password: {env: 12345678}\n",
        "auth:\n  password: {keyring: [Sup3r]}\n",
        "auth:\n  password: {command: Sup3r}\n",
        "auth:\n  password: {prompt: Sup3r}\n",
    ],
)
def test_password_source_error_hides_value(text: str) -> None:
    issues = issues_of("host: h\n" + text)

    assert issues
    for issue in issues:
        assert "Sup3r" not in issue.format()
        assert "12345678" not in issue.format()


def test_password_type_error_masks_value() -> None:
    issue = only_issue("host: h\nauth:\n  password: {env: 12345678}\n")

    assert issue.field == "auth.password.env"
    assert issue.message == "expected a string, got integer (value not shown)"


def test_name_required_without_file() -> None:
    profile, issues = parse_profile("host: h\n")

    assert profile is None
    assert [issue.field for issue in issues] == ["name"]


@pytest.mark.parametrize("kind", ["env", "command", "keyring"])
def test_password_source_without_value(kind: str) -> None:
    issue = only_issue(f"host: h\nauth:\n  password:\n    {kind}:\n")

    assert issue.field == f"auth.password.{kind}"
    assert issue.message == f"missing value for {kind}"


def test_password_needs_exactly_one_source() -> None:
    issue = only_issue("host: h\nauth:\n  password: {env: A, keyring: b}\n")

    assert issue.field == "auth.password"
    assert issue.message == "give exactly one of env, command, keyring or prompt"


def test_password_command_must_be_a_list() -> None:
    issue = only_issue("host: h\nauth:\n  password: {command: pass show smtp}\n")

    assert issue.field == "auth.password.command"
    assert issue.hint is not None and "run without a shell" in issue.hint


def test_password_unknown_source_suggests() -> None:
    issue = only_issue("host: h\nauth:\n  password: {environ: X}\n")

    assert issue.field == "auth.password.environ"
    assert issue.hint == "did you mean 'env'?"


PASSWORD_SOURCES = [
    ("{env: SES_SMTP_PASSWORD}", PasswordSource("env", env="SES_SMTP_PASSWORD")),
    ("{command: [pass, show, smtp]}", PasswordSource("command", command=("pass", "show", "smtp"))),
    ("{keyring: smtpconsole}", PasswordSource("keyring", keyring="smtpconsole")),
    ("prompt", PasswordSource("prompt")),
    ("{prompt: true}", PasswordSource("prompt")),
]


@pytest.mark.parametrize(("value", "expected"), PASSWORD_SOURCES)
def test_password_source_accepted(value: str, expected: PasswordSource) -> None:
    profile = parse_valid(f"host: h\nauth:\n  username: u\n  password: {value}\n")

    assert profile.auth.password == expected


def test_full_profile_parsed() -> None:
    text = """
name: work
host: mail.example.com
port: 2525
security: tls
ehlo: client.example.com
auth:
  mechanism: cram-md5
  username: bob
  password: {env: WORK_SMTP}
  authzid: admin
tls:
  verify: false
  ca_file: ca.pem
  sni: mx.example.com
  client_cert: client.pem
  client_key: client.key
  min_version: 1.3
envelope:
  mail_from: ''
  rcpt_to: one@example.com
timeouts:
  connect: 5
  read: 2.5
  keepalive: 30
notes: |
  line one
  line two
"""
    profile = parse_valid(text)

    assert profile.name == "work"
    assert profile.host == "mail.example.com"
    assert profile.port == 2525
    assert profile.security == "tls"
    assert profile.ehlo == "client.example.com"
    assert profile.auth.mechanism == "CRAM-MD5"
    assert profile.auth.authzid == "admin"
    assert profile.tls.verify is False
    assert profile.tls.sni == "mx.example.com"
    assert profile.tls.min_version == "1.3"
    assert profile.envelope.mail_from == ""
    assert profile.envelope.rcpt_to == ("one@example.com",)
    assert profile.timeouts.connect == 5.0
    assert profile.timeouts.read == 2.5
    assert profile.timeouts.keepalive == 30.0
    assert profile.notes == "line one\nline two\n"
    assert profile.path == FILE


def test_name_defaults_to_file_stem() -> None:
    profile = parse_valid("host: h\n")

    assert profile.name == "test"


def test_ipv6_host_accepted() -> None:
    profile = parse_valid("host: '::1'\nport: 2525\n")

    assert profile.host == "::1"


def test_null_sections_leave_defaults() -> None:
    profile = parse_valid("host: h\nauth:\ntls:\nenvelope:\ntimeouts:\nport:\n")

    assert profile.port is None
    assert profile.tls.verify is True
    assert profile.auth.password is None


def test_quotes_hint_only_when_quoted() -> None:
    issue = only_issue("host: h\ntls:\n  verify: nope\n")

    assert issue.message == "expected true or false, got string 'nope'"
    assert issue.hint is None


def test_quotes_hint_for_quoted_boolean() -> None:
    issue = only_issue("host: h\ntls:\n  verify: 'false'\n")

    assert issue.hint == "remove the quotes"


def test_security_any_case_accepted() -> None:
    profile = parse_valid("host: h\nsecurity: STARTTLS\n")

    assert profile.security == "starttls"
