"""The ``token`` and ``ses-password`` subcommands, called with parsed arguments."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io

import pytest

from smtpconsole import tokens
from smtpconsole.errors import CredentialError, UsageError
from smtpconsole.tokens import (
    SES_SMTP_REGIONS,
    add_ses_arguments,
    add_token_arguments,
    derive_ses_smtp_password,
    ses_password_command,
    ses_password_version,
    ses_region_of_host,
    token_command,
)

# The example secret access key from the AWS documentation; it grants nothing.
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smtpconsole")
    subparsers = parser.add_subparsers(dest="command")
    add_token_arguments(subparsers)
    add_ses_arguments(subparsers)
    return parser


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def run(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    result = args.func(args)
    assert isinstance(result, int)
    return result


def independent_ses_password(secret: str, region: str) -> str:
    key = ("AWS4" + secret).encode()
    for message in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x04" + key).decode()


# --- token ----------------------------------------------------------------------------------------


def test_token_plain_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "tanstaaftanstaaf\nignored second line\n")
    assert run(["token", "plain", "--user", "tim"]) == 0
    out, err = capsys.readouterr()
    assert out == "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\n"
    assert "AUTH PLAIN" in err
    assert "tanstaaf" not in err


def test_token_plain_authzid_flag_repeats_user(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "pw\n")
    run(["token", "plain", "--user", "user", "--authzid"])
    token = capsys.readouterr().out.strip()
    assert base64.b64decode(token) == b"user\0user\0pw"


def test_token_plain_authzid_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "xipj3plmq\n")
    run(["token", "plain", "--user", "Kurt", "--authzid", "Ursel"])
    assert base64.b64decode(capsys.readouterr().out.strip()) == b"Ursel\0Kurt\0xipj3plmq"


def test_token_login_two_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "s3cret\n")
    run(["token", "LOGIN", "--user", "alice"])
    assert capsys.readouterr().out.splitlines() == ["YWxpY2U=", "czNjcmV0"]


def test_token_xoauth2_from_env(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TEST_ACCESS_TOKEN", "ya29.token")
    run(["token", "xoauth2", "--user", "u@example.com", "--password-env", "TEST_ACCESS_TOKEN"])
    token = capsys.readouterr().out.strip()
    assert base64.b64decode(token) == b"user=u@example.com\x01auth=Bearer ya29.token\x01\x01"


def test_token_missing_env_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(CredentialError, match="TEST_UNSET_VARIABLE is not set"):
        run(["token", "plain", "--user", "u", "--password-env", "TEST_UNSET_VARIABLE"])


def test_token_empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, "")
    with pytest.raises(CredentialError, match="no secret on standard input"):
        run(["token", "plain", "--user", "u"])


def test_token_prompt_on_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    run(["token", "plain", "--user", "u"])
    assert prompts == ["Password: "]
    assert base64.b64decode(capsys.readouterr().out.strip()) == b"\0u\0typed"


def test_token_requires_user() -> None:
    with pytest.raises(SystemExit):
        make_parser().parse_args(["token", "plain"])
    namespace = argparse.Namespace(mechanism="plain", user=None, authzid=None, password_env=None)
    with pytest.raises(UsageError, match="missing --user"):
        token_command(namespace)


def test_token_rejects_password_argument() -> None:
    with pytest.raises(SystemExit):
        make_parser().parse_args(["token", "plain", "--user", "u", "--password", "p"])


def test_token_rejects_nul_in_user(monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, "pw\n")
    namespace = argparse.Namespace(mechanism="plain", user="a\0b", authzid=None, password_env=None)
    with pytest.raises(UsageError, match="username"):
        token_command(namespace)


# --- ses-password ---------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-northeast-1"])
def test_ses_derivation_matches_independent_code(region: str) -> None:
    assert derive_ses_smtp_password(EXAMPLE_SECRET, region) == independent_ses_password(
        EXAMPLE_SECRET, region
    )


def test_ses_command_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, EXAMPLE_SECRET + "\n")
    assert run(["ses-password", "--region", "eu-central-1"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == independent_ses_password(EXAMPLE_SECRET, "eu-central-1")
    assert "email-smtp.eu-central-1.amazonaws.com" in err
    assert EXAMPLE_SECRET not in out + err


def test_ses_unknown_region_lists_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, EXAMPLE_SECRET + "\n")
    with pytest.raises(UsageError) as caught:
        run(["ses-password", "--region", "mars-north-1"])
    assert "invalid region 'mars-north-1'" in caught.value.message
    assert caught.value.hint is not None
    assert "us-east-1" in caught.value.hint


def test_ses_region_from_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, EXAMPLE_SECRET + "\n")
    run(["ses-password", "--host", "email-smtp.us-west-2.amazonaws.com"])
    assert capsys.readouterr().out.strip() == independent_ses_password(EXAMPLE_SECRET, "us-west-2")


def test_ses_host_region_mismatch_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, EXAMPLE_SECRET + "\n")
    run(["ses-password", "--region", "us-east-1", "--host", "email-smtp.eu-west-1.amazonaws.com"])
    err = capsys.readouterr().err
    assert "will be rejected by email-smtp.eu-west-1.amazonaws.com" in err


def test_ses_host_not_ses_warns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, EXAMPLE_SECRET + "\n")
    run(["ses-password", "--region", "us-east-1", "--host", "smtp.gmail.com"])
    assert "smtp.gmail.com is not an SES SMTP endpoint" in capsys.readouterr().err


def test_ses_access_key_id_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, "AKIAIOSFODNN7EXAMPLE\n")
    with pytest.raises(UsageError, match="access key ID, not the secret"):
        run(["ses-password", "--region", "us-east-1"])


def test_ses_missing_region() -> None:
    with pytest.raises(UsageError, match="missing --region"):
        ses_password_command(argparse.Namespace(region=None, check=None, host=None))


def test_ses_check_version_4_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, independent_ses_password(EXAMPLE_SECRET, "us-east-1") + "\n")
    assert run(["ses-password", "--check"]) == 0
    assert "version 4" in capsys.readouterr().out


def test_ses_check_legacy_version_2(capsys: pytest.CaptureFixture[str]) -> None:
    legacy = base64.b64encode(b"\x02" + hmac.new(b"k", b"SendRawEmail", hashlib.sha256).digest())
    assert run(["ses-password", "--check", legacy.decode()]) == 1
    out, err = capsys.readouterr()
    assert "version 2" in out
    assert "visible to other users" in err


def test_ses_check_secret_key_is_not_a_password() -> None:
    with pytest.raises(UsageError, match="expected 33 octets"):
        ses_password_version(EXAMPLE_SECRET)
    with pytest.raises(UsageError, match="not base64"):
        ses_password_version("not base64!")


def test_ses_region_of_host() -> None:
    assert ses_region_of_host("email-smtp.ap-northeast-1.amazonaws.com") == "ap-northeast-1"
    assert ses_region_of_host("EMAIL-SMTP.US-EAST-1.AMAZONAWS.COM.") == "us-east-1"
    assert ses_region_of_host("email-smtp-fips.us-gov-west-1.amazonaws.com") == "us-gov-west-1"
    assert ses_region_of_host("smtp.example.com") is None


def test_ses_regions_unique() -> None:
    assert len(set(SES_SMTP_REGIONS)) == len(SES_SMTP_REGIONS)
    assert tokens.READ_FROM_STDIN not in SES_SMTP_REGIONS


def test_token_prompt_end_of_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtpconsole.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", end_of_input)
    assert main(["token", "plain", "--user", "u"]) == 1
    error = capsys.readouterr().err
    assert "no password entered (end of input)" in error
    assert "Traceback" not in error
