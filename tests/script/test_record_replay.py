"""A session recorded with ``record_scenario`` replays green with ``smtpconsole run``."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
import yaml

from smtpconsole.options import ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.protocol.replies import Reply
from smtpconsole.protocol.sasl import create_mechanism
from smtpconsole.recording import (
    NothingToRecordError,
    ReplaySettings,
    record_scenario,
    save_scenario,
)
from smtpconsole.script import ExitCode, run_scenario
from smtpconsole.session import Session
from smtpconsole.transcript import Connecting, Event, LineSent, ReplyReceived


def connect_options(server: Any) -> ConnectOptions:
    """STARTTLS options for ``server`` that trust the test CA."""
    return ConnectOptions(server.host, server.port, tls=TlsOptions(ca_file=str(server.ca_file)))


def export_login(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    """Set the variables that a recorded AUTH step refers to."""
    monkeypatch.setenv("SMTP_USERNAME", server.user)
    monkeypatch.setenv("SMTP_PASSWORD", server.password)


def replay(path: Path, connect: ConnectOptions) -> int:
    """Run the recorded scenario at ``path`` against ``connect`` and return the exit code."""
    return run_scenario(str(path), ConsoleOptions(connect=connect), json_output=False)


def run_and_record(dialogue: Coroutine[Any, Any, Session], path: Path) -> Path:
    """Run ``dialogue`` to its end and record the session it returns as a scenario at ``path``."""
    session = asyncio.run(dialogue)
    return record_scenario(session.transcript, path)


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
    connect = connect_options(server)
    path = run_and_record(typed_session(connect, server.password), tmp_path / "recorded.yaml")

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
    }
    assert {"send": "RCPT TO:<bob@example.com>", "expect": 250} in document["steps"]
    assert document["manual"] is False

    export_login(monkeypatch, server)
    code = replay(path, connect)
    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert len(server.messages) == 2
    assert server.messages[1].content == server.messages[0].content
    assert b"\r\n.dot line\r\n" in server.messages[1].content


def test_recorded_auth_fails_replay_with_auth_code(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_smtp_server()
    connect = connect_options(server)
    path = run_and_record(typed_session(connect, server.password), tmp_path / "recorded.yaml")

    monkeypatch.setenv("SMTP_USERNAME", server.user)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    code = replay(path, connect)

    assert code == ExitCode.AUTH, capsys.readouterr().err
    assert len(server.messages) == 1


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
    path = run_and_record(typed_session(connect, server.password), tmp_path / "recorded.yaml")
    assert yaml.safe_load(path.read_text())["security"] == "tls"

    export_login(monkeypatch, server)
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_run_arguments(parser.add_subparsers(dest="command"))
    code = run_from_args(parser.parse_args(["run", str(path), "--ca-file", str(server.ca_file)]))
    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert len(server.messages) == 2


def plain_token(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def session_with_failed_auth(options: ConnectOptions, user: str, password: str) -> Session:
    session = Session(options)
    await session.connect()
    wrong = await session.send_command(f"AUTH PLAIN {plain_token(user, 'wrong')}", source="typed")
    assert wrong.code == 535
    right = await session.send_command(f"AUTH PLAIN {plain_token(user, password)}", source="typed")
    assert right.code == 235
    await session.send_command("NOOP", source="typed")
    await session.close()
    return session


def test_failed_auth_left_out_and_replays_green(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = start_smtp_server()
    connect = connect_options(server)
    path = run_and_record(
        session_with_failed_auth(connect, server.user, server.password), tmp_path / "recorded.yaml"
    )

    steps = yaml.safe_load(path.read_text())["steps"]
    assert [step.get("expect") for step in steps] == [None, 250]
    assert "auth" in steps[0]
    assert "535" not in path.read_text()
    assert "# Note: 1 failed AUTH attempt left out" in path.read_text()

    export_login(monkeypatch, server)
    code = replay(path, connect)
    assert code == ExitCode.OK, capsys.readouterr().err


def test_only_failed_auth_is_nothing_to_record(start_smtp_server: Any, tmp_path: Path) -> None:
    server = start_smtp_server()
    connect = connect_options(server)

    async def failed_only() -> Session:
        session = Session(connect)
        await session.connect()
        await session.send_command(f"AUTH PLAIN {plain_token('x', 'wrong')}", source="typed")
        await session.close()
        return session

    session = asyncio.run(failed_only())
    with pytest.raises(NothingToRecordError, match="nothing to record yet"):
        record_scenario(session.transcript, tmp_path / "recorded.yaml")
    assert not (tmp_path / "recorded.yaml").exists()


async def session_across_reconnect(options: ConnectOptions) -> Session:
    session = Session(options)
    await session.connect()
    await session.send_command("RSET", source="typed")
    await session.send_command("QUIT", source="typed")
    await session.close()
    await session.connect()
    await session.send_command("NOOP", source="typed")
    await session.close()
    return session


def test_reconnect_records_last_connection_only(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    connect = connect_options(server)
    path = run_and_record(session_across_reconnect(connect), tmp_path / "recorded.yaml")

    text = path.read_text()
    assert yaml.safe_load(text)["steps"] == [{"send": "NOOP", "expect": 250}]
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("only the last connection is recorded" in line for line in header)
    assert any("2 steps of 1 earlier connection left out" in line for line in header)

    code = replay(path, connect)
    assert code == ExitCode.OK, capsys.readouterr().err


def test_empty_recording_writes_no_file(tmp_path: Path) -> None:
    events: list[Event] = [Connecting("127.0.0.1", 2525, "starttls")]
    with pytest.raises(NothingToRecordError) as raised:
        record_scenario(events, tmp_path / "empty.yaml")
    assert raised.value.message.startswith("nothing to record yet: no command was sent")
    assert not (tmp_path / "empty.yaml").exists()
    with pytest.raises(NothingToRecordError):
        save_scenario(events, ReplaySettings(), folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_save_twice_in_one_second_keeps_both(tmp_path: Path) -> None:
    events: list[Event] = [
        Connecting("127.0.0.1", 2525, "plain"),
        LineSent(b"NOOP\r\n", "typed"),
        ReplyReceived(Reply(250, ("OK",), b"250 OK\r\n")),
    ]
    first = save_scenario(events, ReplaySettings(), folder=tmp_path)
    second = save_scenario(events, ReplaySettings(), folder=tmp_path)
    assert first.path != second.path
    assert second.path.name == first.path.name.replace(".yaml", "-2.yaml")
    assert first.path.read_text() == second.path.read_text()
    assert second.path.stat().st_mode & 0o777 == 0o600


def test_replay_command_names_tls_options_and_environment(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    events: list[Event] = [
        Connecting("127.0.0.1", 2525, "starttls"),
        LineSent(b"AUTH PLAIN ********\r\n", "typed", secret=True),
        ReplyReceived(Reply(235, ("OK",), b"235 OK\r\n")),
    ]
    settings = ReplaySettings(
        tls=TlsOptions(ca_file=str(ca_file), sni="mail.test"),
        insecure=True,
        username="alice smith",
        password_env="MY_PASSWORD",
    )
    saved = save_scenario(events, settings, folder=tmp_path)
    assert saved.replay_command == (
        "SMTP_USERNAME='alice smith' SMTP_PASSWORD=\"$MY_PASSWORD\" smtpconsole run "
        f"{saved.path} --ca-file {ca_file} --sni mail.test --insecure"
    )
    assert saved.describe()[1] == f"replay it with: {saved.replay_command}"
    header = saved.path.read_text().splitlines()[0]
    assert header.endswith(
        "smtpconsole run THIS_FILE --ca-file " + f"{ca_file} --sni mail.test --insecure"
    )

    without_sources = save_scenario(events, ReplaySettings(), folder=tmp_path)
    assert without_sources.replay_command == f"smtpconsole run {without_sources.path}"
    assert without_sources.describe()[2].startswith(
        "set SMTP_USERNAME and SMTP_PASSWORD in the environment before replaying"
    )


def test_create_export_file_never_overwrites(tmp_path: Path) -> None:
    from smtpconsole.locations import create_export_file

    now = 1_700_000_000.0
    first = create_export_file("transcript", ".txt", folder=tmp_path, now=now)
    assert first.name == "transcript-20231114-221320Z.txt"
    first.write_text("kept")
    second = create_export_file("transcript", ".txt", folder=tmp_path, now=now)
    third = create_export_file("transcript", ".txt", folder=tmp_path, now=now)
    assert [second.name, third.name] == [
        first.name.replace(".txt", "-2.txt"),
        first.name.replace(".txt", "-3.txt"),
    ]
    assert first.read_text() == "kept"
    assert third.stat().st_mode & 0o777 == 0o600


async def dollar_session(options: ConnectOptions, password: str) -> Session:
    session = Session(options)
    await session.connect()
    for line in ("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"):
        await session.send_command(line, source="typed")
    for line in ("Subject: costs $5", "", "${HOME} and $$ stay as typed"):
        await session.send_line(line, source="typed")
    await session.send_command(".", source="typed")
    await session.close()
    return session


def test_dollar_signs_replay_as_typed(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    connect = connect_options(server)
    path = run_and_record(dollar_session(connect, server.password), tmp_path / "dollars.yaml")

    code = replay(path, connect)

    assert code == ExitCode.OK, capsys.readouterr().err
    assert server.messages[1].content == server.messages[0].content
    assert b"${HOME} and $$ stay as typed" in server.messages[1].content


def reply(code: int) -> ReplyReceived:
    return ReplyReceived(Reply(code, ("text",), f"{code} text\r\n".encode()))


def test_secret_line_outside_auth_left_out(tmp_path: Path) -> None:
    # AUTH before EHLO gets 503, so the base64 password typed next is a command that gets 500.
    token = plain_token("alice", "hunter2")
    events: list[Event] = [
        Connecting("127.0.0.1", 2525, "plain"),
        LineSent(b"NOOP\r\n", "typed"),
        reply(250),
        LineSent(b"AUTH PLAIN\r\n", "typed"),
        reply(503),
        LineSent(token.encode() + b"\r\n", "typed", secret=True),
        reply(500),
        LineSent(b"RSET\r\n", "typed"),
        reply(250),
    ]

    path = record_scenario(events, tmp_path / "recorded.yaml")

    text = path.read_text()
    assert token not in text
    assert yaml.safe_load(text)["steps"] == [
        {"send": "NOOP", "expect": 250},
        {"send": "RSET", "expect": 250},
    ]
    assert "1 secret line sent outside an AUTH exchange left out" in text


def test_unfinished_data_left_out_and_noted(tmp_path: Path) -> None:
    events: list[Event] = [
        Connecting("127.0.0.1", 2525, "plain"),
        LineSent(b"MAIL FROM:<a@example.com>\r\n", "typed"),
        reply(250),
        LineSent(b"RCPT TO:<b@example.com>\r\n", "typed"),
        reply(250),
        LineSent(b"DATA\r\n", "typed"),
        reply(354),
        LineSent(b"Subject: never ended\r\n", "typed"),
        LineSent(b"\r\n", "typed"),
    ]

    saved = save_scenario(events, ReplaySettings(), folder=tmp_path)

    text = saved.path.read_text()
    assert [list(step) for step in yaml.safe_load(text)["steps"]] == [
        ["send", "expect"],
        ["send", "expect"],
    ]
    assert "never ended" not in text
    note = "the unfinished DATA message (2 lines after 354, no final '.') left out"
    assert any(line.startswith(f"# Note: {note}") for line in text.splitlines())
    assert any(line.startswith(note) for line in saved.describe())


def test_practice_replay_prints_practice_hints(tmp_path: Path) -> None:
    from smtpconsole.recording import PRACTICE_PASSWORD_VARIABLE

    events: list[Event] = [
        Connecting("127.0.0.1", 2525, "starttls"),
        LineSent(b"AUTH PLAIN ********\r\n", "typed", secret=True),
        reply(235),
    ]
    settings = ReplaySettings(username="practice-user", password_env=PRACTICE_PASSWORD_VARIABLE)

    saved = save_scenario(events, settings, folder=tmp_path)

    assert PRACTICE_PASSWORD_VARIABLE not in saved.replay_command
    assert saved.replay_command.startswith("SMTP_USERNAME=practice-user smtpconsole run ")
    lines = saved.describe()
    assert lines[2].startswith("set SMTP_PASSWORD to the practice password before replaying")
    assert "lesson panel" in lines[2]
    assert "new password, port and certificate each time it starts" in lines[3]
    assert "--ca-file" in lines[3]
    text = saved.path.read_text()
    assert PRACTICE_PASSWORD_VARIABLE not in text
    assert sum(line.startswith("# Practice: ") for line in text.splitlines()) == 2
