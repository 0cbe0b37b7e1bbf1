"""Line-mode input the console must check or report: header addresses, bytes that are not UTF-8,
input that ends inside DATA, the password prompt and SASL-like words in the history."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.input import PipeInput

from smtpconsole.line.compose import InvalidHeaderAddress, envelope_of
from smtpconsole.line.plain import (
    UNFINISHED_MESSAGE_WARNING,
    run_plain,
    undecodable_byte_problem,
)
from smtpconsole.options import AuthOptions, ConsoleOptions
from tests.line.line_helpers import (
    F2,
    F3,
    make_console,
    options_for,
    pipe,
    quit_console,
    replies,
    run_console,
    use_editor,
    wait_for,
    write_editor,
)

__all__ = ["pipe"]


# F3: envelope addresses from the headers


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (b"From: a b c\nTo: b@example.com\n", "invalid From header 'a b c': contains a space"),
        (b"From: a@example.com\nTo: b@x.com c@y.com\n", "invalid To header 'b@x.com c@y.com'"),
        (b"From: a@example.com\nTo: b@x.com\nCc: Cy <c y>\n", "invalid Cc header 'Cy <c y>'"),
        (
            b"From: a@example.com\nTo: tester@mail.test, <broken@@x>\n",
            "invalid To address '<broken@@x>'",
        ),
        (b"From: a@example.com\nTo: b@x.com\nCc: c@@y.com\n", "invalid Cc address 'c@@y.com'"),
        (b"From: <a@@example.com>\nTo: b@x.com\n", "invalid From address '<a@@example.com>'"),
    ],
)
def test_envelope_rejects_invalid_header_address(headers: bytes, message: str) -> None:
    with pytest.raises(InvalidHeaderAddress) as raised:
        envelope_of(headers + b"\nbody\n")
    assert str(raised.value).startswith(message)
    assert "write addr@domain or 'Name <addr@domain>'" in str(raised.value)


def test_envelope_accepts_usual_header_forms() -> None:
    raw = (
        b"From: a@example.com (Ann)\n"
        b'To: "Bo, Jr." <b@example.com>, <c@example.com>\n'
        b"Cc: undisclosed-recipients:;\n\nbody\n"
    )
    envelope = envelope_of(raw)
    assert envelope.sender == "a@example.com"
    assert envelope.recipients == ("b@example.com", "c@example.com")


async def test_compose_invalid_from_sends_nothing(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_editor(monkeypatch, write_editor(tmp_path, "From: a b c\\nTo: b@example.com\\n\\nbody\\n"))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("!! compose:") for line in lines))
    assert await quit_console(task, pipe) == 0
    error = next(line for line in lines if line.startswith("!! compose:"))
    assert "invalid From header 'a b c'" in error
    assert error.endswith("; nothing sent")
    assert b"MAIL" not in server.received


async def test_compose_header_address_checked_as_send(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = "From: a@example.com\\nTo: tester@mail.test, <broken@@x>\\n\\nbody\\n"
    use_editor(monkeypatch, write_editor(tmp_path, message))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("!! compose:") for line in lines))
    assert await quit_console(task, pipe) == 0
    error = next(line for line in lines if line.startswith("!! compose:"))
    assert "invalid To address '<broken@@x>'" in error
    assert error.endswith("; nothing sent")
    assert b"MAIL" not in server.received
    assert b"broken" not in server.received


async def test_compose_without_recipient_names_headers(
    start_smtp_server: Any,
    pipe: PipeInput,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_editor(monkeypatch, write_editor(tmp_path, "From: a@example.com\\nSubject: x\\n\\nbody\\n"))
    server = start_smtp_server()
    console, lines = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    pipe.send_text(F3)
    await wait_for(lambda: any(line.startswith("-- compose: the message") for line in lines))
    assert await quit_console(task, pipe) == 0
    assert (
        "-- compose: the message has neither a To nor a Cc address for the envelope; nothing sent"
        in lines
    )


# Bytes that are not UTF-8


def test_undecodable_byte_named_with_position() -> None:
    line = b"NO\xffOP".decode("utf-8", errors="surrogateescape")
    problem = undecodable_byte_problem(line)
    assert problem is not None
    assert problem.startswith("byte 0xFF at byte 3 of the line is not valid UTF-8")
    assert "convert the input to UTF-8" in problem
    assert undecodable_byte_problem("NOOP é") is None


async def test_plain_mode_reports_byte_not_utf8(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    stdin = io.TextIOWrapper(
        io.BytesIO(b"NOOP \xff\nNOOP\n"), encoding="utf-8", errors="surrogateescape"
    )
    stdout = io.StringIO()
    assert await run_plain(options_for(server), stdin, stdout) == 0
    output = stdout.getvalue()
    assert "!! not sent: byte 0xFF at byte 6 of the line is not valid UTF-8" in output
    assert "surrogates not allowed" not in output
    assert server.received.count(b"NOOP") == 1


# Input that ends inside DATA


async def test_plain_mode_ending_in_data_warns_and_fails(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    stdin = io.StringIO(
        "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nDATA\nSubject: unfinished\n"
    )
    stdout = io.StringIO()
    assert await run_plain(options_for(server), stdin, stdout) == 1
    output = stdout.getvalue().splitlines()
    warning = output.index(UNFINISHED_MESSAGE_WARNING)
    assert output[warning + 1] == "-- connection closed: closed by the client"
    assert b"QUIT" not in server.received
    assert server.messages == []


# Password prompt and history


async def test_password_prompt_describes_asterisks(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, _ = make_console(server, pipe, tmp_path)
    console.options = ConsoleOptions(console.options.connect, AuthOptions(username=server.user))
    prompts: list[str] = []

    async def read_hidden(message: str) -> str:
        prompts.append(message)
        return str(server.password)

    console.read_hidden = read_hidden  # type: ignore[method-assign]
    task = await run_console(console, pipe)
    pipe.send_text(F2)
    await wait_for(lambda: 235 in replies(console))
    assert await quit_console(task, pipe) == 0
    assert prompts == ["Password (typed characters show as *): "]


async def test_password_after_refused_auth_not_in_history(
    start_smtp_server: Any, pipe: PipeInput, tmp_path: Path
) -> None:
    server = start_smtp_server()
    console, _ = make_console(server, pipe, tmp_path)
    task = await run_console(console, pipe)
    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
    typed_password = base64.b64encode(b"correct horse battery staple").decode()
    pipe.send_text(f"AUTH PLAIN {token}\r")
    await wait_for(lambda: 235 in replies(console))
    pipe.send_text("AUTH LOGIN\r")
    await wait_for(lambda: 503 in replies(console))
    pipe.send_text(typed_password + "\r")
    await wait_for(lambda: len(replies(console)) >= 7)
    pipe.send_text("NOOP\r")
    await wait_for(lambda: 250 in replies(console)[7:])
    assert await quit_console(task, pipe) == 0
    # The console sends every typed line, even one that looks like a password.
    assert f"\r\n{typed_password}\r\n".encode() in server.received
    history = (tmp_path / "history").read_text()
    assert typed_password not in history
    assert "+AUTH LOGIN" in history
    assert "+NOOP" in history
