"""Exit codes for a server that goes silent or drops the connection, and the one mapping."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smtpconsole.errors import (
    ConnectFailed,
    ConnectionLost,
    MalformedReplyError,
    ReadTimeout,
    TlsError,
    UsageError,
)
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.runner import Runner
from smtpconsole.scenario import load_scenario
from smtpconsole.script import EventPrinter, ExitCode, StepFailed, exit_code_for, report_error
from tests.hostile_servers import (
    ClientStream,
    Script,
    close_mid_reply_script,
    serve,
    silent_script,
)


def scenario_file(tmp_path: Path) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text("manual: true\nsteps:\n  - send: EHLO client.test\n")
    return str(path)


async def run_against(port: int, tmp_path: Path) -> BaseException:
    connect = ConnectOptions("127.0.0.1", port, security="plain", manual=True, read_timeout=0.5)
    printer = EventPrinter(io.StringIO(), json_output=False)
    runner = Runner(load_scenario(scenario_file(tmp_path), {}), ConsoleOptions(connect), printer)
    with pytest.raises(Exception) as caught:
        await runner.run()
    return caught.value


async def test_silent_server_is_timeout(tmp_path: Path) -> None:
    async with serve(silent_script()) as server:
        error = await run_against(server.port, tmp_path)
    assert isinstance(error, ReadTimeout)
    assert exit_code_for(error) == ExitCode.TIMEOUT == 9


async def test_close_mid_reply_is_connection_lost(tmp_path: Path) -> None:
    async with serve(close_mid_reply_script(b"250-partial\r\n")) as server:
        error = await run_against(server.port, tmp_path)
    assert exit_code_for(error) == ExitCode.CONNECTION_LOST == 10


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StepFailed("x", ExitCode.ENVELOPE), ExitCode.ENVELOPE),
        (ConnectFailed("x"), ExitCode.CONNECT),
        (TlsError("x"), ExitCode.TLS),
        (ReadTimeout("x"), ExitCode.TIMEOUT),
        (ConnectionLost("x"), ExitCode.CONNECTION_LOST),
        (RemoteProtocolError("x"), ExitCode.CONNECTION_LOST),
        (MalformedReplyError("x"), ExitCode.CONNECTION_LOST),
        (UsageError("x"), ExitCode.USAGE),
        (RuntimeError("x"), ExitCode.FAILURE),
    ],
)
def test_exit_code_mapping(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for(error) == code


async def test_silent_greeting_sends_nothing(tmp_path: Path) -> None:
    import time

    async with serve(silent_script(greet=False)) as server:
        connect = ConnectOptions("127.0.0.1", server.port, security="starttls", read_timeout=0.5)
        printer = EventPrinter(io.StringIO(), json_output=False)
        scenario = load_scenario(scenario_file(tmp_path), {})
        runner = Runner(scenario, ConsoleOptions(connect), printer)
        started = time.monotonic()
        with pytest.raises(ReadTimeout) as caught:
            await runner.run()
        elapsed = time.monotonic() - started
    assert bytes(server.received) == b""
    assert "no greeting" in caught.value.message
    assert "--tls" in (caught.value.hint or "")
    assert elapsed < 0.9


def test_report_error_says_invalid_once() -> None:
    from smtpconsole.protocol.errors import LocalProtocolError
    from smtpconsole.script import report_error

    stream = io.StringIO()
    error = LocalProtocolError("invalid From: contains CR", field="From", value="a\r")
    assert report_error(error, stream) == ExitCode.USAGE
    assert "smtpconsole: error: invalid From: contains CR\n" in stream.getvalue()
    stream = io.StringIO()
    report_error(LocalProtocolError("contains LF", field="password", value="x"), stream)
    assert "error: invalid password: contains LF\n" in stream.getvalue()


def malformed_reply_script(greeting: bytes, ehlo_reply: bytes) -> Script:
    """Greet with ``greeting``, reply ``ehlo_reply`` to the first line, then 250 to each line."""

    async def script(stream: ClientStream) -> None:
        await stream.send(greeting)
        await stream.read_line()
        await stream.send(ehlo_reply)
        while await stream.read_line():
            await stream.send(b"250 ok\r\n")

    return script


@pytest.mark.parametrize(
    ("greeting", "ehlo_reply", "quoted"),
    [
        (b"HELLO THERE\r\n", b"250 ok\r\n", "'HELLO THERE'"),
        (b"220 hostile.test\r\n", b"250-x\r\n251 y\r\n", "'250-x\\r\\n251 y'"),
    ],
)
@pytest.mark.parametrize("one_shot", [False, True])
async def test_malformed_reply_is_connection_lost_at_once(
    tmp_path: Path, greeting: bytes, ehlo_reply: bytes, quoted: str, one_shot: bool
) -> None:
    import time

    async with serve(malformed_reply_script(greeting, ehlo_reply)) as server:
        connect = ConnectOptions("127.0.0.1", server.port, security="plain", read_timeout=5.0)
        printer = EventPrinter(io.StringIO(), json_output=False)
        scenario = load_scenario(scenario_file(tmp_path), {})
        runner = Runner(scenario, ConsoleOptions(connect), printer, one_shot=one_shot)
        started = time.monotonic()
        with pytest.raises(MalformedReplyError) as caught:
            await runner.run()
        elapsed = time.monotonic() - started

    stream = io.StringIO()
    assert report_error(caught.value, stream) == ExitCode.CONNECTION_LOST == 10
    assert elapsed < 2.0
    assert "sent a reply that does not parse" in stream.getvalue()
    assert quoted in stream.getvalue()
    assert "hint: the server does not follow the reply format" in stream.getvalue()
    assert b"QUIT" not in bytes(server.received)
