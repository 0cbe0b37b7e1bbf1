"""The line console against the real Postfix peer: STARTTLS on connect, F2 AUTH, F3 composer."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from smtpconsole.line.console import LineConsole
from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.transcript import ReplyReceived
from tests.line.line_helpers import CTRL_D, F2, F3, create_console

pytestmark = pytest.mark.postfix


def codes(console: LineConsole) -> list[int]:
    events = console.session.transcript.events
    return [event.reply.code for event in events if isinstance(event, ReplyReceived)]


async def wait_for(condition: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def postfix_options(postfix: Any, monkeypatch: pytest.MonkeyPatch) -> ConsoleOptions:
    """Console options for STARTTLS to Postfix, with F2 reading the password from $PEER_PASSWORD."""
    monkeypatch.setenv("PEER_PASSWORD", postfix.password)
    tls = TlsOptions(ca_file=str(postfix.ca_file), sni=postfix.tls_name)
    return ConsoleOptions(
        connect=ConnectOptions(postfix.host, postfix.starttls_port, tls=tls),
        auth=AuthOptions(username=postfix.user, password_env="PEER_PASSWORD"),
    )


async def authenticate_and_open_envelope(
    console: LineConsole, pipe: PipeInput, address: str
) -> None:
    """Wait for the second EHLO, authenticate with F2, then send MAIL FROM and RCPT TO."""
    await wait_for(lambda: codes(console).count(250) >= 2)
    pipe.send_text(F2)
    await wait_for(lambda: 235 in codes(console))
    pipe.send_text(f"MAIL FROM:<{address}>\r")
    pipe.send_text(f"RCPT TO:<{address}>\r")
    await wait_for(lambda: codes(console).count(250) >= 4)


def in_maildir(maildir: Path, marker: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(marker.encode() in path.read_bytes() for path in (maildir / "new").glob("*")):
            return True
        time.sleep(0.1)
    return False


async def test_line_console_delivers_to_postfix(
    postfix: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = uuid.uuid4().hex
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\nprintf "Subject: line {marker}\\n\\nhello\\n" > "$1"\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    options = postfix_options(postfix, monkeypatch)
    address = f"{postfix.user}@{postfix.tls_name}"
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        console, lines = create_console(options, pipe, tmp_path)
        task = asyncio.create_task(console.run())
        await authenticate_and_open_envelope(console, pipe, address)
        pipe.send_text(F3)
        await wait_for(lambda: any("queued as" in line for line in lines))
        pipe.send_text(CTRL_D)
        assert await asyncio.wait_for(task, 10) == 0
    assert in_maildir(postfix.maildir, marker)
    assert "C: AUTH PLAIN ********" in lines
    assert postfix.password not in (tmp_path / "history").read_text()


async def test_aborted_editor_sends_nothing_to_postfix(
    postfix: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vim's :cq quits with status 1 in the same way.
    monkeypatch.setenv("VISUAL", 'sh -c "exit 1"')
    options = postfix_options(postfix, monkeypatch)
    address = f"{postfix.user}@{postfix.tls_name}"
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        console, lines = create_console(options, pipe, tmp_path)
        task = asyncio.create_task(console.run())
        await authenticate_and_open_envelope(console, pipe, address)
        pipe.send_text(F3)
        await wait_for(lambda: any(line.startswith("-- compose:") for line in lines))
        pipe.send_text(CTRL_D)
        assert await asyncio.wait_for(task, 10) == 0
    assert any("the editor exited with status 1" in line for line in lines)
    assert "C: DATA" not in lines
    assert 354 not in codes(console)
