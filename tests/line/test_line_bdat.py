"""Raw BDAT in the line mode: the lines after it are the chunk's octets, and the prompt counts them."""

from __future__ import annotations

import io
from typing import Any

from smtpconsole.line.console import prompt_text
from smtpconsole.line.plain import run_plain
from smtpconsole.options import ConnectOptions, ConsoleOptions
from tests.session.chunking_server import (
    open_envelope,
    start_chunking_server_fixture,  # noqa: F401
)
from tests.session.session_helpers import (
    SessionFactory,
    make_session_fixture,  # noqa: F401
)


async def test_plain_mode_typed_chunk(
    start_chunking_server: Any,
) -> None:
    server = start_chunking_server()
    # "Subject: x\r\n" + "\r\n" + "hi\r\n" is 18 octets; "BDAT 0 LAST" then ends a second message.
    stdin = io.StringIO(
        "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nBDAT 18 LAST\nSubject: x\n\nhi\n"
        "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nBDAT 4\nhi\nBDAT 0 LAST\n"
    )
    stdout = io.StringIO()
    options = ConsoleOptions(connect=ConnectOptions(server.host, server.port, security="plain"))

    assert await run_plain(options, stdin, stdout) == 0

    assert [m.original_content for m in server.messages] == [b"Subject: x\r\n\r\nhi\r\n", b"hi\r\n"]
    assert server.handler.chunks == [(18, True), (4, False), (0, True)]
    assert "S: 221" in stdout.getvalue()
    assert "!!" not in stdout.getvalue()


async def test_prompt_counts_the_octets_left(
    make_session: SessionFactory, start_chunking_server: Any
) -> None:
    server = start_chunking_server()
    session = await open_envelope(make_session, server)

    await session.send_line("BDAT 10 LAST", source="typed")
    assert prompt_text(session).endswith("chunk (10 octets left)> ")
    await session.send_line("abc", source="typed")
    assert prompt_text(session).endswith("chunk (5 octets left)> ")
    await session.send_line("def", source="typed")
    assert (await session.read_reply()).code == 250
    assert prompt_text(session).endswith("smtp> ")


async def test_plain_mode_ending_inside_chunk_warns_and_fails(
    start_chunking_server: Any,
) -> None:
    server = start_chunking_server()
    # "hello" and its CRLF are 7 of the 20 octets announced.
    stdin = io.StringIO("MAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nBDAT 20 LAST\nhello\n")
    stdout = io.StringIO()
    options = ConsoleOptions(connect=ConnectOptions(server.host, server.port, security="plain"))

    status = await run_plain(options, stdin, stdout)

    output = stdout.getvalue()
    assert status == 1
    assert "!! the BDAT chunk was not finished (13 octets missing)" in output
    assert b"QUIT" not in server.received
    assert server.messages == []
