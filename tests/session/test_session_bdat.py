"""``Session.send_chunk``: BDAT chunks (RFC 3030) reach the server whole and reassemble exactly."""

from __future__ import annotations

from typing import Any

from smtpconsole.protocol.dialogue import Phase
from smtpconsole.transcript import AdviceGiven, LineSent
from tests.session.chunking_server import (
    open_envelope,
    start_chunking_server_fixture,  # noqa: F401
)
from tests.session.session_helpers import (
    SessionFactory,
    events_of,
    make_session_fixture,  # noqa: F401
)

# Bytes that DATA would change or that end DATA early: a lone dot line, a leading dot, a bare
# LF, a bare CR, NUL and 8-bit octets. BDAT sends them untouched.
AWKWARD_MESSAGE = (
    b"Subject: chunks\r\n\r\n.\r\n..leading dots\r\nbare\nLF and bare\rCR\r\n\x00\xff\xfe\r\n"
)


async def test_chunks_reassemble_byte_for_byte(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)
    parts = [AWKWARD_MESSAGE[:7], AWKWARD_MESSAGE[7:30], AWKWARD_MESSAGE[30:]]

    replies = [await session.send_chunk(part) for part in parts[:-1]]
    final = await session.send_chunk(parts[-1], last=True)

    assert [reply.code for reply in replies] == [250, 250]
    assert final.code == 250
    assert server.handler.chunks == [(7, False), (23, False), (len(parts[-1]), True)]
    assert server.messages[0].original_content == AWKWARD_MESSAGE


async def test_chunk_goes_right_after_its_line(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_chunk(b"Subject: x\r\n\r\nhi\r\n", last=True)

    assert server.received.endswith(b"BDAT 18 LAST\r\nSubject: x\r\n\r\nhi\r\n")


async def test_chunk_events_line_then_data(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_chunk(b"abc", last=False)
    await session.send_chunk(b"", last=True)

    sent = events_of(session, LineSent)[-4:]
    assert [(event.raw, event.source) for event in sent] == [
        (b"BDAT 3\r\n", "builder"),
        (b"abc", "data"),
        (b"BDAT 0 LAST\r\n", "builder"),
        (b"", "data"),
    ]
    assert not any(event.secret for event in sent)


async def test_last_chunk_ends_transaction(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_chunk(b"one\r\n")
    assert session.dialogue.phase is Phase.RCPT
    await session.send_chunk(b"two\r\n", last=True)

    assert session.dialogue.phase is Phase.READY
    assert server.messages[0].original_content == b"one\r\ntwo\r\n"


async def test_chunk_skips_octets_reminder(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_chunk(b"x\r\n", last=True)

    keys = [event.advice.key for event in events_of(session, AdviceGiven)]
    assert "bdat.octets_follow" not in keys


async def test_chunk_without_recipient_rejected(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = make_session(server.host, server.port)
    await session.connect()

    reply = await session.send_chunk(b"lost\r\n", last=True)

    assert reply.code == 503
    assert server.messages == []
    # The server read the chunk as data, so the connection still works.
    assert (await session.send_command("NOOP")).code == 250
