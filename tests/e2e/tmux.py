"""Drive a command in a real terminal: a detached tmux session, send-keys and capture-pane."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence

import pytest


def require_tmux() -> str:
    """Return the tmux path, or skip the test when tmux is not installed."""
    path = shutil.which("tmux")
    if path is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    return path


class TmuxTerminal:
    """One detached tmux session of a fixed size running one command."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        width: int = 120,
        height: int = 40,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.tmux = require_tmux()
        self.name = f"smtpconsole-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in (env or {}).items())
        # Keep the pane open after the command exits, so its last screen can still be read. A tmux
        # server started from another terminal passes on its COLUMNS and LINES, which would override
        # the pane's size for the command.
        shell_command = (
            f"env -u COLUMNS -u LINES {exports} {shlex.join(command)}; "
            "echo '[exited' $?']'; sleep 600"
        )
        subprocess.run(
            [
                self.tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                *(["-c", cwd] if cwd else []),
                shell_command,
            ],
            check=True,
        )

    def send_keys(self, *keys: str) -> None:
        """Send tmux key names such as ``Enter``, ``C-c`` or ``F1``."""
        subprocess.run([self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def type_text(self, text: str) -> None:
        """Type ``text`` literally, with no key-name interpretation."""
        subprocess.run([self.tmux, "send-keys", "-t", self.name, "-l", text], check=True)

    def type_line(self, text: str) -> None:
        self.type_text(text)
        self.send_keys("Enter")

    def screen(self) -> str:
        result = subprocess.run(
            [self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """Return the screen once it contains ``text``; fail the test with the screen otherwise."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        pytest.fail(f"{text!r} did not appear within {timeout} s; the screen was:\n{screen}")

    def close(self) -> None:
        subprocess.run(
            [self.tmux, "kill-session", "-t", self.name], check=False, capture_output=True
        )
