"""AUTH against a byte server that sends challenges real servers send rarely or never."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

from smtpconsole.options import ConnectOptions
from smtpconsole.protocol.sasl import create_mechanism
from smtpconsole.session import Session
from smtpconsole.transcript import AdviceGiven, LineSent


@dataclass
class ScriptedServer:
    """Plain-text SMTP server on 127.0.0.1 that replies to AUTH and each response from a script."""

    auth_replies: Sequence[bytes]
    received: list[bytes] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 odd.test ESMTP\r\n")
        replies = iter(self.auth_replies)
        while line := await reader.readline():
            self.received.append(line)
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                writer.write(b"250-odd.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(next(replies, b"503 out of script\r\n"))
            await writer.drain()
        writer.close()


async def run_auth(
    replies: Sequence[bytes], mechanism_name: str, secret: str = "s3cret"
) -> tuple[int, ScriptedServer, Session]:
    script = ScriptedServer(replies)
    server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
    script.port = server.sockets[0].getsockname()[1]
    session = Session(ConnectOptions("127.0.0.1", script.port, security="plain"))
    try:
        await session.connect()
        mechanism = create_mechanism(mechanism_name, username="alice", secret=secret)
        reply = await session.authenticate(mechanism)
        await session.close()
    finally:
        server.close()
        await server.wait_closed()
    return reply.code, script, session


def b64(text: bytes) -> bytes:
    return base64.b64encode(text)


async def test_login_lower_case_and_nul_prompts() -> None:
    replies = [
        b"334 " + b64(b"username:") + b"\r\n",
        b"334 " + b64(b"Password\0") + b"\r\n",
        b"235 2.7.0 ok\r\n",
    ]
    code, script, _ = await run_auth(replies, "LOGIN")
    assert code == 235
    assert script.received[1:4] == [
        b"AUTH LOGIN\r\n",
        b64(b"alice") + b"\r\n",
        b64(b"s3cret") + b"\r\n",
    ]


async def test_non_base64_challenge_cancelled() -> None:
    replies = [b"334 Username:\r\n", b"501 5.7.0 cancelled\r\n"]
    code, script, session = await run_auth(replies, "LOGIN")
    assert code == 501
    assert script.received[2] == b"*\r\n"
    advice = [e.advice.text for e in session.transcript.events if isinstance(e, AdviceGiven)]
    assert any("'Username:'" in text for text in advice)


async def test_empty_334_for_plain_gets_response() -> None:
    # A password this long does not fit on the AUTH line, so the server requests it with an
    # empty 334.
    password = "p" * 400
    replies = [b"334 \r\n", b"235 2.7.0 ok\r\n"]
    code, script, _ = await run_auth(replies, "PLAIN", password)
    assert code == 235
    assert script.received[1] == b"AUTH PLAIN\r\n"
    assert script.received[2] == b64(f"\0alice\0{password}".encode()) + b"\r\n"


async def test_second_334_after_plain_cancelled() -> None:
    replies = [b"334 \r\n", b"501 cancelled\r\n"]
    code, script, _ = await run_auth(replies, "PLAIN")
    assert code == 501
    assert script.received[1] == b"AUTH PLAIN " + b64(b"\0alice\0s3cret") + b"\r\n"
    assert script.received[2] == b"*\r\n"


async def test_cram_md5_empty_challenge_cancelled() -> None:
    replies = [b"334 \r\n", b"501 cancelled\r\n"]
    code, script, _ = await run_auth(replies, "CRAM-MD5")
    assert code == 501
    assert script.received[2] == b"*\r\n"


async def test_auth_lines_are_secret() -> None:
    replies = [b"334 " + b64(b"Username:") + b"\r\n", b"334 " + b64(b"Password:") + b"\r\n"]
    _, _, session = await run_auth([*replies, b"535 5.7.8 no\r\n"], "LOGIN")
    sent = [e for e in session.transcript.events if isinstance(e, LineSent)]
    answers = [e for e in sent if e.source == "auth" and not e.raw.startswith(b"AUTH")]
    assert len(answers) == 2
    assert [event.secret for event in answers] == [True, True]
