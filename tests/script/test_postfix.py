"""``run`` and ``send`` against the real Postfix peer: STARTTLS required, AUTH, PIPELINING."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from smtpconsole.options import AuthOptions, ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.script import ExitCode, run_scenario
from smtpconsole.sending import SendRequest, send

pytestmark = pytest.mark.postfix


def options_for(peer: Any, *, ca_file: str | None = None, user: bool = True) -> ConsoleOptions:
    tls = TlsOptions(ca_file=ca_file or str(peer.ca_file), sni=peer.tls_name)
    connect = ConnectOptions(peer.host, peer.starttls_port, tls=tls, connect_timeout=10)
    auth = AuthOptions(username=peer.user, password_env="PEER_PASSWORD") if user else AuthOptions()
    return ConsoleOptions(connect=connect, auth=auth)


def delivered(peer: Any, marker: str, timeout: float = 10.0) -> bool:
    """Wait until a message holding ``marker`` is in the peer's Maildir."""
    deadline = time.monotonic() + timeout
    new = Path(peer.maildir) / "new"
    while time.monotonic() < deadline:
        for path in new.glob("*"):
            if marker.encode() in path.read_bytes():
                return True
        time.sleep(0.1)
    return False


@pytest.fixture
def peer_password(postfix: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PEER_PASSWORD", postfix.password)
    return str(postfix.password)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_postfix_scenario_passes(
    postfix: Any, peer_password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = uuid.uuid4().hex
    path = write(
        tmp_path,
        f"""
steps:
  - auth: {{mechanism: PLAIN, username: {postfix.user}, password_env: PEER_PASSWORD}}
  - mail: {postfix.user}@{postfix.tls_name}
  - rcpt: {postfix.user}@{postfix.tls_name}
  - data: {{subject: "scenario {marker}", body: hello}}
    expect: /queued as/
""",
    )
    code = run_scenario(path, options_for(postfix), json_output=False)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert "== TLS started" in out
    assert peer_password not in out
    assert delivered(postfix, marker)


def test_postfix_unexpected_code_fails(
    postfix: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The peer requires AUTH before MAIL, so MAIL gets a 5xx and RCPT a 503.
    path = write(
        tmp_path,
        "steps:\n  - send: MAIL FROM:<someone@example.org>\n  - send: RCPT TO:<x@example.org>\n"
        "    expect: 250\n",
    )
    code = run_scenario(path, options_for(postfix, user=False), json_output=False)
    _, err = capsys.readouterr()
    assert code == ExitCode.EXPECTATION
    assert f"{path}: step 2 (send): expected 250, got 503 5.5.1" in err
    assert "exit code 8 (expectation)" in err


def test_postfix_untrusted_ca_is_tls_failure(
    postfix: Any, ca_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The aiosmtpd test CA did not sign Postfix's certificate.
    options = options_for(postfix, ca_file=str(ca_file), user=False)
    code = run_scenario(write(tmp_path, "steps:\n  - send: NOOP\n"), options, json_output=False)
    out, err = capsys.readouterr()
    assert code == ExitCode.TLS
    assert "!! TLS failed" in out
    assert "CN=mail.test" in out


def test_postfix_wrong_password_is_auth_failure(
    postfix: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PEER_PASSWORD", "not-the-password")
    request = SendRequest(
        f"{postfix.user}@{postfix.tls_name}", (f"{postfix.user}@{postfix.tls_name}",)
    )
    code = send(options_for(postfix), request)
    _, err = capsys.readouterr()
    assert code == ExitCode.AUTH
    assert "expected 235, got 535" in err


def test_postfix_send_pipelined_with_attachment(
    postfix: Any, peer_password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = uuid.uuid4().hex
    attachment = tmp_path / "notes.txt"
    attachment.write_text("attached text\n")
    address = f"{postfix.user}@{postfix.tls_name}"
    request = SendRequest(
        address, (address,), subject=f"send {marker}", attachments=(str(attachment),)
    )
    code = send(options_for(postfix), request)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    lines = [line for line in out.splitlines() if line.startswith(("C: ", "S: "))]
    mail = next(i for i, line in enumerate(lines) if line.startswith("C: MAIL FROM"))
    assert lines[mail + 1] == f"C: RCPT TO:<{address}>"
    assert lines[mail + 2] == "C: DATA"
    assert delivered(postfix, marker)


def test_postfix_manual_scenario_with_raw_starttls(
    postfix: Any, peer_password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        """
manual: true
steps:
  - expect: 220
  - send: EHLO client.test
    expect: /STARTTLS/
  - send: STARTTLS
    expect: 220
  - ehlo: client.test
  - expect: /AUTH PLAIN/
  - auth: {username: tester, password_env: PEER_PASSWORD}
  - quit
""",
    )
    code = run_scenario(path, options_for(postfix), json_output=False)
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, err
    assert out.count("C: EHLO client.test") == 2
    assert "== TLS started" in out
    assert "S: 235 2.7.0 Authentication successful" in out


def test_postfix_unoffered_mechanism_hint(
    postfix: Any, peer_password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options = options_for(postfix)
    options = ConsoleOptions(
        connect=options.connect,
        auth=AuthOptions(
            username=postfix.user, password_env="PEER_PASSWORD", mechanism="SCRAM-SHA-256"
        ),
    )
    code = send(options, SendRequest(postfix.user + "@" + postfix.tls_name, ("x@example.com",)))
    _, err = capsys.readouterr()
    assert code == ExitCode.AUTH
    assert "does not offer SCRAM-SHA-256" in err
    assert "user name and password" not in err


def test_postfix_greeting_timeout_on_implicit_tls_port(
    postfix: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tls = TlsOptions(ca_file=str(postfix.ca_file), sni=postfix.tls_name)
    connect = ConnectOptions(postfix.host, postfix.tls_port, tls=tls, read_timeout=1.0)
    started = time.monotonic()
    code = send(ConsoleOptions(connect=connect), SendRequest("a@example.com", ("b@example.com",)))
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == ExitCode.TIMEOUT
    assert "--tls" in err
    assert "C: " not in out
    assert elapsed < 1.8
