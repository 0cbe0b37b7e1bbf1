"""Helpers and the ``make_session`` fixture shared by the session tests.

This is a plain module, so that imports do not depend on which conftest pytest loaded last.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from smtpconsole.options import ConnectOptions, TlsOptions
from smtpconsole.session import Session

SessionFactory = Callable[..., Session]


def local_options(host: str, port: int, **kwargs: Any) -> ConnectOptions:
    """Options for a test server: short timeouts, a fixed EHLO name, plain unless ``security`` is given."""
    tls = kwargs.pop("tls", None) or TlsOptions(
        ca_file=kwargs.pop("ca_file", None), sni=kwargs.pop("sni", None)
    )
    kwargs.setdefault("security", "plain")
    kwargs.setdefault("ehlo_name", "client.test")
    kwargs.setdefault("connect_timeout", 5.0)
    kwargs.setdefault("read_timeout", 5.0)
    return ConnectOptions(host=host, port=port, tls=tls, **kwargs)


def events_of(session: Session, kind: type) -> list[Any]:
    """Return the transcript events of ``kind``, in order."""
    return [event for event in session.transcript.events if isinstance(event, kind)]


def unused_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(name="make_session")
async def make_session_fixture() -> AsyncIterator[SessionFactory]:
    """Return a function that builds a Session; each one is closed after the test.

    Test modules import ``make_session_fixture``, because a conftest.py here would replace the module
    ``conftest`` that other test folders import helpers from.
    """
    sessions: list[Session] = []

    def make(host: str, port: int, **kwargs: Any) -> Session:
        session = Session(local_options(host, port, **kwargs))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.close()
