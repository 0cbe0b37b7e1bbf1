"""The local-postfix example profile, tried against the real Postfix peer on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import ssl
from typing import BinaryIO

import pytest

from smtpconsole.credentials import resolve_secret
from smtpconsole.profiles import load_profile_file
from tests.conftest import PostfixPeer

from .conftest import REPO_PROFILES

pytestmark = pytest.mark.postfix


def read_reply(stream: BinaryIO) -> tuple[int, list[bytes]]:
    lines = []
    while True:
        line = stream.readline(8192)
        assert line.endswith(b"\r\n"), f"reply line without CRLF: {line!r}"
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), lines


def test_local_postfix_profile_authenticates(
    postfix: PostfixPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = load_profile_file(REPO_PROFILES / "local-postfix.yaml").to_console_options()
    connect = options.connect
    assert (connect.host, connect.port) == (postfix.host, postfix.starttls_port)
    assert connect.tls.ca_file == str(postfix.ca_file)
    assert connect.tls.sni == postfix.tls_name
    monkeypatch.setenv("SMTP_PEER_PASS", postfix.password)
    password = resolve_secret(options.auth, prompt=False)
    assert password == postfix.password
    context = ssl.create_default_context(cafile=connect.tls.ca_file)
    token = base64.b64encode(f"\0{options.auth.username}\0{password}".encode()).decode()

    with socket.create_connection((connect.host, connect.port), timeout=10) as raw:
        plain = raw.makefile("rb")
        assert read_reply(plain)[0] == 220
        raw.sendall(f"EHLO {connect.ehlo_name}\r\n".encode())
        assert read_reply(plain)[0] == 250
        raw.sendall(b"STARTTLS\r\n")
        assert read_reply(plain)[0] == 220
        with context.wrap_socket(raw, server_hostname=connect.tls.sni) as secure:
            stream = secure.makefile("rb")
            secure.sendall(f"EHLO {connect.ehlo_name}\r\n".encode())
            code, lines = read_reply(stream)
            assert code == 250
            assert any(b"AUTH" in line and b"PLAIN" in line for line in lines)
            secure.sendall(f"AUTH PLAIN {token}\r\n".encode())
            assert read_reply(stream)[0] == 235
            secure.sendall(b"QUIT\r\n")
            assert read_reply(stream)[0] == 221
