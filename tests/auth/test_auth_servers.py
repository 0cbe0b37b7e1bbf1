"""AUTH exchanges and message delivery against real servers: aiosmtpd in-process and Postfix."""

from __future__ import annotations

import asyncio
import base64
import email
import hashlib
import hmac
import json
import secrets
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope
from aiosmtpd.smtp import Session as ServerSession

from smtpconsole.options import ConnectOptions, TlsOptions
from smtpconsole.protocol import commands
from smtpconsole.protocol.message import MessageSpec, build_message
from smtpconsole.protocol.sasl import ScramSha256Mechanism, XOAuth2Mechanism, create_mechanism
from smtpconsole.session import Session
from smtpconsole.transcript import LineSent, Note

TEST_USER = "alice"
TEST_PASSWORD = "correct horse battery staple"
GOOD_TOKEN = "ya29.good-token"


class AuthTestHandler:
    """aiosmtpd handler adding CRAM-MD5, XOAUTH2 and SCRAM-SHA-256 to the built-in PLAIN, LOGIN."""

    def __init__(self, forge_scram_signature: bool = False) -> None:
        self.messages: list[Envelope] = []
        self.forge_scram_signature = forge_scram_signature
        self.scram_client_final: bytes | None = None

    async def handle_DATA(self, server: SMTP, session: ServerSession, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Message accepted"

    # aiosmtpd turns "__" in the method name into "-": this offers CRAM-MD5.
    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        challenge = f"<{secrets.token_hex(8)}@smtp.localhost>".encode()
        response = await server.challenge_auth(challenge)
        if response is MISSING:
            # challenge_auth has already sent 501; handled=True stops a second reply.
            return AuthResult(success=False, handled=True)
        assert isinstance(response, bytes)
        user, _, digest = response.partition(b" ")
        expected = hmac.new(TEST_PASSWORD.encode(), challenge, hashlib.md5).hexdigest().encode()
        ok = user == TEST_USER.encode() and hmac.compare_digest(digest, expected)
        return AuthResult(success=ok, handled=False)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) > 1:
            message = base64.b64decode(args[1])
        else:
            response = await server.challenge_auth("")
            if response is MISSING:
                return AuthResult(success=False, handled=True)
            assert isinstance(response, bytes)
            message = response
        if message == f"user={TEST_USER}\x01auth=Bearer {GOOD_TOKEN}\x01\x01".encode():
            return AuthResult(success=True, handled=False)
        error = {"status": "401", "schemes": "bearer", "scope": "https://mail.example/"}
        # The client must respond to the JSON error with an empty line before the final reply.
        answer = await server.challenge_auth(json.dumps(error))
        assert answer == b""
        return AuthResult(success=False, handled=False)

    async def auth_SCRAM__SHA__256(self, server: SMTP, args: list[str]) -> AuthResult:
        """Check a SCRAM-SHA-256 client (RFC 5802 section 3, RFC 7677), written from the RFC."""
        if len(args) > 1:
            client_first = base64.b64decode(args[1])
        else:
            response = await server.challenge_auth("")
            if response is MISSING:
                return AuthResult(success=False, handled=True)
            assert isinstance(response, bytes)
            client_first = response
        gs2_cbind, _authzid, bare = client_first.decode().split(",", 2)
        assert gs2_cbind == "n"
        attributes = dict(part.split("=", 1) for part in bare.split(","))
        salt, iterations = secrets.token_bytes(16), 4096
        nonce = attributes["r"] + secrets.token_urlsafe(18)
        server_first = f"r={nonce},s={base64.b64encode(salt).decode()},i={iterations}"

        client_final = await server.challenge_auth(server_first)
        if client_final is MISSING:
            return AuthResult(success=False, handled=True)
        assert isinstance(client_final, bytes)
        self.scram_client_final = client_final
        without_proof, _, proof_text = client_final.decode().rpartition(",p=")
        assert without_proof == f"c=biws,r={nonce}"
        salted = hashlib.pbkdf2_hmac("sha256", TEST_PASSWORD.encode(), salt, iterations)
        client_key_hmac = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key_hmac).digest()
        auth_message = f"{bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = base64.b64decode(proof_text)
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if attributes["n"] != TEST_USER or hashlib.sha256(client_key).digest() != stored_key:
            return AuthResult(success=False, handled=False)

        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        if self.forge_scram_signature:
            server_signature = bytes(len(server_signature))
        answer = await server.challenge_auth(f"v={base64.b64encode(server_signature).decode()}")
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=answer == b"", handled=False)


