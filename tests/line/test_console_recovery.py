"""The line console when things go wrong: aborted editors, closed connections, empty passwords."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import PipeInput

from smtpconsole.line.console import prompt_text
from smtpconsole.transcript import ConnectionClosed
from tests.line.line_helpers import (
    F2,
    F3,
    F5,
    F6,
    F8,
    certificate_question,
    create_console,
    make_console,
    open_transaction,
    options_for,
    pipe,
    quit_console,
    replies,
    run_console,
    untrusted_options,
    use_editor,
    wait_for,
    write_editor,
)

__all__ = ["pipe"]


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
    options = options_for(server, username=server.user)
    console, lines = create_console(options, pipe, tmp_path)
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
    console, lines = create_console(untrusted_options(server), pipe, tmp_path)
    async with certificate_question(console, pipe, lines) as task:
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
