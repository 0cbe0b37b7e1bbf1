"""Exit codes for a server that goes silent or drops the connection, and the one mapping."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smtpconsole.errors import ConnectFailed, ConnectionLost, ReadTimeout, TlsError, UsageError
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.runner import Runner
from smtpconsole.scenario import load_scenario
from smtpconsole.script import EventPrinter, ExitCode, StepFailed, exit_code_for
from tests.hostile_servers import close_mid_reply_script, serve, silent_script


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
        (UsageError("x"), ExitCode.USAGE),
        (RuntimeError("x"), ExitCode.FAILURE),
    ],
)
def test_exit_code_mapping(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for(error) == code