async def connected_session(server: Any) -> Session:
    options = ConnectOptions(
        "127.0.0.1", server.port, security="starttls", tls=TlsOptions(ca_file=str(server.ca_file))
    )
    session = Session(options)
    await session.connect()
    assert session.tls_info is not None
    return session


def sent_lines(session: Session) -> list[bytes]:
    return [event.raw for event in session.transcript.events if isinstance(event, LineSent)]


# --- aiosmtpd -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism_name", ["PLAIN", "LOGIN", "CRAM-MD5"])
async def test_auth_accepted_by_aiosmtpd(start_smtp_server: Any, mechanism_name: str) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = create_mechanism(mechanism_name, username=TEST_USER, secret=TEST_PASSWORD)
        reply = await session.authenticate(mechanism)
        assert reply.code == 235
        assert session.dialogue.authenticated
    finally:
        await session.close()


@pytest.mark.parametrize("mechanism_name", ["PLAIN", "LOGIN", "CRAM-MD5"])
async def test_auth_wrong_password_535(start_smtp_server: Any, mechanism_name: str) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = create_mechanism(mechanism_name, username=TEST_USER, secret="wrong")
        reply = await session.authenticate(mechanism)
        assert reply.code == 535
        assert not session.dialogue.authenticated
    finally:
        await session.close()


