"""An aiosmtpd server that implements BDAT (RFC 3030 CHUNKING), which aiosmtpd 1.4.6 lacks.

The server parses each ``BDAT <size> [LAST]`` line, reads exactly ``size`` octets after it, and
joins the chunks into the message that the handler's ``handle_DATA`` receives, so that a test can
compare the delivered bytes with what the client meant to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope

from tests.conftest import free_port

_BDAT_ARGUMENT = re.compile(r"^([0-9]+)( +LAST)?$", re.IGNORECASE)


@dataclass
class ChunkingHandler:
    """Offers CHUNKING (and PIPELINING when asked) in EHLO, rejects recipients ``nobody@...`` and
    keeps every accepted message."""

    pipelining: bool = False
    messages: list[Envelope] = field(default_factory=list)
    chunks: list[tuple[int, bool]] = field(default_factory=list)
    """Every BDAT as (announced size, LAST), in the order received."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # With a handle_EHLO hook, aiosmtpd leaves setting the client name to the hook.
        session.host_name = hostname
        offers = ["250-CHUNKING"] + (["250-PIPELINING"] if self.pipelining else [])
        return [*responses[:-1], *offers, responses[-1]]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Message accepted"


class ChunkingSMTP(SMTP):
    """aiosmtpd's SMTP protocol with a BDAT command, keeping every received byte in order."""

    def __init__(self, handler: ChunkingHandler, received: bytearray, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._received = received
        self._chunking_handler = handler
        self._message = bytearray()

    def data_received(self, data: bytes) -> None:
        self._received += data
        super().data_received(data)

    async def smtp_BDAT(self, arg: str | None) -> None:
        match = _BDAT_ARGUMENT.match((arg or "").strip())
        if match is None:
            # Without a valid size the server cannot tell where the chunk ends.
            await self.push("501 5.5.4 Syntax: BDAT size [LAST]")
            return
        size, last = int(match.group(1)), match.group(2) is not None
        chunk = await self._reader.readexactly(size)
        self._chunking_handler.chunks.append((size, last))
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        self._message += chunk
        if not last:
            await self.push(f"250 2.0.0 {size} octets received")
            return
        self.envelope.content = self.envelope.original_content = bytes(self._message)
        self._message.clear()
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)

    async def smtp_RSET(self, arg: str) -> None:
        self._message.clear()
        await super().smtp_RSET(arg)


@dataclass
class ChunkingServer:
    """A running chunking server, as tests see it."""

    host: str
    port: int
    handler: ChunkingHandler
    received: bytearray

    @property
    def messages(self) -> list[Envelope]:
        return self.handler.messages


async def open_envelope(make_session: Any, server: ChunkingServer) -> Any:
    """Connect a session from ``make_session`` to ``server`` and have MAIL and RCPT accepted."""
    session = make_session(server.host, server.port)
    await session.connect()
    assert (await session.send_command("MAIL FROM:<a@example.com>")).code == 250
    assert (await session.send_command("RCPT TO:<b@example.com>")).code == 250
    return session


class _ChunkingController(Controller):
    def __init__(self, handler: ChunkingHandler, received: bytearray, **kwargs: Any) -> None:
        self._received = received
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return ChunkingSMTP(self.handler, self._received, hostname="chunking.localhost")


@pytest.fixture(name="start_chunking_server")
def start_chunking_server_fixture() -> Iterator[Any]:
    """Return a function that starts a plain-TCP chunking server; each is stopped after the test.

    Test modules import this fixture, as they import ``make_session_fixture``.
    """
    controllers: list[Controller] = []

    def start(*, pipelining: bool = False) -> ChunkingServer:
        handler = ChunkingHandler(pipelining=pipelining)
        received = bytearray()
        port = free_port()
        controller = _ChunkingController(handler, received, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return ChunkingServer("127.0.0.1", port, handler, received)

    yield start
    for controller in controllers:
        controller.stop()
