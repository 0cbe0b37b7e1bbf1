"""The dialogue and reply parser driven against real servers: aiosmtpd in-process and Postfix.

A small asyncio client feeds the sans-IO core, so these tests check that the phases and the
advice match what real servers send, including pipelined replies and the STARTTLS switch.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.protocol import commands
from smtpconsole.protocol.dialogue import Advice, Dialogue, Phase
from smtpconsole.protocol.replies import NEED_DATA, Reply, ReplyParser

pytestmark = pytest.mark.timeout(20)


class CoreClient:
    """A minimal client: every sent line and received reply goes through the Dialogue."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = ReplyParser()
        self.dialogue = Dialogue()
        self.checked: list[Advice] = []
        self.received: list[Advice] = []

    @classmethod
    async def connect(cls, host: str, port: int) -> CoreClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, line: str) -> None:
        raw = commands.encode_line(line)
        self.checked += self.dialogue.check_line(raw[:-2])
        self.dialogue.line_sent(raw[:-2])
        self.writer.write(raw)
        await self.writer.drain()

    async def read_reply(self) -> Reply:
        while True:
            result = self.parser.next_reply()
            if isinstance(result, Reply):
                self.received += self.dialogue.reply_received(result)
                return result
            assert result is NEED_DATA
            chunk = await asyncio.wait_for(self.reader.read(65536), 10)
            assert chunk, "the server closed the connection"
            self.parser.feed(chunk)

    async def command(self, line: str) -> Reply:
        await self.send(line)
        return await self.read_reply()

    async def start_tls(self, ca_file: Path, server_name: str) -> None:
        assert self.dialogue.phase is Phase.TLS_PENDING
        assert self.parser.take_buffered() == b""
        context = ssl.create_default_context(cafile=str(ca_file))
        await self.writer.start_tls(context, server_hostname=server_name)
        self.received += self.dialogue.tls_started()

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def advice_keys(advice: list[Advice]) -> list[str]:
    return [item.key for item in advice]


