"""Failures of ``send``: slow servers, missing credentials, and what the transcript shows."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import io
import json
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest

from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.script import ExitCode
from smtpconsole.sending import SendRequest, send

from .servers import PipeliningHandler


@dataclass
class SlowDataHandler(PipeliningHandler):
    """Replies to the end of DATA only after ``delay`` seconds."""

    delay: float = 2.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def options_for(server: Any, read_timeout: float = 10.0) -> ConsoleOptions:
    tls = TlsOptions(ca_file=str(server.ca_file))
    connect = ConnectOptions(server.host, server.port, tls=tls, read_timeout=read_timeout)
    return ConsoleOptions(connect=connect)


def test_slow_end_of_data_leaves_no_orphan_task(
    start_smtp_server: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_smtp_server(handler=SlowDataHandler())
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        code = send(options_for(server, 0.5), SendRequest("a@example.com", ("b@example.com",)))
        gc.collect()
    out, err = capsys.readouterr()
    assert code == ExitCode.TIMEOUT
    assert "never retrieved" not in caplog.text
    assert "never retrieved" not in err
    assert "must be the last command of a group" not in out
    assert out.count("C: QUIT") == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_user_without_password_prompts_on_terminal(
    start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return str(server.password)

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    options = options_for(server)
    options = dataclasses.replace(options, auth=AuthOptions(username=server.user))
    code = send(options, SendRequest("a@example.com", ("b@example.com",)))
    _, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert prompts == [f"Password for {server.user}: "]
    assert len(server.messages) == 1


def test_user_without_password_fails_before_connecting(
    start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    options = dataclasses.replace(options_for(server), auth=AuthOptions(username=server.user))
    code = send(options, SendRequest("a@example.com", ("b@example.com",)))
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    assert "--password-env" in err
    assert "step" not in err


def test_slow_password_command_runs_before_connecting(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    command = (sys.executable, "-c", "import time; time.sleep(1); print('wrong')")
    auth = AuthOptions(username=server.user, password_command=command)
    options = dataclasses.replace(options_for(server), auth=auth)
    started = time.time()
    code = send(options, SendRequest("a@example.com", ("b@example.com",), json_output=True))
    out, _ = capsys.readouterr()
    assert code == ExitCode.AUTH
    first_event = json.loads(out.splitlines()[0])
    assert first_event["at"] - started >= 1.0
    assert server.messages == []


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"mail_from": "a@example.com\r\nRSET"}, "invalid --from 'a@example.com\\r\\nRSET': contains CR"),
        ({"to": ("b@example.com\n",)}, "invalid --to 'b@example.com\\n': contains LF"),
        ({"to": ("b c@example.com",)}, "invalid --to 'b c@example.com': contains a space"),
        ({"attachments": ("/nonexistent/file.pdf",)}, "--attach /nonexistent/file.pdf: not found"),
        ({"data_file": "/nonexistent/message.eml"}, "--data-file /nonexistent/message.eml: not found"),
        ({"body_file": "/nonexistent/body.txt"}, "--body-file /nonexistent/body.txt: not found"),
        ({"headers": (("X-Test", "1\r\nBcc: x@example.com"),)}, "invalid --header X-Test"),
        ({"headers": (("Bad Name", "1"),)}, "invalid --header name 'Bad Name'"),
    ],
)  # fmt: skip
def test_invalid_send_arguments_fail_before_connecting(
    start_smtp_server: Any,
    capsys: pytest.CaptureFixture[str],
    request_fields: dict[str, Any],
    message: str,
) -> None:
    server = start_smtp_server()
    fields: dict[str, Any] = {"mail_from": "a@example.com", "to": ("b@example.com",)}
    fields.update(request_fields)
    code = send(options_for(server), SendRequest(**fields))
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    assert message in err
    assert err.count("invalid") <= 1
    assert bytes(server.received) == b""


def test_display_names_in_from_and_to(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    request = SendRequest("Tester <a@example.com>", ("Friend <b@example.com>",))
    code = send(options_for(server), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: MAIL FROM:<a@example.com>" in out
    assert "C: RCPT TO:<b@example.com>" in out
    assert b"From: Tester <a@example.com>" in server.messages[0].content
    assert b"To: Friend <b@example.com>" in server.messages[0].content


def test_send_transcript_leaves_out_console_advice(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code = send(options_for(server), SendRequest("a@example.com", ("b@example.com",)))
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "-- info:" not in out
    assert "Type the message" not in out
    assert "Send MAIL FROM for another message" not in out
    assert "C: QUIT" in out


def test_send_transcript_keeps_warnings(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(handler=PipeliningHandler())
    request = SendRequest("a@example.com", ("nobody@example.com",))
    code = send(options_for(server), request)
    out, _ = capsys.readouterr()
    assert code == ExitCode.ENVELOPE
    assert "-- warning:" in out or "-- error:" in out
