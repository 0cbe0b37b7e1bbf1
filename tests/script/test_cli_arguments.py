"""The ``run`` and ``send`` subcommands through ``smtpconsole.cli.main``, as a user types them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.cli import main
from smtpconsole.script import ExitCode, add_run_arguments, run_from_args


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
    path = tmp_path / "scenario.yaml"
    path.write_text(
        f"target: {server.host}:{server.port}\nsteps:\n  - send: NOOP\n    expect: 250\n"
    )
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", str(path), "--starttls", "--ca-file", str(server.ca_file)])
    code = run_from_args(args)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "== TLS started" in out


def test_run_applies_scenario_security(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(implicit_tls=True)
    path = tmp_path / "scenario.yaml"
    path.write_text(
        f"target: {server.host}:{server.port}\nsecurity: tls\n"
        "steps:\n  - send: NOOP\n    expect: 250\n"
    )
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", str(path), "--ca-file", str(server.ca_file)])
    code = run_from_args(args)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: STARTTLS" not in out
    assert "S: 250" in out


def test_run_command_line_security_wins(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    path = tmp_path / "scenario.yaml"
    path.write_text(
        f"target: {server.host}:{server.port}\nsecurity: tls\n"
        "steps:\n  - send: NOOP\n    expect: 250\n"
    )
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", str(path), "--starttls", "--ca-file", str(server.ca_file)])
    code = run_from_args(args)
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
