"""serve_only as a subprocess, driven by swaks and openssl s_client, stopped by SIGINT and SIGTERM."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVE_ONLY_CODE = (
    "import sys; from smtpconsole.practice.server import serve_only; "
    "sys.exit(serve_only(None, 10.0))"
)


@dataclass
class ServeOnly:
    process: subprocess.Popen[str]
    output: list[str]
    port: int
    ca_file: str
    user: str
    password: str

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        rest, _ = self.process.communicate(timeout=10)
        return self.process.returncode, rest

    def read_line_with(self, fragment: str, timeout: float = 10.0) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            self.output.append(line)
            if fragment in line:
                return line
            if not line and self.process.poll() is not None:
                break
        raise AssertionError(f"{fragment!r} not printed; output so far: {''.join(self.output)}")


def _field(lines: list[str], label: str) -> str:
    for line in lines:
        if line.strip().startswith(label):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{label} not printed")


def _start(arguments: list[str]) -> ServeOnly:
    process = subprocess.Popen(
        [sys.executable, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    server = ServeOnly(process, [], 0, "", "", "")
    server.read_line_with("Press Ctrl-C to stop.")
    target = re.search(r"listening on 127\.0\.0\.1:(\d+)", "".join(server.output))
    assert target is not None
    server.port = int(target.group(1))
    server.ca_file = _field(server.output, "CA file")
    server.user = _field(server.output, "User")
    server.password = _field(server.output, "Password")
    return server


@pytest.fixture
def serve_only_process() -> Iterator[ServeOnly]:
    server = _start(["-c", SERVE_ONLY_CODE])
    yield server
    if server.process.poll() is None:
        # SIGTERM first, so the server deletes its certificate folder.
        server.process.terminate()
        try:
            server.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.communicate()


def test_prints_connection_details(serve_only_process: ServeOnly) -> None:
    text = "".join(serve_only_process.output)
    assert Path(serve_only_process.ca_file).is_file()
    assert serve_only_process.user == "practice-user"
    assert len(serve_only_process.password) >= 20
    assert "Verified senders:  sender@example.com, verified.example" in text
    assert (
        f"openssl s_client -starttls smtp -crlf -connect 127.0.0.1:{serve_only_process.port} "
        f"-CAfile {serve_only_process.ca_file}" in text
    )
    assert f"swaks --server 127.0.0.1:{serve_only_process.port} --tls" in text


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_sends_mail(serve_only_process: ServeOnly) -> None:
    server = serve_only_process
    result = subprocess.run(
        [
            "swaks", "--server", f"127.0.0.1:{server.port}", "--tls", "--tls-verify",
            "--tls-ca-path", server.ca_file, "--auth", "PLAIN", "--auth-user", server.user,
            "--auth-password", server.password, "--from", "sender@example.com",
            "--to", "friend@example.net", "--header", "Subject: from swaks",
        ],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "<~  235 Authentication successful." in result.stdout
    assert re.search(r"<~  250 Ok [0-9a-f]{16}-", result.stdout)
    line = server.read_line_with("Accepted")
    assert "sender@example.com -> friend@example.net, subject 'from swaks'" in line
    code, rest = server.stop(signal.SIGINT)
    assert code == 0
    assert "Practice server stopped; 1 message(s) accepted." in rest


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks is not installed")
def test_swaks_unverified_sender_gets_554(serve_only_process: ServeOnly) -> None:
    server = serve_only_process
    result = subprocess.run(
        [
            "swaks", "--server", f"127.0.0.1:{server.port}", "--tls", "--tls-verify",
            "--tls-ca-path", server.ca_file, "--auth", "LOGIN", "--auth-user", server.user,
            "--auth-password", server.password, "--from", "stranger@example.org",
            "--to", "friend@example.net",
        ],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert (
        "554 Message rejected: Email address is not verified. The following identities "
        "failed the check in region PRACTICE-LOCAL-1: stranger@example.org" in result.stdout
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_s_client_authenticates(serve_only_process: ServeOnly) -> None:
    server = serve_only_process
    token = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
    result = subprocess.run(
        [
            "openssl", "s_client", "-starttls", "smtp", "-crlf", "-quiet", "-ign_eof",
            "-connect", f"127.0.0.1:{server.port}", "-CAfile", server.ca_file,
            "-verify_return_error", "-verify_hostname", "localhost",
        ],
        input=f"EHLO client.example\nAUTH PLAIN {token}\nQUIT\n",
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert "verify return:1" in result.stderr
    assert "250-AUTH PLAIN LOGIN" in result.stdout
    assert "250-STARTTLS" not in result.stdout
    assert "235 Authentication successful." in result.stdout
    assert "221 Bye" in result.stdout


def test_sigterm_stops_with_exit_0(serve_only_process: ServeOnly) -> None:
    code, rest = serve_only_process.stop(signal.SIGTERM)
    assert code == 0
    assert "Practice server stopped; 0 message(s) accepted." in rest
    assert not Path(serve_only_process.ca_file).exists()


def test_cli_serve_only_stops_on_sigint() -> None:
    server = _start(["-m", "smtpconsole", "practice", "--serve-only", "--idle-timeout", "30"])
    try:
        assert "Idle timeout:      30 s" in "".join(server.output)
        code, rest = server.stop(signal.SIGINT)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert code == 0
    assert "Practice server stopped" in rest


def test_sighup_stops_and_cleans_up(serve_only_process: ServeOnly) -> None:
    code, rest = serve_only_process.stop(signal.SIGHUP)
    assert code == 0
    assert "Practice server stopped" in rest
    assert not Path(serve_only_process.ca_file).exists()


def test_closed_stdout_stops_quietly(tmp_path: Path) -> None:
    # The shell pipeline `serve-only | head -1`: the reader exits after the first line.
    command = f"{sys.executable} -m smtpconsole practice --serve-only | head -1"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=15, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Practice SMTP server listening on 127.0.0.1:")
    assert "Traceback" not in result.stderr
    assert "BrokenPipeError" not in result.stderr
    assert list(tmp_path.iterdir()) == []
