"""Helpers and the ``pipe`` fixture shared by the line-console tests.

This is a plain module, imported by name like the session helpers. Test modules import ``pipe``
and list it in ``__all__``, because a conftest.py here would replace the module ``conftest`` that
other test folders import helpers from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtpconsole.line.console import LineConsole
from smtpconsole.line.lesson import LessonGuide
from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.session import Session
from smtpconsole.transcript import ReplyReceived

# Escape sequences that an xterm-compatible terminal sends for these keys.
CTRL_D = "\x04"
F1 = "\x1bOP"
F2 = "\x1bOQ"
F3 = "\x1bOR"
F5 = "\x1b[15~"
F6 = "\x1b[17~"
F7 = "\x1b[18~"
F8 = "\x1b[19~"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


def options_for(server: Any, *, username: str | None = None) -> ConsoleOptions:
    """Console options that trust the test CA, and authenticate as ``username`` when it is given."""
    tls = TlsOptions(ca_file=str(server.ca_file))
    connect = ConnectOptions(server.host, server.port, tls=tls)
    if username is None:
        return ConsoleOptions(connect=connect)
    return ConsoleOptions(connect=connect, auth=AuthOptions(username=username))


def untrusted_options(server: Any) -> ConsoleOptions:
    """Console options with no CA file, so the system store rejects the test certificate."""
    return ConsoleOptions(connect=ConnectOptions(server.host, server.port))


def create_console(
    options: ConsoleOptions, pipe: PipeInput, tmp_path: Path, *, lesson: LessonGuide | None = None
) -> tuple[LineConsole, list[str]]:
    """Build a console on ``pipe`` with its history in ``tmp_path``, and return it with its output lines."""
    lines: list[str] = []
    console = LineConsole(
        options,
        Session(options.connect),
        history_path=tmp_path / "history",
        input=pipe,
        output=DummyOutput(),
        write=lines.append,
        lesson=lesson,
    )
    return console, lines


def make_console(server: Any, pipe: PipeInput, tmp_path: Path) -> tuple[LineConsole, list[str]]:
    """Build a console for ``server`` that trusts the test CA and does not authenticate."""
    return create_console(options_for(server), pipe, tmp_path)


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def replies(console: LineConsole) -> list[int]:
    return [e.reply.code for e in console.session.transcript.events if isinstance(e, ReplyReceived)]


async def run_console(console: LineConsole, pipe: PipeInput) -> asyncio.Task[int]:
    """Start the console and return its task once the reply to the second EHLO has arrived."""
    with create_app_session(input=pipe, output=DummyOutput()):
        task = asyncio.create_task(console.run())
        await wait_for(lambda: len(replies(console)) >= 4)  # greeting, EHLO, 220, EHLO
        return task


@asynccontextmanager
async def running_console(
    console: LineConsole, pipe: PipeInput, ready: Callable[[], bool], *, timeout: float = 5.0
) -> AsyncIterator[asyncio.Task[int]]:
    """Start the console and yield its task once ``ready()`` holds.

    The console keeps running in the app session until the ``async with`` block ends.
    """
    with create_app_session(input=pipe, output=DummyOutput()):
        task = asyncio.create_task(console.run())
        await wait_for(ready, timeout)
        yield task


def certificate_question(
    console: LineConsole, pipe: PipeInput, lines: list[str]
) -> AbstractAsyncContextManager[asyncio.Task[int]]:
    """Run the console until it prompts the user to continue without certificate verification."""
    return running_console(
        console, pipe, lambda: any("could not be verified" in line for line in lines)
    )


async def quit_console(task: asyncio.Task[int], pipe: PipeInput) -> int:
    """Press Ctrl-D and return the console's exit status."""
    pipe.send_text(CTRL_D)
    return await asyncio.wait_for(task, 5)


async def open_transaction(console: LineConsole, pipe: PipeInput) -> None:
    pipe.send_text("MAIL FROM:<a@example.com>\r")
    pipe.send_text("RCPT TO:<b@example.com>\r")
    await wait_for(lambda: replies(console).count(250) >= 4)


def use_editor(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", command)


def write_editor(tmp_path: Path, text: str) -> str:
    """Return an editor command that replaces the file with ``text`` (printf escapes allowed)."""
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\ntouch "{tmp_path}/editor-ran"\nprintf "{text}" > "$1"\n')
    editor.chmod(0o755)
    return str(editor)
