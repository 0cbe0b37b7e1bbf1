"""The README's quick start on a fresh virtual environment: install, then ``smtpconsole practice``.

The test makes a new venv with ``python -m venv``, installs this repository into it with pip (no
editable install, no packages shared with the test's own environment) and runs the installed
command in tmux. It then sends one message by typing the dialogue into the raw input, responds
to the AUTH challenge from the practice credentials with the challenge dialog, and reads the
accepted message in the practice mailbox panel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxTerminal, require_tmux

pytestmark = pytest.mark.tmux

REPOSITORY = Path(__file__).parents[2]
WIDTH, HEIGHT = 140, 45
WAIT_SECONDS = 20.0
"""Upper bound of each wait on the screen, generous because a loaded machine can be slow."""
INSTALL_TIMEOUT_SECONDS = 240.0
EMPTY_LINE_PAUSE_SECONDS = 0.5

SENDER = "sender@example.com"
"""A verified identity of the practice server, used as envelope sender and From address."""
RECIPIENT = "friend@example.net"
SUBJECT = "Quick start"
EMPTY_INPUT = re.compile(r"[┃│]  Type an SMTP line")
"""The raw input's row while the input is empty, showing the start of its placeholder."""
ACCEPTED_REPLY = re.compile(r"│ 250 +Ok \S")
"""The Last reply panel's first row after the message: 250 Ok and the message id."""
MESSAGE_LINES = (f"From: {SENDER}", f"To: {RECIPIENT}", f"Subject: {SUBJECT}", "", "Hello.", ".")


def install_fresh_venv(folder: Path) -> Path:
    """Create a venv in ``folder``, pip install the repository into it; return its smtpconsole."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(REPOSITORY)],
        check=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        capture_output=True,
    )
    return venv / "bin" / "smtpconsole"


def wait_screen(terminal: TmuxTerminal, condition: Callable[[str], bool], what: str) -> str:
    """Return the screen once ``condition(screen)`` holds; fail with the screen otherwise."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        screen = terminal.screen()
        if condition(screen):
            return screen
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_SECONDS} s waiting for {what}; screen:\n{screen}")
        time.sleep(0.1)


def status_shows(screen: str, *parts: str) -> bool:
    """Tell whether the status bar shows every one of ``parts`` as a whole field.

    A field starts the bar's line or follows a "│", so "authenticated" is not matched by
    "not authenticated".
    """
    return all(re.search(rf"(?:^|│) {re.escape(part)} │", screen, re.MULTILINE) for part in parts)


def wait_status(terminal: TmuxTerminal, *parts: str) -> str:
    """Wait until the status bar shows every one of ``parts`` as a field, like ``authenticated``."""
    return wait_screen(
        terminal,
        lambda screen: status_shows(screen, *parts),
        f"status fields {parts}",
    )


def panel_text(screen: str, title: str) -> str:
    """Return the text inside the bordered panel titled ``title``, its wrapped lines joined.

    The panel's column range comes from its top border, so text of panels beside it is left out.
    """
    lines = screen.splitlines()
    top = next(index for index, line in enumerate(lines) if f"─ {title} " in line)
    left = lines[top].rfind("╭", 0, lines[top].index(title))
    right = lines[top].index("╮", left)
    inside: list[str] = []
    for line in lines[top + 1 :]:
        part = line[left : right + 1]
        if part.startswith("╰"):
            break
        inside.append(part.strip("│ "))
    return " ".join(" ".join(inside).split())


def type_message_line(terminal: TmuxTerminal, line: str) -> None:
    """Type one line, wait until the raw input shows it, press Enter, wait until it is empty.

    Each line waits for the screen before the next one is typed, as a user would, so a failure
    names the line that did not go out.
    """
    if not line:
        # The input looks the same before and after an empty line, so give Enter time instead.
        terminal.send_keys("Enter")
        time.sleep(EMPTY_LINE_PAUSE_SECONDS)
        return
    terminal.type_text(line)
    wait_screen(terminal, lambda screen: f"┃  {line} " in screen, f"{line!r} in the input")
    terminal.send_keys("Enter")
    # The border is heavy in DATA mode and round again after the final ".".
    wait_screen(terminal, lambda screen: EMPTY_INPUT.search(screen) is not None, f"{line!r} sent")


@pytest.fixture
def practice_terminal(tmp_path: Path) -> Iterator[TmuxTerminal]:
    """``smtpconsole practice`` from a fresh venv, running in tmux; closed after the test."""
    require_tmux()
    command = install_fresh_venv(tmp_path)
    # Profiles, history and exports stay inside the test's folder.
    env = {name: str(tmp_path) for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    terminal = TmuxTerminal(
        [str(command), "practice"], width=WIDTH, height=HEIGHT, env=env, cwd=str(tmp_path)
    )
    yield terminal
    terminal.close()


@pytest.mark.timeout(300)
def test_quick_start_sends_message(practice_terminal: TmuxTerminal) -> None:
    terminal = practice_terminal
    screen = wait_screen(terminal, lambda s: "practice server" in s, "the practice greeting")
    assert re.search(r"S: 220 .*practice server", screen), screen
    # READY comes after the first EHLO too, before the automatic STARTTLS, so the wait includes
    # the verified TLS field: the console upgrades with STARTTLS and verifies on connect.
    wait_screen(
        terminal,
        lambda s: "verified │" in s and status_shows(s, "not authenticated", "READY"),
        "READY with TLS verified",
    )

    terminal.type_line("AUTH PLAIN")
    wait_screen(terminal, lambda s: "Answer from profile" in s, "the AUTH challenge dialog")
    # Focus starts in the response field; three Tabs reach the "Answer from profile" button.
    terminal.send_keys("Tab", "Tab", "Tab", "Enter")
    wait_status(terminal, "authenticated")

    terminal.type_line(f"MAIL FROM:<{SENDER}>")
    wait_status(terminal, "MAIL")
    terminal.type_line(f"RCPT TO:<{RECIPIENT}>")
    wait_status(terminal, "RCPT")
    terminal.type_line("DATA")
    wait_status(terminal, "DATA")
    for line in MESSAGE_LINES:
        type_message_line(terminal, line)

    screen = wait_screen(terminal, lambda s: "1 accepted" in s, "the message in the mailbox")
    mailbox = panel_text(screen, "Practice mailbox")
    assert f"{SENDER} -> {RECIPIENT}," in mailbox, screen
    assert f"subject '{SUBJECT}'" in mailbox, screen
    wait_screen(
        terminal, lambda s: ACCEPTED_REPLY.search(s) is not None, "250 Ok in the Last reply panel"
    )
