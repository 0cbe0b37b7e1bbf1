"""The ``run`` and ``send`` subcommands through ``smtpconsole.cli.main``, as a user types them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.cli import main
from smtpconsole.script import ExitCode, add_run_arguments, run_from_args


def run_with_arguments(words: list[str]) -> int:
    """Parse ``words`` with a parser that has only the ``run`` subcommand, and run it."""
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    return run_from_args(parser.parse_args(words))


def write_noop_scenario(tmp_path: Path, server: Any, *, security: str | None = None) -> Path:
    """Write a scenario whose ``target`` is ``server`` and whose one step is NOOP, expecting 250."""
    path = tmp_path / "scenario.yaml"
    security_line = f"security: {security}\n" if security else ""
    path.write_text(
        f"target: {server.host}:{server.port}\n{security_line}"
        "steps:\n  - send: NOOP\n    expect: 250\n"
    )
    return path


def test_send_command_line_delivers(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code = main(
        [
            "send", f"{server.host}:{server.port}", "--starttls", "--ca-file", str(server.ca_file),
            "--from", "a@example.com", "--to", "b@example.com", "--header", "X-Run: 7",
            "--body", "hello",
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert b"X-Run: 7" in server.messages[0].content
    assert "S: 250 2.0.0 Message accepted" in out


def test_send_quit_after_rcpt_sends_no_data(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code = main(
        [
            "send", f"{server.host}:{server.port}", "--ca-file", str(server.ca_file),
            "--from", "a@example.com", "--to", "b@example.com", "--quit-after", "rcpt",
        ]
    )  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == ExitCode.OK
    assert "C: DATA" not in out
    assert server.messages == []


def test_run_uses_scenario_target(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write_noop_scenario(tmp_path, server)
    code = run_with_arguments(["run", str(path), "--starttls", "--ca-file", str(server.ca_file)])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "== TLS started" in out


def test_run_applies_scenario_security(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(implicit_tls=True)
    path = write_noop_scenario(tmp_path, server, security="tls")
    code = run_with_arguments(["run", str(path), "--ca-file", str(server.ca_file)])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: STARTTLS" not in out
    assert "S: 250" in out


def test_run_command_line_security_wins(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = write_noop_scenario(tmp_path, server, security="tls")
    code = run_with_arguments(["run", str(path), "--starttls", "--ca-file", str(server.ca_file)])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: STARTTLS" in out


def client_commands(out: str) -> list[str]:
    return [line[3:].split(" ")[0] for line in out.splitlines() if line.startswith("C: ")]


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("connect", ["QUIT"]),
        ("ehlo", ["EHLO", "QUIT"]),
        ("first-helo", ["EHLO", "QUIT"]),
        ("tls", ["EHLO", "STARTTLS", "EHLO", "QUIT"]),
        ("helo", ["EHLO", "STARTTLS", "EHLO", "QUIT"]),
        ("mail", ["EHLO", "STARTTLS", "EHLO", "MAIL", "QUIT"]),
    ],
)
def test_send_quit_after_stage(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str], stage: str, expected: list[str]
) -> None:
    server = start_smtp_server()
    code = main(
        [
            "send", f"{server.host}:{server.port}", "--starttls", "--ca-file", str(server.ca_file),
            "--from", "a@example.com", "--to", "b@example.com", "--quit-after", stage,
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert client_commands(out) == expected
    assert server.messages == []


def test_run_accepts_target_after_options(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = tmp_path / "hello.yaml"
    path.write_text("steps:\n  - send: NOOP\n    expect: 250\n")
    code = main(
        ["run", str(path), "--ca-file", str(server.ca_file), f"{server.host}:{server.port}"]
    )
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: NOOP" in out


def test_run_scenario_target_gives_variables(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A recorded scenario has its own target and refers to ${SMTP_USERNAME} and ${SMTP_PASSWORD}.
    server = start_smtp_server()
    monkeypatch.setenv("SMTP_PASSWORD", server.password)
    monkeypatch.delenv("SMTP_USERNAME", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    path = tmp_path / "recorded.yaml"
    path.write_text(
        f"target: {server.host}:{server.port}\nsecurity: starttls\nsteps:\n"
        "  - auth: {mechanism: PLAIN, username: '${SMTP_USERNAME}', password: '${SMTP_PASSWORD}'}\n"
        "  - send: NOOP ${HOST} ${PORT}\n    expect: 250\n"
    )
    code = main(
        [
            "run", str(path), "--ca-file", str(server.ca_file),
            "--user", server.user, "--password-env", "SMTP_PASSWORD",
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "S: 235" in out
    assert f"C: NOOP {server.host} {server.port}" in out


def test_send_without_sender_prints_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", "127.0.0.1:1", "--to", "x@example.com"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "error: no sender for MAIL FROM" in err
    assert err.endswith("smtpconsole: exit code 2 (usage)\n")


def test_run_argument_error_prints_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "a.yaml", "127.0.0.1:1", "extra"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "unrecognized arguments: extra" in err
    assert err.endswith("smtpconsole: exit code 2 (usage)\n")


def test_send_non_utf8_body_file_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtpconsole.scenario import BODY_FILE_HINT

    body = tmp_path / "body.txt"
    body.write_bytes(b"caf\xe9\n")
    code = main(
        ["send", "127.0.0.1:1", "--from", "a@example.com", "--to", "b@example.com",
         "--body-file", str(body)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert f"cannot read --body-file {body}: not UTF-8 text: byte 0xE9 at line 1, column 4" in err
    assert f"hint: {BODY_FILE_HINT}" in err


def test_send_profile_gives_envelope_defaults(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_smtp_server()
    (tmp_path / "local.yaml").write_text(
        f"name: local\nhost: {server.host}\nport: {server.port}\nsecurity: starttls\n"
        f"tls: {{ca_file: {server.ca_file}}}\n"
        "envelope: {mail_from: a@example.com, rcpt_to: [b@example.com]}\n"
    )
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(tmp_path))
    code = main(["send", "--profile", "local"])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: MAIL FROM:<a@example.com>" in out
    assert "C: RCPT TO:<b@example.com>" in out
    assert len(server.messages) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'steps:\n  - send: "caf\xe9"\n', "byte 0xE9 at line 2, column 15 (byte offset 21)"),
        (b"\x7fELF\x02\x01\x01\x00\x00", "line 1, column 1: invalid YAML: character U+007F"),
        (b"steps: [\n", "line 2, column 1: invalid YAML: expected the node content"),
    ],
)
def test_run_unreadable_scenario_is_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    assert main(["run", str(path), "127.0.0.1:1"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"error: {path}" in err
    assert expected in err
    assert "Traceback" not in err
    assert err.endswith("smtpconsole: exit code 2 (usage)\n")
