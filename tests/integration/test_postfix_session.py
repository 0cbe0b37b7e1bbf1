"""The session against the real Postfix peer: STARTTLS, implicit TLS, AUTH and delivery."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from smtpconsole.errors import TlsError
from smtpconsole.options import ConnectOptions, TlsOptions
from smtpconsole.protocol import sasl
from smtpconsole.session import Session
from smtpconsole.transcript import LineSent, TlsStarted

pytestmark = pytest.mark.postfix

DELIVERY_WAIT_SECONDS = 15.0


def postfix_options(postfix, **kwargs) -> ConnectOptions:
    tls = TlsOptions(ca_file=str(postfix.ca_file), sni=kwargs.pop("sni", postfix.tls_name))
    kwargs.setdefault("port", postfix.starttls_port)
    kwargs.setdefault("security", "starttls")
    return ConnectOptions(
        host=postfix.host,
        tls=tls,
        ehlo_name="client.test",
        connect_timeout=10.0,
        read_timeout=10.0,
        **kwargs,
    )


async def open_session(options: ConnectOptions) -> Session:
    session = Session(options)
    await session.connect()
    return session


async def test_starttls_verified_with_peer_ca(postfix):
    session = await open_session(postfix_options(postfix))
    try:
        assert session.tls_info is not None
        assert session.tls_info.verified
        assert session.tls_info.server_name == postfix.tls_name
        assert session.tls_info.leaf is not None
        assert f"DNS:{postfix.tls_name}" in session.tls_info.leaf.sans
        capabilities = session.dialogue.capabilities
        assert capabilities is not None
        assert "PLAIN" in capabilities.auth_mechanisms
        assert not capabilities.starttls
    finally:
        await session.close()


async def test_starttls_by_tls_name(postfix):
    options = postfix_options(postfix, sni=None)
    options = ConnectOptions(**{**options.__dict__, "host": postfix.tls_name})
    session = await open_session(options)
    try:
        assert session.tls_info is not None
        assert session.tls_info.verified
    finally:
        await session.close()


async def test_starttls_without_ca_fails_then_retry(postfix):
    options = ConnectOptions(
        host=postfix.host,
        port=postfix.starttls_port,
        security="starttls",
        tls=TlsOptions(sni=postfix.tls_name),
        ehlo_name="client.test",
        read_timeout=10.0,
    )
    session = Session(options)
    with pytest.raises(TlsError) as caught:
        await session.connect()
    assert "unable to get local issuer certificate" in caught.value.message

    try:
        info = await session.retry_insecure()
        assert not info.verified
        assert session.insecure
        assert (await session.send_command("NOOP")).code == 250
    finally:
        await session.close()


async def test_implicit_tls_verified(postfix):
    session = await open_session(postfix_options(postfix, port=postfix.tls_port, security="tls"))
    try:
        started = [event for event in session.transcript if isinstance(event, TlsStarted)]
        assert len(started) == 1
        assert started[0].info.verified
        assert session.dialogue.capabilities is not None
        sent = [event.raw for event in session.transcript if isinstance(event, LineSent)]
        assert sent == [b"EHLO client.test\r\n"]
    finally:
        await session.close()


async def test_auth_plain_accepted(postfix):
    session = await open_session(postfix_options(postfix))
    try:
        mechanism = sasl.create_mechanism("PLAIN", username=postfix.user, secret=postfix.password)
        reply = await session.authenticate(mechanism)
        assert reply.code == 235
        assert session.dialogue.authenticated
    finally:
        await session.close()


async def test_auth_wrong_password_rejected(postfix):
    session = await open_session(postfix_options(postfix))
    try:
        mechanism = sasl.create_mechanism("PLAIN", username=postfix.user, secret="wrong-pass")
        reply = await session.authenticate(mechanism)
        assert reply.code == 535
        assert reply.enhanced_status == "5.7.8"
    finally:
        await session.close()


async def test_message_delivered_to_maildir(postfix):
    marker = f"smtpconsole-session-{uuid.uuid4()}"
    payload = (
        f"From: tester@mail.test\r\nTo: someone@example.com\r\nSubject: {marker}\r\n"
        f"Message-ID: <{marker}@client.test>\r\n\r\nDelivered by the session test.\r\n.\r\n"
    ).encode()
    session = await open_session(postfix_options(postfix, port=postfix.tls_port, security="tls"))
    try:
        mechanism = sasl.create_mechanism("PLAIN", username=postfix.user, secret=postfix.password)
        assert (await session.authenticate(mechanism)).code == 235
        assert (await session.send_command("MAIL FROM:<tester@mail.test>")).code == 250
        assert (await session.send_command("RCPT TO:<someone@example.com>")).code == 250
        assert (await session.send_command("DATA")).code == 354
        reply = await session.send_data(payload)
        assert reply.code == 250
    finally:
        await session.close()

    assert await wait_for_delivery(Path(postfix.maildir), marker) is not None


async def wait_for_delivery(maildir: Path, marker: str) -> Path | None:
    deadline = asyncio.get_running_loop().time() + DELIVERY_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        for folder in ("new", "cur"):
            for path in (maildir / folder).glob("*"):
                try:
                    if marker in path.read_text(errors="replace"):
                        return path
                except OSError:
                    continue
        await asyncio.sleep(0.2)
    return None


async def test_typed_lines_answered_one_by_one(postfix):
    lines = ["RCPT TO:<a@example.com>", "rcpt to:<b@example.com>", "R", "Q", "k", "K", "QUIT"]
    session = await open_session(postfix_options(postfix))
    try:
        codes = []
        for line in lines:
            await session.send_line(line)
            codes.append((await session.read_reply()).code)
    finally:
        await session.close()

    sent = [event.raw for event in session.transcript if isinstance(event, LineSent)]
    assert sent[-len(lines) :] == [line.encode() + b"\r\n" for line in lines]
    # RCPT before MAIL is a bad sequence (503); Postfix replies 500 to unknown commands.
    assert codes == [503, 503, 500, 500, 500, 500, 221]


async def test_export_has_no_secret(postfix, tmp_path):
    import base64

    session = await open_session(postfix_options(postfix))
    try:
        mechanism = sasl.create_mechanism("PLAIN", username=postfix.user, secret=postfix.password)
        assert (await session.authenticate(mechanism)).code == 235
    finally:
        await session.close()
    token = base64.b64encode(f"\0{postfix.user}\0{postfix.password}".encode()).decode()

    text = session.transcript.export_text(tmp_path / "t.txt").read_text()
    jsonl = session.transcript.export_jsonl(tmp_path / "t.jsonl").read_text()

    for content in (text, jsonl):
        assert postfix.password not in content
        assert token not in content
    assert "C: AUTH PLAIN ********" in text
