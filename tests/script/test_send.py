"""``smtpconsole send`` against aiosmtpd: pipelined or not, with an attachment, raw data files."""

from __future__ import annotations

import email
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.script import ExitCode
from smtpconsole.sending import SendRequest, send

from .servers import PipeliningHandler


def options_for(server: Any, *, user: str | None = None) -> ConsoleOptions:
    tls = TlsOptions(ca_file=str(server.ca_file))
    auth = AuthOptions(username=user, password_env="TEST_SMTP_PASSWORD" if user else None)
    return ConsoleOptions(connect=ConnectOptions(server.host, server.port, tls=tls), auth=auth)


def client_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("C: ", "S: "))]


def test_send_pipelines_when_offered(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(handler=PipeliningHandler())
    request = SendRequest("a@example.com", ("b@example.com", "c@example.com"), subject="Piped")
    code = send(options_for(server), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    lines = client_lines(out)
    start = lines.index(next(line for line in lines if line.startswith("C: MAIL FROM")))
    assert lines[start : start + 4] == [
        lines[start],
        "C: RCPT TO:<b@example.com>",
        "C: RCPT TO:<c@example.com>",
        "C: DATA",
    ]
    assert lines[start + 4].startswith("S: 250")
    assert server.messages[0].rcpt_tos == ["b@example.com", "c@example.com"]


def test_send_waits_for_each_reply_without_pipelining(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    code = send(options_for(server), SendRequest("a@example.com", ("b@example.com",)))
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    lines = client_lines(out)
    mail = lines.index(next(line for line in lines if line.startswith("C: MAIL FROM")))
    assert lines[mail + 1].startswith("S: 250")
    assert lines[mail + 2] == "C: RCPT TO:<b@example.com>"
    assert len(server.messages) == 1


def test_no_pipelining_option_waits_even_when_offered(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(handler=PipeliningHandler())
    request = SendRequest("a@example.com", ("b@example.com",), pipelining=False)
    assert send(options_for(server), request) == ExitCode.OK
    lines = client_lines(capsys.readouterr().out)
    mail = lines.index(next(line for line in lines if line.startswith("C: MAIL FROM")))
    assert lines[mail + 1].startswith("S: 250")


def test_send_with_attachment_and_auth(
    start_smtp_server: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct horse battery staple")
    server = start_smtp_server(handler=PipeliningHandler())
    attachment = tmp_path / "report.bin"
    attachment.write_bytes(bytes(range(256)) * 40)
    request = SendRequest(
        "alice@example.com",
        ("bob@example.com",),
        subject="With attachment",
        body="See the file.",
        attachments=(str(attachment),),
        headers=(("X-Test", "1"),),
    )
    code = send(options_for(server, user="alice"), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "correct horse" not in out
    message = email.message_from_bytes(server.messages[0].content, _class=EmailMessage)
    assert message["X-Test"] == "1"
    parts = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert [part.get_filename() for part in parts] == ["report.bin"]
    assert parts[0].get_payload(decode=True) == attachment.read_bytes()


def test_send_data_file_is_dot_stuffed(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    data = tmp_path / "message.eml"
    data.write_bytes(b"Subject: raw\n\n.starts with a dot\n.\nend\n")
    request = SendRequest("a@example.com", ("b@example.com",), data_file=str(data))
    assert send(options_for(server), request) == ExitCode.OK
    assert server.messages[0].content == b"Subject: raw\r\n\r\n.starts with a dot\r\n.\r\nend\r\n"


def test_pipelined_rejected_recipient_sends_nothing(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(handler=PipeliningHandler())
    request = SendRequest("a@example.com", ("nobody@example.com",))
    code = send(options_for(server), request)
    _, err = capsys.readouterr()
    assert code == ExitCode.ENVELOPE
    assert "550 5.1.1 No such user" in err
    assert server.messages == []


def test_send_without_recipient_is_usage_error(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    assert send(options_for(server), SendRequest("a@example.com", ())) == ExitCode.USAGE
    assert "no recipient" in capsys.readouterr().err


def test_send_8bit_data_file_gets_body_param(
    start_smtp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    data = tmp_path / "latin1.eml"
    data.write_bytes(b"Subject: latin\n\ncaf\xe9\n")
    request = SendRequest("a@example.com", ("b@example.com",), data_file=str(data))
    code = send(options_for(server), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: MAIL FROM:<a@example.com> SIZE=24 BODY=8BITMIME" in out
    assert server.messages[0].original_content == b"Subject: latin\r\n\r\ncaf\xe9\r\n"


def test_quit_after_auth_without_user(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    request = SendRequest("a@example.com", ("b@example.com",), quit_after="auth")
    code = send(options_for(server), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "C: MAIL" not in out
    assert "C: QUIT" in out
    assert "note: --quit-after auth, but no auth stage ran (give --user to authenticate)" in err
    assert server.messages == []


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"to": ("broken@@x",)}, "invalid To address 'broken@@x'"),
        ({"to": ("b@example.com",), "cc": ("<c@@y.example>",)}, "invalid Cc address"),
        ({"mail_from": "a@@example.com"}, "invalid From address"),
    ],
)
def test_send_checks_message_before_connecting(
    request_fields: dict[str, Any], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1, so any attempt to connect would fail with exit code 3.
    options = ConsoleOptions(connect=ConnectOptions("127.0.0.1", 1, security="plain"))
    fields = {"mail_from": "a@example.com", "to": ("b@example.com",), **request_fields}
    code = send(options, SendRequest(**fields))
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err
    assert message in err
    assert "connecting" not in out


def test_send_empty_password_variable_is_missing_password(
    start_smtp_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server()
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "")
    request = SendRequest("a@example.com", ("b@example.com",))
    code = send(options_for(server, user=server.user), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE, err
    assert "environment variable TEST_SMTP_PASSWORD is empty" in err
    assert "AUTH" not in out
    assert server.messages == []
