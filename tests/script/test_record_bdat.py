"""BDAT in a recorded session: typed or sent as chunks, it becomes one ``bdat`` step that replays."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from smtpconsole.options import ConnectOptions, ConsoleOptions
from smtpconsole.protocol.replies import Reply
from smtpconsole.recording import (
    ReplaySettings,
    record_scenario,
    save_scenario,
    scenario_from_events,
)
from smtpconsole.script import ExitCode, run_scenario
from smtpconsole.session import Session
from smtpconsole.transcript import Connecting, Event, LineSent, ReplyReceived
from tests.session.chunking_server import (
    open_envelope,
    start_chunking_server_fixture,  # noqa: F401
)
from tests.session.session_helpers import (
    SessionFactory,
    local_options,
    make_session_fixture,  # noqa: F401
)

MESSAGE = b"Subject: typed chunk\r\n\r\n.leading dot\r\n"


async def test_typed_chunk_lines_are_octets_not_commands(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_line(f"BDAT {len(MESSAGE)} LAST", source="typed")
    for line in MESSAGE.decode().split("\r\n")[:-1]:
        await session.send_line(line, source="typed")
    reply = await session.read_reply()

    assert reply.code == 250
    assert session.dialogue.pending == ()
    assert session.dialogue.chunk_octets_left == 0
    assert server.messages[0].original_content == MESSAGE
    chunk_events = [e for e in session.transcript if isinstance(e, LineSent) and e.chunk]
    assert len(chunk_events) == 3


async def typed_bdat_session(server: Any) -> Session:
    session = Session(local_options(server.host, server.port))
    await session.connect()
    for line in ("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>"):
        await session.send_command(line, source="typed")
    await session.send_line(f"BDAT {len(MESSAGE)} LAST", source="typed")
    for line in MESSAGE.decode().split("\r\n")[:-1]:
        await session.send_line(line, source="typed")
    await session.read_reply()
    await session.send_command("QUIT", source="typed")
    await session.close()
    return session


def test_typed_bdat_records_one_step_that_replays(
    start_chunking_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_chunking_server()
    session = asyncio.run(typed_bdat_session(server))
    path = record_scenario(session.transcript, tmp_path / "bdat.yaml")

    steps = yaml.safe_load(path.read_text())["steps"]
    assert steps[2] == {
        "bdat": {"raw": "Subject: typed chunk\n\n.leading dot\n"},
        "expect": 250,
    }
    assert steps[3] == {"send": "QUIT", "expect": 221}

    options = ConsoleOptions(connect=ConnectOptions(server.host, server.port, security="plain"))
    code = run_scenario(str(path), options, json_output=False)
    assert code == ExitCode.OK, capsys.readouterr().err
    assert server.messages[1].original_content == MESSAGE


async def test_chunks_sent_by_the_session_record_chunk_size(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)
    await session.send_chunk(b"Subject: a\r\n")
    await session.send_chunk(b"\r\nbody\r\n", last=True)
    await session.send_command("NOOP", source="typed")

    steps = scenario_from_events(list(session.transcript))["steps"]

    assert steps[2] == {
        "bdat": {"raw": "Subject: a\n\nbody\n", "chunk_size": 12},
        "expect": 250,
    }
    assert steps[3] == {"send": "NOOP", "expect": 250}


def reply(code: int) -> ReplyReceived:
    return ReplyReceived(Reply(code, ("text",), f"{code} text\r\n".encode()))


ENVELOPE: list[Event] = [
    Connecting("127.0.0.1", 2525, "plain"),
    LineSent(b"MAIL FROM:<a@example.com>\r\n", "typed"),
    reply(250),
    LineSent(b"RCPT TO:<b@example.com>\r\n", "typed"),
    reply(250),
]


def test_bdat_without_last_left_out_and_noted(tmp_path: Path) -> None:
    # The typed line overruns the 5 announced octets; the server reads the rest as a command.
    events = [
        *ENVELOPE,
        LineSent(b"BDAT 5\r\n", "typed"),
        LineSent(b"hello world\r\n", "typed", chunk=True),
        reply(250),
        reply(500),
    ]

    saved = save_scenario(events, ReplaySettings(), folder=tmp_path)

    text = saved.path.read_text()
    steps = yaml.safe_load(text)["steps"]
    assert [step["send"] for step in steps] == [
        "MAIL FROM:<a@example.com>",
        "RCPT TO:<b@example.com>",
    ]
    note = "1 BDAT transaction left out, because no BDAT ... LAST chunk was sent in full"
    assert any(line.startswith(f"# Note: {note}") for line in text.splitlines())
    assert any(line.startswith(note) for line in saved.describe())


def test_bdat_last_cut_short_left_out() -> None:
    events = [
        *ENVELOPE,
        LineSent(b"BDAT 100 LAST\r\n", "typed"),
        LineSent(b"only ten\r\n", "typed", chunk=True),
    ]

    recording_steps = scenario_from_events(events)["steps"]

    assert all("bdat" not in step for step in recording_steps)


def test_bdat_after_last_starts_next_step() -> None:
    events = [
        *ENVELOPE,
        LineSent(b"BDAT 3 LAST\r\n", "typed"),
        LineSent(b"a\r\n", "typed", chunk=True),
        reply(250),
        LineSent(b"BDAT 3\r\n", "typed"),
        LineSent(b"b\r\n", "typed", chunk=True),
        reply(503),
        LineSent(b"NOOP\r\n", "typed"),
        reply(250),
    ]

    steps = scenario_from_events(events)["steps"]

    assert steps[2:] == [{"bdat": {"raw": "a\n"}, "expect": 250}, {"send": "NOOP", "expect": 250}]
