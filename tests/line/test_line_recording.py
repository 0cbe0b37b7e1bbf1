"""F7 and F5 in the line console: scenario files that replay, exports that never overwrite."""

from __future__ import annotations

import asyncio
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from prompt_toolkit.input import PipeInput

from smtpconsole import cli
from smtpconsole.script import ExitCode
from tests.line.line_helpers import (
    CTRL_D,
    F5,
    F7,
    F8,
    certificate_question,
    create_console,
    make_console,
    pipe,
    quit_console,
    replies,
    run_console,
    untrusted_options,
    wait_for,
)

__all__ = ["pipe"]


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the exports folder into ``tmp_path`` and return it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "smtpconsole" / "exports"


def exported(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.exists() else []


def replay_printed_command(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the command that F7 printed after ``replay it with:`` through ``cli.main``.

    ``cli.main`` runs its own event loop, so async tests call this in a thread.
    """
    printed = [line for line in lines if line.startswith("-- replay it with: ")]
    assert len(printed) == 1, lines
    words = shlex.split(printed[0].removeprefix("-- replay it with: "))
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(name, os.path.expandvars(value))
    assert words[:2] == ["smtpconsole", "run"]
    return cli.main(words[1:])


async def test_record_before_any_command_writes_nothing(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path, exports: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F7)
    await wait_for(lambda: any("nothing to record yet" in line for line in lines))
    assert await quit_console(task, pipe) == 0
    message = next(line for line in lines if "nothing to record yet" in line)
    assert message.startswith("!! record: nothing to record yet: no command was sent")
    assert "no file written" in message
    assert exported(exports, "scenario-*") == []


async def test_record_and_export_twice_keep_every_file(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path, exports: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 3)
    pipe.send_text(F7 + F7 + F5 + F5)
    await wait_for(lambda: sum("transcript written to" in line for line in lines) == 2)
    assert await quit_console(task, pipe) == 0
    assert sum("scenario written to" in line for line in lines) == 2
    assert len(exported(exports, "scenario-*.yaml")) == 2
    assert len(exported(exports, "transcript-*.txt")) == 2


async def test_record_after_reconnect_keeps_last_connection(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    exports: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("QUIT\r")
    await wait_for(lambda: console.session.closed)
    pipe.send_text(F8)
    await wait_for(lambda: replies(console).count(250) >= 4 and not console.session.closed)
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 5)
    pipe.send_text(F7)
    await wait_for(lambda: any("scenario written to" in line for line in lines))
    assert await quit_console(task, pipe) == 0

    [path] = exported(exports, "scenario-*.yaml")
    text = path.read_text()
    assert yaml.safe_load(text)["steps"] == [{"send": "NOOP", "expect": 250}]
    assert "# Note: only the last connection is recorded" in text
    assert any("1 step of 1 earlier connection left out" in line for line in lines)
    assert await asyncio.to_thread(replay_printed_command, lines, monkeypatch) == ExitCode.OK


async def test_record_prints_ca_file_and_replays(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    exports: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 3)
    pipe.send_text(F7)
    await wait_for(lambda: any("replay it with" in line for line in lines))
    assert await quit_console(task, pipe) == 0

    [path] = exported(exports, "scenario-*.yaml")
    expected = f"smtpconsole run {path} --ca-file {Path(server.ca_file).resolve()}"
    assert f"-- replay it with: {expected}" in lines
    assert path.read_text().startswith(
        f"# Recorded by smtpconsole. Replay: smtpconsole run THIS_FILE --ca-file {server.ca_file}"
    )
    monkeypatch.chdir(tmp_path)
    assert await asyncio.to_thread(replay_printed_command, lines, monkeypatch) == ExitCode.OK


async def test_record_after_unverified_choice_adds_insecure(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    exports: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_smtp_server()
    console, lines = create_console(untrusted_options(server), pipe, tmp_path)
    async with certificate_question(console, pipe, lines) as task:
        pipe.send_text("y\r")
        await wait_for(lambda: console.session.insecure and console.session.tls_info is not None)
        await wait_for(lambda: not console.session.dialogue.pending)
        pipe.send_text("NOOP\r")
        await wait_for(lambda: b"NOOP\r\n" in server.received)
        await wait_for(lambda: not console.session.dialogue.pending)
        pipe.send_text(F7)
        await wait_for(lambda: any("replay it with" in line for line in lines))
        pipe.send_text(CTRL_D)
        assert await asyncio.wait_for(task, 10) == 0

    command = next(line for line in lines if line.startswith("-- replay it with: "))
    assert command.endswith(" --insecure")
    [path] = exported(exports, "scenario-*.yaml")
    assert path.read_text().splitlines()[0].endswith("THIS_FILE --insecure")
    assert await asyncio.to_thread(replay_printed_command, lines, monkeypatch) == ExitCode.OK


async def test_record_in_unfinished_data_says_left_out(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path, exports: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("MAIL FROM:<a@example.com>\rRCPT TO:<b@example.com>\rDATA\r")
    await wait_for(lambda: 354 in replies(console))
    pipe.send_text("Subject: unfinished\r")
    await wait_for(lambda: console.session.dialogue.in_data)
    await asyncio.sleep(0.1)
    pipe.send_text(F7)
    await wait_for(lambda: any("scenario written to" in line for line in lines))
    pipe.send_text(".\r")
    await wait_for(lambda: replies(console).count(250) >= 5)
    assert await quit_console(task, pipe) == 0

    note = "the unfinished DATA message (1 line after 354, no final '.') left out"
    assert any(line.startswith(f"-- {note}") for line in lines), lines
    [path] = exported(exports, "scenario-*.yaml")
    text = path.read_text()
    assert f"# Note: {note}" in text
    assert "Subject: unfinished" not in text
    assert yaml.safe_load(text)["steps"][-1] == {"send": "RCPT TO:<b@example.com>", "expect": 250}