async def test_login_initial_response_aiosmtpd(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = create_mechanism(
            "LOGIN", username=TEST_USER, secret=TEST_PASSWORD, login_initial_response=True
        )
        reply = await session.authenticate(mechanism)
        assert reply.code == 235
        assert b"AUTH LOGIN YWxpY2U=\r\n" in sent_lines(session)
    finally:
        await session.close()


async def test_plain_bytes_on_the_wire(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        reply = await session.authenticate(
            create_mechanism("PLAIN", username=TEST_USER, secret=TEST_PASSWORD)
        )
        assert reply.code == 235
        token = base64.b64encode(f"\0{TEST_USER}\0{TEST_PASSWORD}".encode())
        assert b"AUTH PLAIN " + token + b"\r\n" in bytes(server.received)
    finally:
        await session.close()


async def test_xoauth2_accepted_aiosmtpd(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        reply = await session.authenticate(XOAuth2Mechanism(TEST_USER, GOOD_TOKEN))
        assert reply.code == 235
    finally:
        await session.close()


async def test_xoauth2_json_error_then_535(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = XOAuth2Mechanism(TEST_USER, "expired-token")
        reply = await session.authenticate(mechanism)
        assert reply.code == 535
        assert mechanism.error == {
            "status": "401",
            "schemes": "bearer",
            "scope": "https://mail.example/",
        }
        assert sent_lines(session)[-1] == b"\r\n"
    finally:
        await session.close()


async def test_cancel_gets_501(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        # aiosmtpd 1.4.6's built-in LOGIN sends 535 after its 501, so the test handler's CRAM-MD5
        # is used instead.
        mechanism = create_mechanism("CRAM-MD5", username=TEST_USER, secret=TEST_PASSWORD)
        reply = await session.send_command("AUTH CRAM-MD5", source="auth")
        assert reply.code == 334
        reply = await session.send_command(mechanism.cancel(), source="auth")
        assert reply.code == 501
        assert mechanism.cancelled
    finally:
        await session.close()


async def test_challenge_shown_decoded(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = create_mechanism("LOGIN", username=TEST_USER, secret=TEST_PASSWORD)
        await session.authenticate(mechanism)
        notes = [e.text for e in session.transcript.events if isinstance(e, Note)]
        assert any("User Name" in note for note in notes)
        assert any("Password" in note for note in notes)
    finally:
        await session.close()


async def test_message_through_aiosmtpd(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    assert session.dialogue.capabilities is not None
    spec = MessageSpec(
        "Alice <alice@example.com>",
        ("bob@example.com",),
        subject="件名",
        body=".\n.leading dot\n本文\n",
    )
    built = build_message(spec, session.dialogue.capabilities)
    try:
        assert (
            await session.send_command(commands.mail(built.sender, built.mail_params))
        ).code == 250
        assert (await session.send_command(commands.rcpt("bob@example.com"))).code == 250
        assert (await session.send_command(commands.data())).code == 354
        assert (await session.send_data(built.payload_for_data)).code == 250
    finally:
        await session.close()
    received = server.handler.messages[0].original_content
    assert received == built.raw


async def test_scram_sha256_accepted_aiosmtpd(start_smtp_server: Any) -> None:
    handler = AuthTestHandler()
    server = start_smtp_server(handler=handler)
    session = await connected_session(server)
    try:
        mechanism = create_mechanism("SCRAM-SHA-256", username=TEST_USER, secret=TEST_PASSWORD)
        reply = await session.authenticate(mechanism)
        assert reply.code == 235
        assert isinstance(mechanism, ScramSha256Mechanism)
        assert mechanism.server_verified
        assert handler.scram_client_final is not None
    finally:
        await session.close()


async def test_scram_forged_server_signature_cancelled(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler(forge_scram_signature=True))
    session = await connected_session(server)
    try:
        mechanism = create_mechanism("SCRAM-SHA-256", username=TEST_USER, secret=TEST_PASSWORD)
        reply = await session.authenticate(mechanism)
        assert reply.code == 501
        assert not session.dialogue.authenticated
        assert isinstance(mechanism, ScramSha256Mechanism)
        assert not mechanism.server_verified
        assert sent_lines(session)[-1] == b"*\r\n"
    finally:
        await session.close()


async def test_scram_wrong_password_535(start_smtp_server: Any) -> None:
    server = start_smtp_server(handler=AuthTestHandler())
    session = await connected_session(server)
    try:
        mechanism = create_mechanism("SCRAM-SHA-256", username=TEST_USER, secret="wrong")
        reply = await session.authenticate(mechanism)
        assert reply.code == 535
    finally:
        await session.close()


# --- Postfix --------------------------------------------------------------------------------------


async def postfix_session(postfix: Any) -> Session:
    options = ConnectOptions(
        postfix.host,
        postfix.starttls_port,
        security="starttls",
        tls=TlsOptions(ca_file=str(postfix.ca_file), sni=postfix.tls_name),
    )
    session = Session(options)
    await session.connect()
    return session


@pytest.mark.postfix
@pytest.mark.parametrize("mechanism_name", ["PLAIN", "LOGIN", "CRAM-MD5"])
async def test_auth_accepted_by_postfix(postfix: Any, mechanism_name: str) -> None:
    session = await postfix_session(postfix)
    try:
        caps = session.dialogue.capabilities
        assert caps is not None
        assert caps.offers_mechanism(mechanism_name)
        mechanism = create_mechanism(mechanism_name, username=postfix.user, secret=postfix.password)
        reply = await session.authenticate(mechanism)
        assert reply.code == 235, reply.text
    finally:
        await session.close()


@pytest.mark.postfix
async def test_postfix_rejects_wrong_password(postfix: Any) -> None:
    session = await postfix_session(postfix)
    try:
        mechanism = create_mechanism("PLAIN", username=postfix.user, secret="not-the-password")
        reply = await session.authenticate(mechanism)
        assert reply.code == 535
        assert reply.enhanced_status == "5.7.8"
    finally:
        await session.close()


def wait_for_maildir_message(maildir: Path, message_id: str, timeout: float = 15.0) -> bytes:
    deadline = time.monotonic() + timeout
    needle = f"Message-ID: {message_id}".encode()
    while time.monotonic() < deadline:
        for path in (maildir / "new").iterdir():
            data = path.read_bytes()
            if needle in data:
                return data
        time.sleep(0.1)
    raise AssertionError(f"message {message_id} did not arrive in {maildir}/new in {timeout} s")


@pytest.mark.postfix
@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
async def test_japanese_message_via_postfix(postfix: Any, charset: str) -> None:
    subject = "テスト送信：日本語の件名"
    body = "こんにちは。\n.\n.で始まる行\n日本語の本文です。\n"
    message_id = f"<{secrets.token_hex(12)}@smtpconsole.test>"
    spec = MessageSpec(
        "送信者 <tester@mail.test>",
        ("受信者 <someone@example.test>",),
        subject=subject,
        body=body,
        charset=charset,  # type: ignore[arg-type]
        message_id=message_id,
    )
    session = await postfix_session(postfix)
    try:
        reply = await session.authenticate(
            create_mechanism("PLAIN", username=postfix.user, secret=postfix.password)
        )
        assert reply.code == 235
        built = build_message(spec, session.dialogue.capabilities)
        mail_reply = await session.send_command(commands.mail(built.sender, built.mail_params))
        assert mail_reply.code == 250, mail_reply.text
        for address in built.recipients:
            assert (await session.send_command(commands.rcpt(address))).code == 250
        assert (await session.send_command(commands.data())).code == 354
        final = await session.send_data(built.payload_for_data)
        assert final.code == 250, final.text
    finally:
        await session.close()

    delivered = await asyncio.to_thread(wait_for_maildir_message, postfix.maildir, message_id)
    message = email.message_from_bytes(delivered, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    assert message["Subject"] == subject
    assert message["From"].addresses[0].display_name == "送信者"
    content = message.get_content()
    assert isinstance(content, str)
    assert content.replace("\r\n", "\n") == body
