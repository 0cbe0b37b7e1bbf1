"""BDAT (RFC 3030) in scenarios and in ``send --bdat``: chunking, fallback to DATA, failures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.errors import ScriptError
from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.protocol.message import undo_dot_stuffing
from smtpconsole.scenario import load_scenario
from smtpconsole.script import ExitCode, run_scenario
from smtpconsole.sending import SendRequest, build_send_scenario, send
from tests.session.chunking_server import start_chunking_server_fixture  # noqa: F401

from .servers import PipeliningHandler
from .test_postfix import delivered
from .test_postfix import options_for as postfix_options


def plain_options(server: Any) -> ConsoleOptions:
    return ConsoleOptions(connect=ConnectOptions(server.host, server.port, security="plain"))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def client_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("C: ")]


def test_bdat_step_sends_chunks(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = """
steps:
  - mail: a@example.com
  - rcpt: b@example.com
  - bdat: {subject: Chunked, body: "line one\\n.leading dot\\n", chunk_size: 100}
"""
    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    content = server.messages[0].original_content
    sizes = [size for size, _ in server.handler.chunks]
    assert sizes[:-1] == [100] * (len(sizes) - 1)
    assert sum(sizes) == len(content)
    assert [last for _, last in server.handler.chunks][-1] is True
    assert b"Subject: Chunked\r\n" in content
    # BDAT carries the message without dot-stuffing.
    assert content.endswith(b"\r\n\r\nline one\r\n.leading dot\r\n")
    assert "C: BDAT 100" in client_lines(out)


def test_bdat_raw_matches_data_delivery(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    raw = "Subject: raw\n\n.\n..two dots\nbare CR\rend"
    scenario = f"""
steps:
  - mail: a@example.com
  - rcpt: b@example.com
  - bdat: {{raw: {json.dumps(raw)}, chunk_size: 7}}
  - mail: a@example.com
  - rcpt: b@example.com
  - data: {{raw: {json.dumps(raw)}}}
