"""``smtpconsole practice`` in the line mode and the TUI gets SIGHUP (its terminal closed) or
SIGTERM: the certificate folder is deleted before the process ends."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _practice_folders(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("smtpconsole-practice-*"))


def _wait_for(condition: Callable[[], object], description: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {description}")


def _drain(master: int, output: bytearray) -> None:
    # Read what the console wrote, so it never blocks on a full terminal buffer.
    try:
        while select.select([master], [], [], 0)[0]:
            data = os.read(master, 65536)
            if not data:
                return
            output += data
    except OSError:
        return


@pytest.mark.parametrize(
    ("mode", "signum"),
    [
        (["--line"], signal.SIGHUP),
        (["--line"], signal.SIGTERM),
        ([], signal.SIGHUP),
    ],
    ids=["line-sighup", "line-sigterm", "tui-sighup"],
)
def test_signal_deletes_certificate_folder(
    mode: list[str], signum: signal.Signals, tmp_path: Path
) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "TMPDIR": str(tmp_path), "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "smtpconsole", "practice", *mode],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    try:
        _wait_for(lambda: _practice_folders(tmp_path), "the certificate folder")
        folder = _practice_folders(tmp_path)[0]
        _wait_for(lambda: not (folder / "practice-key.pem").exists(), "the key file removal")
        # Give the console time to start, so the signal arrives while it runs.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            _drain(master, output)
            time.sleep(0.05)

        process.send_signal(signum)
        deadline = time.monotonic() + 15.0
        while process.poll() is None and time.monotonic() < deadline:
            _drain(master, output)
            time.sleep(0.05)

        assert process.returncode == -signum, output.decode(errors="replace")[-3000:]
        assert _practice_folders(tmp_path) == []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        os.close(master)
