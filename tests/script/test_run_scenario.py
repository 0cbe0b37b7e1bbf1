"""``smtpconsole run`` against aiosmtpd: exit codes, messages on stderr, transcript on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.options import ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.script import ExitCode, run_scenario
from tests.conftest import free_port

from .servers import PipeliningHandler


def options_for(server: Any, **connect: Any) -> ConsoleOptions:
    tls = TlsOptions(ca_file=str(server.ca_file))
    return ConsoleOptions(connect=ConnectOptions(server.host, server.port, tls=tls, **connect))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_captured(
    path: str,
    options: ConsoleOptions | None,
    capsys: pytest.CaptureFixture[str],
    *,
    json_output: bool = False,
) -> tuple[int, str, str]:
    """Run the scenario at ``path``; return the exit code and what it wrote to stdout and stderr."""
    code = run_scenario(path, options, json_output=json_output)
    out, err = capsys.readouterr()
    return code, out, err


DELIVERY = """
steps:
  - auth: {mechanism: PLAIN, username: alice, password_env: TEST_SMTP_PASSWORD}
  - mail: alice@example.com
  - rcpt: bob@example.com
  - data: {subject: Scenario test, body: "Hello Bob\\n.leading dot"}
  - send: NOOP
    expect: 250
"""


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "correct horse battery staple"
    monkeypatch.setenv("TEST_SMTP_PASSWORD", value)
    return value


def test_scenario_passes_and_delivers(
    start_smtp_server: Any, tmp_path: Path, password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code, out, err = run_captured(write(tmp_path, DELIVERY), options_for(server), capsys)
    assert code == ExitCode.OK, err
    assert len(server.messages) == 1
    assert b"Subject: Scenario test" in server.messages[0].content
    assert b"\r\n.leading dot" in server.messages[0].content
    assert "C: AUTH PLAIN ********" in out
    assert password not in out
    assert "S: 250 2.0.0 Message accepted" in out


def test_json_output_is_one_event_per_line(
    start_smtp_server: Any, tmp_path: Path, password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code, out, _ = run_captured(
        write(tmp_path, DELIVERY), options_for(server), capsys, json_output=True
    )
    assert code == ExitCode.OK
    events = [json.loads(line) for line in out.splitlines()]
    assert events[0]["type"] == "Connecting"
    assert "ReplyReceived" in {event["type"] for event in events}
    assert password not in out


def test_unexpected_code_fails_with_expectation_code(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(tmp_path, "steps:\n  - send: NOOP\n  - send: VRFY bob\n    expect: 250\n")
    code, _, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.EXPECTATION == 8
    assert f"{path}: step 2 (send): expected 250, got 252" in err
    assert "exit code 8 (expectation)" in err


def test_rejected_recipient_exits_with_envelope_code(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(handler=PipeliningHandler())
    path = write(
        tmp_path,
        "steps:\n  - mail: a@example.com\n  - rcpt: nobody@example.com\n  - data: {body: x}\n",
    )
    code, _, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.ENVELOPE
    assert "step 2 (rcpt): expected 2xx, got 550 5.1.1 No such user" in err
    assert server.messages == []


def test_untrusted_certificate_exits_with_tls_code(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    # No CA file: the system store does not trust the test CA.
    options = ConsoleOptions(connect=ConnectOptions(server.host, server.port))
    code, out, err = run_captured(write(tmp_path, "steps:\n  - send: NOOP\n"), options, capsys)
    assert code == ExitCode.TLS
    assert "!! TLS failed" in out
    assert "exit code 4 (tls)" in err


def test_starttls_step_without_offer_exits_with_tls_code(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(starttls=False)
    path = write(tmp_path, "manual: true\nsteps:\n  - ehlo:\n  - starttls:\n")
    code, _, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.TLS
    assert "step 2 (starttls): expected 220, got" in err


def test_wrong_password_exits_with_auth_code(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    server = start_smtp_server()
    code, _, err = run_captured(write(tmp_path, DELIVERY), options_for(server), capsys)
    assert code == ExitCode.AUTH
    assert "step 1 (auth): expected 235, got 535" in err
    assert server.messages == []


def test_missing_password_variable_is_usage_error(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    server = start_smtp_server()
    code, _, err = run_captured(write(tmp_path, DELIVERY), options_for(server), capsys)
    assert code == ExitCode.USAGE
    assert "TEST_SMTP_PASSWORD is not set" in err


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("{mechanism: PLAIN, username: alice, password_env: TEST_SMTP_PASSWORD}", "is empty"),
        ("{mechanism: PLAIN, username: alice, password: '${TEST_SMTP_PASSWORD}'}", "empty"),
        (
            "{mechanism: PLAIN, username: '${TEST_SMTP_PASSWORD}', password: x}",
            "user name is empty",
        ),
    ],
)
def test_empty_password_is_refused_before_connecting(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    step: str,
    expected: str,
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "")
    server = start_smtp_server()
    path = write(tmp_path, f"steps:\n  - auth: {step}\n")
    code, out, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.USAGE
    assert "step 1 (auth): " in err
    assert expected in err
    assert "C: AUTH" not in out


def test_connection_refused_exits_with_connect_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ConsoleOptions(connect=ConnectOptions("127.0.0.1", free_port(), connect_timeout=5))
    code = run_scenario(write(tmp_path, "steps:\n  - send: NOOP\n"), options, json_output=False)
    assert code == ExitCode.CONNECT


def test_invalid_scenario_exits_with_usage_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "steps:\n  - rcpt:\n")
    code, _, err = run_captured(path, None, capsys)
    assert code == ExitCode.USAGE
    assert f"{path}: step 1 (rcpt): field 'rcpt'" in err


def test_quit_after_stops_before_data(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(
        tmp_path,
        "quit-after: rcpt\nsteps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n"
        "  - data: {body: x}\n",
    )
    code, out, _ = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.OK
    assert "C: DATA" not in out
    assert "C: QUIT" in out
    assert server.messages == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'steps:\n  - mail: ""\n  - rcpt: b@example.com\n  - data: {subject: Hi}\n',
            "step 3 (data): no address for the From header",
        ),
        (
            "steps:\n  - auth: {mechanism: PLAIN, username: u, password_env: SMTPC_UNSET_VAR}\n",
            "step 1 (auth): environment variable SMTPC_UNSET_VAR is not set",
        ),
        ("steps:\n  - auth: PLAIN\n", "step 1 (auth): no user name for AUTH"),
    ],
)
def test_scenario_needs_checked_before_connecting(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    monkeypatch.delenv("SMTPC_UNSET_VAR", raising=False)
    server = start_smtp_server()
    code, out, err = run_captured(write(tmp_path, text), options_for(server), capsys)
    assert code == ExitCode.USAGE
    assert out == ""
    assert expected in err
    assert bytes(server.received) == b""


def test_scenario_ending_inside_data_fails(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(
        tmp_path,
        "steps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n  - send: DATA\n"
        '  - send: "Subject: x"\n',
    )
    code, out, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.DATA == 7
    assert f"{path}: step 4 (send): the message is not finished" in err
    assert "no line containing only '.'" in err
    assert "C: QUIT" not in out
    assert b"QUIT" not in bytes(server.received)
    assert server.messages == []


def test_rejected_data_names_354(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(tmp_path, "steps:\n  - mail: a@example.com\n  - data: {body: x}\n")
    code, _, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.DATA
    assert "step 2 (data): expected 354, got 503" in err


def test_quit_after_auth_without_auth_step_stops(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(
        tmp_path,
        "quit-after: auth\nsteps:\n  - send: NOOP\n  - mail: a@example.com\n"
        "  - rcpt: b@example.com\n  - data: {body: x}\n",
    )
    code, out, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.OK, err
    assert "C: NOOP" in out
    assert "C: MAIL" not in out
    assert "step 2 (mail): note: quit-after auth, but no step ran the auth stage" in err
    assert server.messages == []


def test_quit_after_never_reached_is_noted(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write(tmp_path, "quit-after: mail\nsteps:\n  - send: NOOP\n")
    code, _, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.OK
    assert "note: quit-after mail: no step completed that stage, so every step ran" in err


LATIN1_MESSAGE = b"From: a@example.com\nTo: b@example.com\nSubject: latin\n\ncaf\xe9\n"


def test_raw_8bit_message_gets_body_param(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    message = tmp_path / "latin1.eml"
    message.write_bytes(LATIN1_MESSAGE)
    path = write(
        tmp_path,
        f"steps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n  - data: {message}\n",
    )
    code, out, err = run_captured(path, options_for(server), capsys)
    assert code == ExitCode.OK, err
    size = len(LATIN1_MESSAGE.replace(b"\n", b"\r\n"))
    assert f"C: MAIL FROM:<a@example.com> SIZE={size} BODY=8BITMIME" in out
    assert b"caf\xe9" in server.messages[0].original_content


def test_raw_8bit_message_warns_without_8bitmime(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # aiosmtpd leaves 8BITMIME out of its EHLO reply when it decodes the data.
    server = start_smtp_server(decode_data=True)
    path = write(
        tmp_path,
        "steps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n"
        '  - data: {raw: "Subject: caf\\u00e9\\n\\nbody"}\n',
    )
    _, out, err = run_captured(path, options_for(server), capsys)
    assert "C: MAIL FROM:<a@example.com> SIZE=" in out
    assert "BODY=8BITMIME" not in out
    assert "step 3 (data): warning: the message contains 8-bit data but the server does not " in err
