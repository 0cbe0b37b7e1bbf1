"""Shared fixtures: an in-process aiosmtpd server with trustme certificates, and the Postfix peer."""

from __future__ import annotations

import os
import shlex
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as ServerSession

TEST_USER = "alice"
TEST_PASSWORD = "correct horse battery staple"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago on ``host``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PEM file of the test CA that signed the aiosmtpd server certificate."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_tls_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    cert = tls_ca.issue_cert("localhost", "127.0.0.1", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@dataclass
class RecordingHandler:
    """aiosmtpd handler that keeps every accepted envelope."""

    messages: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: ServerSession, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Message accepted"


class RecordingSMTP(SMTP):
    """aiosmtpd's SMTP protocol, also keeping every byte it receives, in order."""

    def __init__(self, handler: Any, received: bytearray, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._received = received

    def data_received(self, data: bytes) -> None:
        self._received += data
        super().data_received(data)


def check_login(
    server: SMTP, session: ServerSession, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == TEST_USER.encode()
        and auth_data.password == TEST_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    """A running in-process aiosmtpd server, as tests see it."""

    host: str
    port: int
    ca_file: Path
    handler: RecordingHandler
    received: bytearray
    user: str = TEST_USER
    password: str = TEST_PASSWORD

    @property
    def messages(self) -> list[Envelope]:
        return self.handler.messages


class _Controller(Controller):
    def __init__(
        self, handler: Any, received: bytearray, smtp_kwargs: dict[str, Any], **kwargs: Any
    ) -> None:
        self._received = received
        self._smtp_kwargs = smtp_kwargs
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, self._received, **self._smtp_kwargs)


@pytest.fixture
def start_smtp_server(server_tls_context: ssl.SSLContext, ca_file: Path) -> Iterator[Any]:
    """Return a function that starts aiosmtpd; every server started is stopped after the test.

    Keyword arguments: ``starttls`` (offer STARTTLS, default True), ``require_starttls`` (default
    False), ``implicit_tls`` (TLS from the first byte, default False), ``auth_required`` (default
    False), ``host`` (default 127.0.0.1), ``handler``, and any other aiosmtpd SMTP parameter.
    """
    controllers: list[Controller] = []

    def start(
        *,
        starttls: bool = True,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        auth_required: bool = False,
        host: str = "127.0.0.1",
        handler: Any = None,
        **smtp_kwargs: Any,
    ) -> SmtpServer:
        handler = handler or RecordingHandler()
        received = bytearray()
        smtp_kwargs.setdefault("authenticator", check_login)
        # aiosmtpd 1.4 counts only STARTTLS as TLS, so with implicit TLS it must not require TLS for AUTH.
        smtp_kwargs.setdefault("auth_require_tls", not implicit_tls)
        smtp_kwargs.setdefault("hostname", "smtp.localhost")
        if starttls and not implicit_tls:
            smtp_kwargs["tls_context"] = server_tls_context
        smtp_kwargs["require_starttls"] = require_starttls
        smtp_kwargs["auth_required"] = auth_required
        port = free_port(host)
        controller = _Controller(
            handler,
            received,
            smtp_kwargs,
            hostname=host,
            port=port,
            ssl_context=server_tls_context if implicit_tls else None,
            server_hostname="localhost",
        )
        controller.start()
        controllers.append(controller)
        return SmtpServer(host, port, ca_file, handler, received)

    yield start
    for controller in controllers:
        controller.stop()


@dataclass(frozen=True)
class PostfixPeer:
    """The real Postfix started by postfix-up, read from its peer.env."""

    host: str
    tls_name: str
    starttls_port: int
    tls_port: int
    user: str
    password: str
    ca_file: Path
    maildir: Path


def _read_peer_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            parts = shlex.split(value)
            values[key] = parts[0] if parts else ""
    return values


@pytest.fixture(scope="session")
def postfix() -> PostfixPeer:
    """The Postfix peer; the test is skipped when peer.env is missing, except in CI."""
    env_path = Path(os.environ.get("SMTP_PEER_ENV", "/tmp/smtp-peer/peer.env"))
    if not env_path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"Postfix peer not running: {env_path} is missing; .ci/run starts it")
        pytest.skip(f"Postfix peer not running ({env_path} missing); .ci/run starts it")
    values = _read_peer_env(env_path)
    return PostfixPeer(
        host=values["SMTP_PEER_HOST"],
        tls_name=values["SMTP_PEER_TLS_NAME"],
        starttls_port=int(values["SMTP_PEER_STARTTLS_PORT"]),
        tls_port=int(values["SMTP_PEER_TLS_PORT"]),
        user=values["SMTP_PEER_USER"],
        password=values["SMTP_PEER_PASS"],
        ca_file=Path(values["SMTP_PEER_CA"]),
        maildir=Path(values["SMTP_PEER_MAILDIR"]),
    )