def plain_token(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def test_aiosmtpd_starttls_auth_pipelined_message(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    client = await CoreClient.connect(server.host, server.port)
    try:
        greeting = await client.read_reply()
        assert greeting.code == 220
        assert client.dialogue.phase is Phase.GREETED

        await client.command("EHLO client.example.com")
        assert client.dialogue.phase is Phase.READY
        caps = client.dialogue.capabilities
        assert caps is not None
        assert caps.starttls
        # With the fixture's auth_require_tls, aiosmtpd 1.4.6 lists AUTH only after STARTTLS.
        # It does not list PIPELINING either.
        assert not caps.auth

        await client.send(commands.auth("PLAIN", plain_token(server.user, server.password)))
        assert advice_keys(client.checked) == ["auth.before_starttls"]
        assert "lists no AUTH yet" in client.checked[0].text
        rejected = await client.read_reply()
        assert rejected.is_error
        assert not client.dialogue.authenticated

        await client.command("STARTTLS")
        await client.start_tls(server.ca_file, "localhost")
        assert client.dialogue.tls_active
        assert client.dialogue.capabilities is None

        await client.command("EHLO client.example.com")
        caps = client.dialogue.capabilities
        assert caps is not None
        assert "PLAIN" in caps.auth_mechanisms
        client.checked.clear()
        await client.command(commands.auth("PLAIN", plain_token(server.user, server.password)))
        assert client.checked == []
        assert client.dialogue.authenticated

        for line in ("MAIL FROM:<a@example.com>", "RCPT TO:<b@example.com>", "DATA"):
            await client.send(line)
        assert "pipelining.not_offered" in advice_keys(client.checked)
        assert client.dialogue.pending == ("MAIL FROM", "RCPT TO", "DATA")
        for expected in (Phase.MAIL, Phase.RCPT, Phase.DATA):
            await client.read_reply()
            assert client.dialogue.phase is expected

        for line in ("From: a@example.com", "Subject: live", "", "..dotted", "body"):
            await client.send(line)
        await client.send(".")
        final = await client.read_reply()
        assert final.code == 250
        assert client.dialogue.phase is Phase.READY

        bye = await client.command("QUIT")
        assert bye.code == 221
        assert client.dialogue.phase is Phase.CLOSED
    finally:
        await client.close()

    assert len(server.messages) == 1
    content = server.messages[0].content
    assert isinstance(content, bytes)
    assert b"\r\n.dotted\r\n" in content


async def test_aiosmtpd_data_before_rcpt(start_smtp_server: Any) -> None:
    server = start_smtp_server(starttls=False, auth_require_tls=False)
    client = await CoreClient.connect(server.host, server.port)
    try:
        await client.read_reply()
        await client.command("EHLO client.example.com")
        await client.command("MAIL FROM:<a@example.com>")

        await client.send("DATA")
        assert "data.before_rcpt" in advice_keys(client.checked)
        reply = await client.read_reply()
        assert reply.code == 503
        assert "data.need_rcpt" in advice_keys(client.received)
        assert client.dialogue.phase is Phase.MAIL
    finally:
        await client.close()


@pytest.mark.postfix
async def test_postfix_starttls_path(postfix: Any) -> None:
    client = await CoreClient.connect(postfix.host, postfix.starttls_port)
    try:
        assert (await client.read_reply()).code == 220
        await client.command("EHLO client.example.com")
        caps = client.dialogue.capabilities
        assert caps is not None
        assert caps.starttls

        await client.send(commands.auth("PLAIN", plain_token(postfix.user, postfix.password)))
        predicted = advice_keys(client.checked)
        reply = await client.read_reply()
        assert reply.is_error
        assert predicted == ["auth.before_starttls"]

        await client.command("STARTTLS")
        assert client.dialogue.phase is Phase.TLS_PENDING
        await client.start_tls(postfix.ca_file, postfix.tls_name)
        assert client.dialogue.phase is Phase.GREETED

        await client.command("EHLO client.example.com")
        caps = client.dialogue.capabilities
        assert caps is not None
        assert caps.auth
        assert not caps.starttls

        await client.command(commands.auth("PLAIN", plain_token(postfix.user, postfix.password)))
        assert client.dialogue.authenticated
        assert (await client.command("RSET")).code == 250
        assert (await client.command("QUIT")).code == 221
        assert client.dialogue.phase is Phase.CLOSED
    finally:
        await client.close()


@pytest.mark.postfix
async def test_postfix_auth_login_exchange(postfix: Any) -> None:
    client = await CoreClient.connect(postfix.host, postfix.starttls_port)
    try:
        await client.read_reply()
        await client.command("EHLO client.example.com")
        await client.command("STARTTLS")
        await client.start_tls(postfix.ca_file, postfix.tls_name)
        await client.command("EHLO client.example.com")

        challenge = await client.command("AUTH LOGIN")
        assert challenge.code == 334
        assert client.dialogue.awaiting_auth_response
        assert "auth.challenge" in advice_keys(client.received)

        await client.send(base64.b64encode(postfix.user.encode()).decode())
        second = await client.read_reply()
        assert second.code == 334
        await client.send(base64.b64encode(b"wrong password").decode())
        final = await client.read_reply()
        assert final.code == 535
        assert client.received[-1].key == "auth.failed"
        assert client.dialogue.phase is Phase.READY
        assert not client.dialogue.authenticated
    finally:
        await client.close()


@pytest.mark.postfix
async def test_postfix_rejects_data_after_bdat(postfix: Any) -> None:
    client = await CoreClient.connect(postfix.host, postfix.starttls_port)
    address = f"{postfix.user}@{postfix.tls_name}"
    try:
        await client.read_reply()
        await client.command("EHLO client.example.com")
        await client.command("STARTTLS")
        await client.start_tls(postfix.ca_file, postfix.tls_name)
        await client.command("EHLO client.example.com")
        await client.command(commands.auth("PLAIN", plain_token(postfix.user, postfix.password)))
        assert (await client.command(f"MAIL FROM:<{address}>")).code == 250
        assert (await client.command(f"RCPT TO:<{address}>")).code == 250
        await client.send("BDAT 5")
        # "abc" and its CRLF are the 5 octets of the chunk, so the reply to BDAT comes now.
        await client.send("abc")
        assert (await client.read_reply()).code == 250

        suggested = [item.verb for item in client.dialogue.suggestions()]
        predicted = advice_keys(client.dialogue.check_line(b"DATA"))
        reply = await client.command("DATA")

        assert "DATA" not in suggested
        assert "BDAT" in suggested
        assert "data.after_bdat" in predicted
        assert reply.code == 503
        assert "DATA after BDAT" in reply.text
        assert (await client.command("RSET")).code == 250
        assert not client.dialogue.bdat_used
    finally:
        await client.close()
