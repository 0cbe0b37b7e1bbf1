"""Typed lines reach the server byte for byte, whatever their case or first letter."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.errors import ConnectionLost
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.session import Session
from smtpconsole.transcript import AdviceGiven, ConnectionClosed, LineSent
from tests.hostile_servers import recording_script, serve
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    local_options,
    make_session_fixture,  # noqa: F401
)

# Lines that a console with command shortcuts might take for its own commands (R, Q, k, K),
# mixed case, and a QUIT that must go out as typed.
TYPED_LINES = [
    "RCPT TO:<a@example.com>",
    "rcpt to:<b@example.com>",
    "R",
    "Q",
    "k",
    "K",
    "QUIT",
]
EXPECTED_BYTES = b"".join(line.encode() + b"\r\n" for line in TYPED_LINES)


async def send_all(session, lines: list[str]) -> None:
    for line in lines:
        await session.send_line(line)
        await session.read_reply()


async def test_typed_lines_reach_aiosmtpd_verbatim(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port, manual=True)
    greeting = await session.connect()
    assert greeting.code == 220

    await send_all(session, TYPED_LINES)

    assert bytes(server.received) == EXPECTED_BYTES
    sent = [event.raw for event in events_of(session, LineSent)]
    assert sent == [line.encode() + b"\r\n" for line in TYPED_LINES]
    assert all(event.source == "typed" for event in events_of(session, LineSent))


async def test_typed_lines_reach_raw_server_verbatim(make_session: SessionFactory):
    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await send_all(session, TYPED_LINES)

    assert bytes(server.received) == EXPECTED_BYTES


@pytest.mark.parametrize(
    "line",
    [
        "",
        " ",
        "  noop  ",
        "MAIL FROM:<jürgen@exämple.com> SMTPUTF8",
        "HELO\ttab",
        "\x1b[31m",
        "x" * 2000,
    ],
)
async def test_odd_line_sent_unchanged(make_session: SessionFactory, line: str):
    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await session.send_line(line)
        await session.read_reply()

    assert bytes(server.received) == line.encode("utf-8") + b"\r\n"


@pytest.mark.parametrize("line", ["NOOP\r\nRSET", "NOOP\n", "\rNOOP", "RSET\r"])
async def test_line_with_cr_or_lf_rejected(make_session: SessionFactory, line: str):
    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        with pytest.raises(LocalProtocolError):
            await session.send_line(line)
        await session.send_line("NOOP")
        await session.read_reply()

    assert bytes(server.received) == b"NOOP\r\n"
    assert [event.raw for event in events_of(session, LineSent)] == [b"NOOP\r\n"]


async def test_send_command_after_pipelined_lines(make_session: SessionFactory):
    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await session.send_line("NOOP")
        await session.send_line("NOOP")
        reply = await session.send_command("RSET")
        first = await session.read_reply()
        second = await session.read_reply()

    assert reply.code == 250
    assert first.code == 250
    assert second.code == 250
    assert bytes(server.received) == b"NOOP\r\nNOOP\r\nRSET\r\n"


async def test_typed_quit_then_server_closes(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port, manual=True)
    await session.connect()

    await session.send_line("quit")
    reply = await session.read_reply()
    with pytest.raises(ConnectionLost):
        await session.read_reply()

    assert reply.code == 221
    closed = events_of(session, ConnectionClosed)
    assert [event.reason for event in closed] == ["the server closed the connection after QUIT"]
    assert session.closed
    with pytest.raises(ConnectionLost, match="not connected"):
        await session.send_line("NOOP")


LINE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=200,
).filter(lambda text: text.strip().upper() != "QUIT")


@settings(max_examples=25, deadline=None)
@given(lines=st.lists(LINE_TEXT, min_size=1, max_size=8))
def test_any_line_arrives_verbatim(lines: list[str]):
    async def run() -> bytes:
        async with serve(recording_script()) as server:
            session = Session(local_options(server.host, server.port, manual=True))
            await session.connect()
            for line in lines:
                await session.send_line(line)
                await session.read_reply()
            await session.close()
        return bytes(server.received)

    received = asyncio.run(run())

    expected = b"".join(line.encode("utf-8") + b"\r\n" for line in lines)
    # close() sends QUIT after the typed lines.
    assert received == expected + b"QUIT\r\n"


async def test_control_characters_flagged_but_sent(make_session: SessionFactory):
    async with serve(recording_script()) as server:
        session = make_session(server.host, server.port, manual=True)
        await session.connect()
        await session.send_line("NOOP\x1b[31m\x00\tend\x7f")
        await session.read_reply()

    assert bytes(server.received) == b"NOOP\x1b[31m\x00\tend\x7f\r\n"
    advice = [
        event.advice
        for event in events_of(session, AdviceGiven)
        if event.advice.key == "line.control_characters"
    ]
    assert len(advice) == 1
    assert "\\x00, \\x1b, \\x7f" in advice[0].text


async def test_later_ehlo_repeats_typed_name(start_smtp_server, make_session: SessionFactory):
    server = start_smtp_server(starttls=False)
    session = make_session(server.host, server.port, manual=True)
    await session.connect()

    await session.send_line("EHLO typed.example")
    await session.read_reply()
    await session.ehlo()

    assert bytes(server.received) == b"EHLO typed.example\r\nEHLO typed.example\r\n"
