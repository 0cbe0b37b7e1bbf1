"""The line console on a pipe input: typed lines go out verbatim, keys run actions, Ctrl-D quits."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtpconsole.line.console import LineConsole, prompt_text
from smtpconsole.line.plain import run_plain
from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.session import Session
from smtpconsole.transcript import ReplyReceived

CTRL_D = "\x04"
F1 = "\x1bOP"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def options_for(server: Any) -> ConsoleOptions:
    tls = TlsOptions(ca_file=str(server.ca_file))
    return ConsoleOptions(connect=ConnectOptions(server.host, server.port, tls=tls))


def make_console(server: Any, pipe: PipeInput, tmp_path: Path) -> tuple[LineConsole, list[str]]:
    lines: list[str] = []
    console = LineConsole(
        options_for(server),
        Session(options_for(server).connect),
        history_path=tmp_path / "history",
        input=pipe,
        output=DummyOutput(),
        write=lines.append,
    )
    return console, lines


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def replies(console: LineConsole) -> list[int]:
    return [e.reply.code for e in console.session.transcript.events if isinstance(e, ReplyReceived)]


async def run_console(console: LineConsole, pipe: PipeInput) -> asyncio.Task[int]:
    with create_app_session(input=pipe, output=DummyOutput()):
        task = asyncio.create_task(console.run())
        await wait_for(lambda: len(replies(console)) >= 4)  # greeting, EHLO, 220, EHLO
        return task


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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
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


F2 = "\x1bOQ"
F7 = "\x1b[18~"


async def test_auth_key_reads_password_hidden_and_authenticates(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    lines: list[str] = []
    options = options_for(server)
    options = ConsoleOptions(connect=options.connect, auth=AuthOptions(username=server.user))
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
    pipe.send_text(server.password + "\r")
    await wait_for(lambda: 235 in replies(console))
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
    written = list((tmp_path / "data" / "smtpconsole" / "exports").glob("scenario-*.yaml"))
    assert len(written) == 1
    assert "- send: NOOP\n  expect: 250\n" in written[0].read_text()


F3 = "\x1bOR"


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
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
    assert server.messages[0].content == b"Subject: composed\r\n\r\n.dot first\r\nbody\r\n"
    assert "C: DATA" in lines


async def test_unverified_certificate_needs_explicit_yes(
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
    lines: list[str] = []
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
    assert b"MAIL" not in server.received


async def test_auth_key_completes_typed_auth_login(
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
    pipe.send_text("AUTH LOGIN\r")
    await wait_for(lambda: 334 in replies(console))
    assert any(line.startswith("-- F2 responds") for line in lines)
    pipe.send_text(F2)
    await asyncio.sleep(0.2)
    pipe.send_text(server.password + "\r")
    await wait_for(lambda: 235 in replies(console))
    pipe.send_text(CTRL_D)
    assert await asyncio.wait_for(task, 5) == 0
    assert lines.count("C: ********") == 2
    assert not any(server.password in line for line in lines)
