"""The line console on a pipe input: typed lines go out verbatim, keys run actions, Ctrl-D quits."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput

from smtpconsole.line.console import prompt_text
from smtpconsole.line.plain import run_plain
from tests.line.line_helpers import (
    CTRL_D,
    F1,
    F2,
    F3,
    F7,
    certificate_question,
    create_console,
    make_console,
    options_for,
    pipe,
    quit_console,
    replies,
    run_console,
    untrusted_options,
    wait_for,
)

__all__ = ["pipe"]


async def test_typed_line_goes_out_verbatim(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("MAIL FROM:<a@example.com>\r")
    pipe.send_text("RCPT TO:<x@example.com>\r")
    pipe.send_text("rcpt  TO:<y@example.com>   \r")
    await wait_for(lambda: len(replies(console)) >= 7)
    assert await quit_console(task, pipe) == 0
    assert b"\r\nRCPT TO:<x@example.com>\r\n" in server.received
    assert b"\r\nrcpt  TO:<y@example.com>   \r\n" in server.received
    assert b"QUIT\r\n" in server.received
    assert "C: RCPT TO:<x@example.com>" in lines
    assert any(line.startswith("S: 221") for line in lines)


async def test_completion_offers_auth_mechanisms_from_ehlo(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, _ = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    completer = console.prompt.completer
    assert completer is not None
    found = completer.get_completions(Document("AUTH "), CompleteEvent(completion_requested=True))
    assert [completion.text for completion in found] == ["LOGIN", "PLAIN"]

    # Tab completes in the prompt itself, and the completed line is what is sent.
    pipe.send_text("AUTH PL\t")
    await wait_for(lambda: console.prompt.default_buffer.text == "AUTH PLAIN")
    pipe.send_text("\r")
    await wait_for(lambda: 334 in replies(console))
    pipe.send_text("*\r")
    await wait_for(lambda: 501 in replies(console))
    assert await quit_console(task, pipe) == 0
    assert b"\r\nAUTH PLAIN\r\n" in server.received


async def test_history_file_holds_no_secret(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    token = "AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU="
    pipe.send_text("AUTH LOGIN\r")
    await wait_for(lambda: replies(console).count(334) == 1)
    pipe.send_text("YWxpY2U=\r")
    await wait_for(lambda: replies(console).count(334) == 2)
    pipe.send_text("Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==\r")
    await wait_for(lambda: 235 in replies(console))
    pipe.send_text(f"AUTH PLAIN {token}\r")
    await wait_for(lambda: 503 in replies(console))
    assert await quit_console(task, pipe) == 0
    history = (tmp_path / "history").read_text()
    assert "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==" not in history
    assert "YWxpY2U=" not in history
    assert token not in history
    assert "+AUTH PLAIN ********" in history
    assert "+AUTH LOGIN" in history
    assert not any("Y29ycmVjdCBob3Jz" in line for line in lines)


async def test_help_key_prints_keys_and_sends_nothing(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    sent_before = bytes(server.received)
    pipe.send_text("NOO" + F1)
    await wait_for(lambda: any("F7" in line for line in lines))
    assert bytes(server.received) == sent_before
    pipe.send_text("P\r")
    await wait_for(lambda: replies(console).count(250) >= 3)
    assert await quit_console(task, pipe) == 0
    assert b"\r\nNOOP\r\n" in server.received


async def test_plain_mode_reads_lines_and_waits_for_replies(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    stdin = io.StringIO(
        "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nDATA\nSubject: piped\n\n.hi\n.\n"
    )
    stdout = io.StringIO()
    assert await run_plain(options_for(server), stdin, stdout) == 0
    assert server.messages[0].content == b"Subject: piped\r\n\r\nhi\r\n"
    assert "S: 221" in stdout.getvalue()


async def test_auth_key_reads_password_hidden_and_authenticates(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    options = options_for(server, username=server.user)
    console, lines = create_console(options, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F2)
    await asyncio.sleep(0.2)
    pipe.send_text(server.password + "\r")
    await wait_for(lambda: 235 in replies(console))
    assert await quit_console(task, pipe) == 0
    assert "C: AUTH PLAIN ********" in lines
    assert not any(server.password in line for line in lines)
    assert server.password not in (tmp_path / "history").read_text()


async def test_record_key_writes_replayable_scenario(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("NOOP\r")
    await wait_for(lambda: replies(console).count(250) >= 3)
    pipe.send_text(F7)
    await wait_for(lambda: any("scenario written to" in line for line in lines))
    assert await quit_console(task, pipe) == 0
    written = list((tmp_path / "data" / "smtpconsole" / "exports").glob("scenario-*.yaml"))
    assert len(written) == 1
    assert "- send: NOOP\n  expect: 250\n" in written[0].read_text()


async def test_compose_key_sends_message_from_editor(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Subject: composed\\n\\n.dot first\\nbody\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("MAIL FROM:<a@example.com>\r")
    pipe.send_text("RCPT TO:<b@example.com>\r")
    await wait_for(lambda: replies(console).count(250) >= 4)
    pipe.send_text(F3)
    await wait_for(lambda: len(server.messages) == 1)
    assert await quit_console(task, pipe) == 0
    assert server.messages[0].content == b"Subject: composed\r\n\r\n.dot first\r\nbody\r\n"
    assert "C: DATA" in lines


async def test_unverified_certificate_needs_explicit_yes(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = create_console(untrusted_options(server), pipe, tmp_path)
    async with certificate_question(console, pipe, lines) as task:
        pipe.send_text("y\r")
        await wait_for(lambda: console.session.insecure and console.session.tls_info is not None)
        assert "UNVERIFIED" in prompt_text(console.session)
        pipe.send_text("NOOP\r")
        await wait_for(lambda: b"NOOP\r\n" in server.received)
        pipe.send_text(CTRL_D)
        assert await asyncio.wait_for(task, 10) == 0
    assert any(line.startswith("!! TLS failed") for line in lines)


async def test_unverified_certificate_refused_by_default(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, lines = create_console(untrusted_options(server), pipe, tmp_path)
    async with certificate_question(console, pipe, lines) as task:
        pipe.send_text("\r")
        assert await asyncio.wait_for(task, 10) == 1
    assert b"MAIL" not in server.received


async def test_auth_key_completes_typed_auth_login(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    options = options_for(server, username=server.user)
    console, lines = create_console(options, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text("AUTH LOGIN\r")
    await wait_for(lambda: 334 in replies(console))
    assert any(line.startswith("-- F2 responds") for line in lines)
    pipe.send_text(F2)
    await asyncio.sleep(0.2)
    pipe.send_text(server.password + "\r")
    await wait_for(lambda: 235 in replies(console))
    assert await quit_console(task, pipe) == 0
    assert lines.count("C: ********") == 2
    assert not any(server.password in line for line in lines)
