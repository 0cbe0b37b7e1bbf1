"""`run` with lines typed as `send` steps: BDAT chunks, deferred expectations, a silent server
and a reply that does not parse."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.errors import MalformedReplyError, ReadTimeout
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.runner import Runner
from smtpconsole.scenario import load_scenario
from smtpconsole.script import EventPrinter, ExitCode, run_scenario
from tests.hostile_servers import ClientStream, Script, serve
from tests.session.chunking_server import start_chunking_server_fixture  # noqa: F401
from tests.session.test_session_recovery import bad_rcpt_reply_script

ENVELOPE = "steps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n"


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def plain_options(server: Any, read_timeout: float = 5.0) -> ConsoleOptions:
    connect = ConnectOptions(server.host, server.port, security="plain", read_timeout=read_timeout)
    return ConsoleOptions(connect=connect)


def test_typed_bdat_sends_chunk_lines(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = ENVELOPE + "  - send: BDAT 7 LAST\n    expect: 250\n  - send: hello\n"
    started = time.monotonic()

    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)

    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert time.monotonic() - started < 3.0
    assert [m.original_content for m in server.messages] == [b"hello\r\n"]
    assert server.handler.chunks == [(7, True)]
    assert out.index("C: hello") < out.index("S: 250 2.0.0 Message accepted")


def test_expect_on_bdat_line_checked_after_chunk(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = ENVELOPE + "  - send: BDAT 7 LAST\n    expect: 554\n  - send: hello\n"

    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)

    _, err = capsys.readouterr()
    assert code == ExitCode.EXPECTATION
    assert "step 3 (send): expected 554, got 250" in err
    assert "(the reply came after step 4)" in err


def test_expect_on_message_line_checked_at_end(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = ENVELOPE + (
        '  - send: DATA\n  - send: "Subject: x"\n    expect: 250\n  - send: ""\n  - send: "."\n'
    )

    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)

    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "not checked" not in err
    assert len(server.messages) == 1


def test_steps_ending_inside_chunk_fail(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = ENVELOPE + "  - send: BDAT 20 LAST\n  - send: hello\n"

    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)

    _, err = capsys.readouterr()
    assert code == ExitCode.DATA
    assert "the BDAT chunk is not finished: 13 octets are missing" in err
    assert b"QUIT" not in server.received
    assert server.messages == []


@pytest.mark.parametrize(
    ("unfinished", "command_step", "missing"),
    [
        ("  - send: BDAT 20 LAST\n  - send: hello\n", "  - quit:\n", "BDAT chunk"),
        ("  - send: BDAT 20 LAST\n  - send: hello\n", "  - mail: a@example.com\n", "BDAT"),
        ("  - send: DATA\n  - send: 'Subject: q'\n", "  - rcpt: c@example.com\n", "DATA got 354"),
    ],
)
def test_command_step_inside_unfinished_message_fails_unsent(
    start_chunking_server: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    unfinished: str,
    command_step: str,
    missing: str,
) -> None:
    server = start_chunking_server()
    scenario = ENVELOPE + unfinished + command_step

    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)

    _, err = capsys.readouterr()
    assert code == ExitCode.DATA
    assert missing in err
    assert "nothing was sent" in err
    received = bytes(server.received)
    assert b"QUIT" not in received
    assert b"c@example.com" not in received
    assert received.count(b"MAIL FROM") == 1
    assert server.messages == []


def silent_at_data_script() -> Script:
    """Reply to everything until DATA, then read on and never reply."""

    async def script(stream: ClientStream) -> None:
        await stream.send(b"220 hostile.test ESMTP\r\n")
        while line := await stream.read_line():
            command = line.rstrip(b"\r\n").upper()
            if command == b"DATA":
                while await stream.read_line():
                    pass
                return
            if command.startswith(b"EHLO"):
                await stream.send(b"250-hostile.test\r\n250 8BITMIME\r\n")
            else:
                await stream.send(b"250 ok\r\n")

    return script


async def test_timeout_closes_quickly_without_advice(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ENVELOPE + "  - data: {subject: x, body: hi}\n"), {})
    output = io.StringIO()
    async with serve(silent_at_data_script()) as server:
        runner = Runner(
            scenario, plain_options(server, read_timeout=3.0), EventPrinter(output, False)
        )
        started = time.monotonic()
        with pytest.raises(ReadTimeout):
            await runner.run()
        elapsed = time.monotonic() - started

    text = output.getvalue()
    # One read timeout of 3 s, then at most OVERDUE_QUIT_TIMEOUT_SECONDS for the QUIT.
    assert elapsed < 5.0
    assert "C: QUIT" in text
    assert "must be the last command of a group" not in text


async def test_malformed_reply_printed_after_its_line(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ENVELOPE), {})
    output = io.StringIO()
    async with serve(bad_rcpt_reply_script(b"25O bad\r\n")) as server:
        runner = Runner(scenario, plain_options(server), EventPrinter(output, False))
        with pytest.raises(MalformedReplyError):
            await runner.run()

    lines = output.getvalue().splitlines()
    bad = lines.index("S: 25O bad")
    assert lines[bad + 1].startswith("!! malformed reply: ")
