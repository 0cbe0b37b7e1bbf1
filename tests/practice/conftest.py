"""Fixtures for the practice server tests: servers with chosen rules, and smtplib clients."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smtpconsole.practice.rules import PracticeRules
from smtpconsole.practice.server import PracticeServer

OPEN_RULES = PracticeRules(require_starttls=False, require_auth=False)


@pytest.fixture
def start_practice() -> Iterator[Callable[..., PracticeServer]]:
    """Return a function that starts a practice server; every one is stopped after the test."""
    servers: list[PracticeServer] = []

    def start(**rule_overrides: Any) -> PracticeServer:
        server = PracticeServer(rules=PracticeRules(**rule_overrides))
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def practice(start_practice: Callable[..., PracticeServer]) -> PracticeServer:
    """A practice server with the SES-like default rules."""
    return start_practice()


def client_context(server: PracticeServer) -> ssl.SSLContext:
    """A client TLS context that trusts only the practice certificate, with strict X.509 checks."""
    context = ssl.create_default_context(cafile=str(server.ca_file))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def connect(server: PracticeServer) -> smtplib.SMTP:
    return smtplib.SMTP(server.host, server.port, local_hostname="client.example", timeout=5)


def logged_in(server: PracticeServer) -> smtplib.SMTP:
    """An smtplib client after EHLO, STARTTLS, EHLO and AUTH."""
    client = connect(server)
    client.starttls(context=client_context(server))
    client.login(server.user, server.password)
    return client


MESSAGE = (
    b"From: Sender <sender@example.com>\r\n"
    b"To: friend@example.net\r\n"
    b"Date: Fri, 04 Dec 2026 21:00:00 +0000\r\n"
    b"Message-ID: <1@example.com>\r\n"
    b"Subject: Hello\r\n"
    b"\r\n"
    b"Hello there.\r\n"
)
