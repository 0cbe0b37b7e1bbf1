"""A session recorded with ``record_scenario`` replays green with ``smtpconsole run``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from smtpconsole.options import ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.protocol.sasl import create_mechanism
from smtpconsole.recording import record_scenario
from smtpconsole.script import ExitCode, run_scenario
from smtpconsole.session import Session


async def typed_session(options: ConnectOptions, password: str) -> Session:
    session = Session(options)
    await session.connect()
    await session.authenticate(create_mechanism("PLAIN", username="alice", secret=password))
    for line in ("MAIL FROM:<alice@example.com>", "RCPT TO:<bob@example.com>", "DATA"):
        await session.send_command(line, source="typed")
    for line in ("Subject: recorded", "", "..dot line", "body"):
        await session.send_line(line, source="typed")
    await session.send_command(".", source="typed")
    await session.send_command("NOOP", source="typed")
    await session.close()
    return session


def test_recorded_session_replays_green(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_smtp_server()
    connect = ConnectOptions(server.host, server.port, tls=TlsOptions(ca_file=str(server.ca_file)))
    session = asyncio.run(typed_session(connect, server.password))
    path = record_scenario(session.transcript, tmp_path / "recorded.yaml")

    text = path.read_text()
    assert server.password not in text
    assert path.stat().st_mode & 0o777 == 0o600
    document = yaml.safe_load(text)
    assert document["steps"][0] == {
        "auth": {
            "mechanism": "PLAIN",
            "username": "${SMTP_USERNAME}",
            "password": "${SMTP_PASSWORD}",
        },
        "expect": 235,
    }
    assert {"send": "RCPT TO:<bob@example.com>", "expect": 250} in document["steps"]
    assert document["manual"] is False

    monkeypatch.setenv("SMTP_USERNAME", server.user)
    monkeypatch.setenv("SMTP_PASSWORD", server.password)
    code = run_scenario(str(path), ConsoleOptions(connect=connect), json_output=False)
    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert len(server.messages) == 2
    assert server.messages[1].content == server.messages[0].content
    assert b"\r\n.dot line\r\n" in server.messages[1].content


def test_recorded_implicit_tls_replays_from_file(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    from smtpconsole.script import add_run_arguments, run_from_args

    server = start_smtp_server(implicit_tls=True)
    tls = TlsOptions(ca_file=str(server.ca_file))
    connect = ConnectOptions(server.host, server.port, security="tls", tls=tls)
    session = asyncio.run(typed_session(connect, server.password))
    path = record_scenario(session.transcript, tmp_path / "recorded.yaml")
    assert yaml.safe_load(path.read_text())["security"] == "tls"

    monkeypatch.setenv("SMTP_USERNAME", server.user)
    monkeypatch.setenv("SMTP_PASSWORD", server.password)
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    code = run_from_args(parser.parse_args(["run", str(path), "--ca-file", str(server.ca_file)]))
    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert len(server.messages) == 2
