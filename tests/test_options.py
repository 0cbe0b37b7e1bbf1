"""TARGET parsing and the validation of the shared command-line options."""

from __future__ import annotations

import pytest

from smtpconsole.cli import main
from smtpconsole.errors import UsageError
from smtpconsole.options import Target, format_target, parse_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail.example.com", Target("mail.example.com", None)),
        ("mail.example.com:587", Target("mail.example.com", 587)),
        ("127.0.0.1:2525", Target("127.0.0.1", 2525)),
        ("[::1]:2525", Target("::1", 2525)),
        ("::1", Target("::1", None)),
        ("[::1]", Target("::1", None)),
        ("localhost", Target("localhost", None)),
    ],
)
def test_parse_target_accepts(text: str, expected: Target) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("host:0", "out of range"),
        ("host:65536", "out of range"),
        ("host:smtp", "not a number"),
        ("[::1", "without ']'"),
        ("[zz]:25", "not an IPv6 address"),
        ("[::1]x", "unexpected"),
        (":25", "no host"),
        ("bad host", "not a host name"),
        ("5", "not a host name"),
        ("127.1", "not a host name"),
        ("0x7f.1", "not a host name"),
    ],
)
def test_parse_target_rejects(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_target(text)
    assert message in caught.value.message
    assert caught.value.hint


def test_format_target_brackets_ipv6() -> None:
    assert format_target("::1", 25) == "[::1]:25"
    assert format_target("mail.test", 25) == "mail.test:25"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--line", "x.test:1", "--port", "2"], "--port has 2"),
        (["--line", "x.test:1", "--timeout", "0"], "must be more than 0"),
        (["--line", "x.test:1", "--ca-file", "/nonexistent.pem"], "file not found"),
        (["--line", "x.test:1", "--ca-file", "/"], "is a folder"),
        (["--line", "x.test:1", "--auth", "NTLM"], "unknown --auth mechanism"),
        (["--line", "x.test:1", "--password-env", "NOT SET"], "not an environment variable name"),
        (["--line", "x.test:1", "--ehlo", "a\rb"], "contains CR"),
        (["--line", "x.test:1", "--client-key", "/etc/hostname"], "without --client-cert"),
        (["--line"], "no server given"),
        (["sned"], "did you mean 'send'"),
    ],
)
def test_cli_rejects_bad_option(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


def test_cli_hides_unrecognised_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "x.test:25", "--password", "hunter2"]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err
    assert "--password ********" in err
    assert "(the value after --password is not shown)" in err


def test_cli_shows_other_unrecognised_values(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["x.test:25", "extra.yaml", "--token=abc", "--pasword", "s3", "--bogus", "7"]
    assert main(["send", *arguments]) == 2
    err = capsys.readouterr().err
    assert (
        "unrecognized arguments: extra.yaml --token=******** --pasword ******** --bogus 7 "
        "(the values after --token and --pasword are not shown)"
    ) in err
    assert "abc" not in err
    assert "s3" not in err


def test_cli_unset_password_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SMTPCONSOLE_TEST_UNSET", raising=False)
    assert main(["--line", "x.test:1", "--password-env", "SMTPCONSOLE_TEST_UNSET"]) == 2
    assert "is not set" in capsys.readouterr().err


def test_console_needs_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    # Under pytest stdin is not a terminal, so the full-screen console must refuse to start.
    assert main(["127.0.0.1:25"]) == 2
    assert "needs a terminal" in capsys.readouterr().err