"""
    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)
    _, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    by_bdat, by_data = (envelope.original_content for envelope in server.messages)
    assert by_bdat == b"Subject: raw\r\n\r\n.\r\n..two dots\r\nbare CR\r\nend\r\n"
    assert by_bdat == by_data


def test_bdat_empty_message_one_chunk(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    scenario = "steps:\n  - mail: a@example.com\n  - rcpt: b@example.com\n  - bdat: {raw: ''}\n"
    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)
    _, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    assert server.handler.chunks == [(0, True)]


def test_bdat_rejected_exits_data(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    # Without RCPT the server replies 503 to the first chunk, so no later chunk is sent.
    scenario = "steps:\n  - mail: a@example.com\n  - bdat: {raw: 'abcdef', chunk_size: 2}\n"
    code = run_scenario(write(tmp_path, scenario), plain_options(server), json_output=False)
    _, err = capsys.readouterr()

    assert code == ExitCode.DATA
    assert "step 2 (bdat): expected 2xx, got 503" in err
    assert server.handler.chunks == [(2, False)]


def test_send_bdat_when_offered(
    start_chunking_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server(pipelining=True)
    request = SendRequest("a@example.com", ("b@example.com",), subject="By BDAT", bdat=True)

    code = send(plain_options(server), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    lines = client_lines(out)
    bdat = next(line for line in lines if line.startswith("C: BDAT "))
    size = len(server.messages[0].original_content)
    assert bdat == f"C: BDAT {size} LAST"
    assert "C: DATA" not in lines
    assert lines[-1] == "C: QUIT"
    assert b"Subject: By BDAT\r\n" in server.messages[0].original_content


def test_send_bdat_pipelines_envelope(
    start_chunking_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server(pipelining=True)
    request = SendRequest("a@example.com", ("b@example.com", "c@example.com"), bdat=True)

    code = send(plain_options(server), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    lines = [line for line in out.splitlines() if line.startswith(("C: ", "S: "))]
    mail = next(i for i, line in enumerate(lines) if line.startswith("C: MAIL FROM"))
    assert lines[mail + 1 : mail + 3] == [
        "C: RCPT TO:<b@example.com>",
        "C: RCPT TO:<c@example.com>",
    ]
    assert lines[mail + 3].startswith("S: 250")
    assert server.messages[0].rcpt_tos == ["b@example.com", "c@example.com"]


def test_send_bdat_rejected_recipient_no_chunk(
    start_chunking_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server(pipelining=True)
    request = SendRequest("a@example.com", ("b@example.com", "nobody@example.com"), bdat=True)

    code = send(plain_options(server), request)
    _, err = capsys.readouterr()

    assert code == ExitCode.ENVELOPE
    assert "550" in err
    assert server.handler.chunks == []
    assert server.messages == []


def test_send_bdat_falls_back_pipelined(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(starttls=False, handler=PipeliningHandler())
    request = SendRequest("a@example.com", ("b@example.com",), bdat=True)

    code = send(plain_options(server), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    assert "C: DATA" in client_lines(out)
    assert "does not offer CHUNKING" in err
    assert len(server.messages) == 1


def test_send_bdat_falls_back_to_data(
    start_smtp_server: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_smtp_server(starttls=False)
    request = SendRequest("a@example.com", ("b@example.com",), bdat=True)

    code = send(plain_options(server), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    assert "C: DATA" in client_lines(out)
    assert "does not offer CHUNKING" in err
    assert len(server.messages) == 1


def test_send_bdat_long_chunk_display_cut(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    path = tmp_path / "long.eml"
    path.write_bytes(b"Subject: long\r\n\r\n" + b"line\r\n" * 300)
    request = SendRequest("a@example.com", ("b@example.com",), data_file=str(path), bdat=True)

    code = send(plain_options(server), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    assert "more message lines not shown" in out
    # A BDAT chunk has no end-of-data line, so none is shown after the cut.
    assert "C: ." not in out
    assert server.messages[0].original_content == path.read_bytes()


def test_bdat_chunk_size_checked(tmp_path: Path) -> None:
    scenario = "steps:\n  - bdat: {raw: x, chunk_size: 0}\n"
    with pytest.raises(ScriptError, match=r"step 1 \(bdat\): field 'bdat.chunk_size'"):
        load_scenario(write(tmp_path, scenario), {})


def test_chunk_size_only_for_bdat(tmp_path: Path) -> None:
    scenario = "steps:\n  - data: {raw: x, chunk_size: 10}\n"
    with pytest.raises(ScriptError, match="unknown field"):
        load_scenario(write(tmp_path, scenario), {})


def test_send_scenario_keeps_data_step() -> None:
    # The choice between DATA and BDAT waits for the server's EHLO reply.
    request = SendRequest("a@example.com", ("b@example.com",), bdat=True)
    options = ConsoleOptions(connect=ConnectOptions("127.0.0.1", 25))
    scenario = build_send_scenario(options, request)
    assert scenario.steps[-1].action == "data"


@pytest.mark.postfix
def test_postfix_send_bdat(
    postfix: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PEER_PASSWORD", postfix.password)
    marker = uuid.uuid4().hex
    request = SendRequest(
        f"{postfix.user}@{postfix.tls_name}",
        (f"{postfix.user}@{postfix.tls_name}",),
        subject=f"bdat {marker}",
        body=f"{marker}\n.leading dot\n",
        bdat=True,
    )

    code = send(postfix_options(postfix), request)
    out, err = capsys.readouterr()

    assert code == ExitCode.OK, err
    assert any(line.startswith("C: BDAT ") for line in client_lines(out))
    assert delivered(postfix, marker)


def test_undo_dot_stuffing_inverse() -> None:
    # The raw bdat path relies on this: DATA's payload, unstuffed, is the delivered message.
    assert undo_dot_stuffing(b"..a\r\nb\r\n.\r\n") == b".a\r\nb\r\n"
