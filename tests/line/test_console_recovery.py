"""The line console when things go wrong: aborted editors, closed connections, empty passwords."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput
from prompt_toolkit.output import DummyOutput

from smtpconsole.line.console import LineConsole, prompt_text
from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions
from smtpconsole.session import Session
from smtpconsole.transcript import ConnectionClosed
from tests.line.test_console import (
    CTRL_D,
    F2,
    F3,
    make_console,
    options_for,
    pipe,
    replies,
    run_console,
    wait_for,
)

F5 = "\x1b[15~"
F6 = "\x1b[17~"
F8 = "\x1b[19~"

__all__ = ["pipe"]


def use_editor(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command)


def write_editor(tmp_path: Path, text: str) -> str:
    """Return an editor command that replaces the file with ``text`` (printf escapes allowed)."""
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\ntouch "{tmp_path}/editor-ran"\nprintf "{text}" > "$1"\n')
    editor.chmod(0o755)
    return str(editor)


async def open_transaction(console: LineConsole, pipe: PipeInput) -> None:
    pipe.send_text("MAIL FROM:<a@example.com>\r")
    pipe.send_text("RCPT TO:<b@example.com>\r")
    await wait_for(lambda: replies(console).count(250) >= 4)


async def quit_console(task: asyncio.Task[int], pipe: PipeInput) -> int:
    pipe.send_text(CTRL_D)
    return await asyncio.wait_for(task, 5)


@pytest.mark.parametrize(
    ("editor", "note"),
    [
        ('sh -c "exit 1"', "the editor exited with status 1"),
        ("true", "left unchanged or empty"),
        ("/nonexistent/editor", "editor '/nonexistent/editor' not found (from $EDITOR)"),
    ],
)
async def test_compose_cancelled_sends_nothing(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    editor: str,
    note: str,
) -> None:
    use_editor(monkeypatch, editor)
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    await open_transaction(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("-- compose:") for line in lines))
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 5)
    assert await quit_console(task, pipe) == 0
    assert any(note in line and line.endswith("nothing sent") for line in lines)
    assert b"DATA" not in server.received
    assert server.messages == []


async def test_compose_missing_editor_names_fallback(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    await open_transaction(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("-- compose:") for line in lines))
    assert await quit_console(task, pipe) == 0
    note = next(line for line in lines if line.startswith("-- compose:"))
    assert "'vi' not found" in note
    assert "$VISUAL and $EDITOR are unset" in note
    assert "Errno" not in note


async def test_compose_takes_envelope_from_headers(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = (
        "From: Ann <a@example.com>\\nTo: b@example.com, Cy <c@example.com>\\n"
        "Subject: composed\\n\\nbare\\rcarriage\\n.dot first\\nlast"
    )
    use_editor(monkeypatch, write_editor(tmp_path, message))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: len(server.messages) == 1)
    assert await quit_console(task, pipe) == 0
    envelope = server.messages[0]
    assert envelope.mail_from == "a@example.com"
    assert envelope.rcpt_tos == ["b@example.com", "c@example.com"]
    assert envelope.content.endswith(b"\r\n\r\nbare\r\ncarriage\r\n.dot first\r\nlast\r\n")
    assert b"\r\n..dot first\r\n" in server.received
    assert "C: MAIL FROM:<a@example.com>" in lines
    assert "C: DATA" in lines


async def test_compose_blocked_without_recipient(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_editor(monkeypatch, write_editor(tmp_path, "Subject: x\\n\\nbody\\n"))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("MAIL FROM:<a@example.com>\r")
    await wait_for(lambda: replies(console).count(250) >= 3)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("-- compose:") for line in lines))
    assert await quit_console(task, pipe) == 0
    assert any("type RCPT TO:<address> first" in line for line in lines)
    assert not (tmp_path / "editor-ran").exists()
    assert b"DATA" not in server.received


async def test_closed_connection_keeps_console_usable(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("QUIT\r")
    await wait_for(lambda: console.session.closed)
    assert prompt_text(console.session) == "[CLOSED] smtp> "
    for _ in range(2):
        pipe.send_text(F5)
        pipe.send_text(F6)
    await wait_for(lambda: sum("-- next:" in line for line in lines) == 2)
    assert sum("transcript written to" in line for line in lines) == 2
    assert "-- not connected: press F8 to reconnect, or Ctrl-D to exit" in lines

    pipe.send_text("NOOP\r")
    await wait_for(lambda: any(line.startswith("!! not sent: not connected") for line in lines))
    assert not task.done()

    pipe.send_text(F8)
    await wait_for(lambda: replies(console).count(250) >= 4 and not console.session.closed)
    assert prompt_text(console.session).startswith("[READY tls")
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 5)
    assert await quit_console(task, pipe) == 0
    assert server.received.count(b"NOOP\r\n") == 1
    assert "-- reconnecting to " + console.session.address in lines


async def test_idle_close_keeps_console(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server(timeout=1.0)
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    # aiosmtpd closes an idle connection without a reply.
    await wait_for(lambda: console.session.closed)
    pipe.send_text(F6)
    await wait_for(lambda: any(line.startswith("-- 250") for line in lines))
    pipe.send_text("NOOP\r")
    await wait_for(lambda: any(line.startswith("!! not sent: not connected") for line in lines))
    assert not task.done()
    assert await quit_console(task, pipe) == 0
    closed = [e for e in console.session.transcript.events if isinstance(e, ConnectionClosed)]
    assert len(closed) == 1


async def test_auth_key_empty_password_sends_nothing(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    lines: list[str] = []
    base = options_for(server)
    options = ConsoleOptions(connect=base.connect, auth=AuthOptions(username=server.user))
    console = LineConsole(
        options,
        Session(options.connect),
        history_path=tmp_path / "history",
        input=pipe,
        output=DummyOutput(),
        write=lines.append,
    )
    task = await run_console(console, pipe)
    pipe.send_text(F2)
    await asyncio.sleep(0.2)
    pipe.send_text("\r")
    await wait_for(lambda: "-- auth: no password entered; nothing sent" in lines)
    assert await quit_console(task, pipe) == 0
    assert b"AUTH" not in server.received


async def test_ctrl_d_in_data_warns(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    await open_transaction(console, pipe)
    pipe.send_text("DATA\r")
    await wait_for(lambda: 354 in replies(console))
    pipe.send_text("Subject: unfinished\r")
    await wait_for(lambda: b"Subject: unfinished\r\n" in server.received)
    assert await quit_console(task, pipe) == 0
    warning = next(index for index, line in enumerate(lines) if "not finished" in line)
    assert "the server discards it" in lines[warning]
    assert lines[warning + 1] == "-- connection closed: closed by the client"
    assert b"QUIT" not in server.received
    assert server.messages == []


async def test_tls_failure_printed_once(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    lines: list[str] = []
    # No CA file: the system store does not trust the test CA.
    options = ConsoleOptions(connect=ConnectOptions(server.host, server.port))
    console = LineConsole(
        options,
        Session(options.connect),
        history_path=tmp_path / "history",
        input=pipe,
        output=DummyOutput(),
        write=lines.append,
    )
    with create_app_session(input=pipe, output=DummyOutput()):
        task = asyncio.create_task(console.run())
        await wait_for(lambda: any("could not be verified" in line for line in lines))
        pipe.send_text("\r")
        assert await asyncio.wait_for(task, 10) == 1
    failures = [line for line in lines if line.startswith("!!") and "verification failed" in line]
    assert len(failures) == 1
    assert failures[0].startswith("!! TLS failed")


async def test_unknown_verb_advice_keeps_case(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("k\r")
    await wait_for(lambda: any(line.startswith("S: 5") for line in lines))
    assert await quit_console(task, pipe) == 0
    assert any("k is not a standard SMTP command" in line for line in lines)
    assert not any("K is not a standard" in line for line in lines)
