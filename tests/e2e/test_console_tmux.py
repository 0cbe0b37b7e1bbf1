"""The installed ``smtpconsole`` command in a real terminal: a whole dialogue typed through tmux.

Each test starts the console on the in-process aiosmtpd server, types every line with
``tmux send-keys`` and reads the screen with ``capture-pane``. It checks the bytes the server
received, the message it accepted, and what the screen shows, including that the AUTH token is
masked. Before typing the next line it waits for the reply to the last one, as a user would.
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD, TEST_USER, SmtpServer
from tests.e2e.tmux import TmuxTerminal, require_tmux

pytestmark = pytest.mark.tmux

WIDTH, HEIGHT = 140, 45
WAIT_SECONDS = 15.0
"""Upper bound of each wait, generous because a loaded machine can be slow."""
AUTO_EHLO_NAME = "console.example"
"""The name the console sends with its own EHLO (``--ehlo``)."""
TYPED_EHLO_NAME = "tester.example"

TOKEN = base64.b64encode(f"\0{TEST_USER}\0{TEST_PASSWORD}".encode()).decode("ascii")
"""The AUTH PLAIN initial response: base64 of an empty authorization identity, user and password."""
MASKED_AUTH_LINE = "C: AUTH PLAIN ********"

HEADER_LINES = ("From: a@example.com", "To: b@example.com", "Subject: Typed in tmux")
BODY_LINES = ("Hello from a real terminal.", "..starts with a dot", "Last line.")
"""Body lines as typed: in the raw line the user doubles a leading dot by hand."""
EXPECTED_CONTENT = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Typed in tmux\r\n\r\n"
    b"Hello from a real terminal.\r\n.starts with a dot\r\nLast line.\r\n"
)
"""The message as the server stores it, after it has removed the doubled dot."""

SCROLLBAR_CHARACTERS = " ▁▂▃▄▅▆▇█▉"


def smtpconsole_command() -> Path:
    """Return the ``smtpconsole`` script installed beside the running Python."""
    path = Path(sys.executable).parent / "smtpconsole"
    if not path.exists():
        pytest.fail(f"{path} does not exist: install the package with pip install -e .")
    return path


def pane_lines(screen: str) -> list[str]:
    """Return the text of the protocol pane's rows: the first box of the screen, top left."""
    lines: list[str] = []
    rows = screen.splitlines()
    top = next((index for index, row in enumerate(rows) if row.startswith("╭")), len(rows))
    for row in rows[top + 1 :]:
        if not row.startswith("│"):
            break
        text = row[1:].split("│", 1)[0]
        lines.append(text.rstrip(SCROLLBAR_CHARACTERS))
    return lines


def shows_reply_after(screen: str, sent: str, reply: str) -> bool:
    """Return True when a pane line starts with ``sent`` and a later one with ``reply``."""
    lines = pane_lines(screen)
    sent_rows = [index for index, line in enumerate(lines) if line.startswith(sent)]
    return bool(sent_rows) and any(line.startswith(reply) for line in lines[sent_rows[-1] + 1 :])


class ConsoleDriver:
    """The console in tmux and the server it talks to, with waits on both sides."""

    def __init__(self, terminal: TmuxTerminal, server: SmtpServer) -> None:
        self.terminal = terminal
        self.server = server
        self.expected = bytearray()
        """Every byte the server should have received so far, in order."""
        self.screens: list[str] = []
        """Screens captured while ``watch_screens`` is set, to check the token is absent."""
        self.watch_screens = False

    def wait(
        self, condition: Callable[[str], bool], what: str, timeout: float = WAIT_SECONDS
    ) -> str:
        """Return the screen once ``condition(screen)`` holds; fail with the screen otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.terminal.screen()
            if self.watch_screens:
                self.screens.append(screen)
            if condition(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(
                    f"timed out after {timeout} s waiting for {what}; "
                    f"tmux pane {self.pane_size()}, screen:\n{screen}"
                )
            time.sleep(0.1)

    def pane_size(self) -> str:
        result = subprocess.run(
            [
                self.terminal.tmux,
                "display-message",
                "-p",
                "-t",
                self.terminal.name,
                "#{pane_width}x#{pane_height}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or result.stderr.strip()

    def type_line(self, line: str) -> None:
        """Type ``line`` and Enter, then wait until the server has received it with CRLF.

        The server must have received exactly the lines typed so far, in order, and nothing else.
        """
        self.terminal.type_line(line)
        self.expected += line.encode() + b"\r\n"
        deadline = time.monotonic() + WAIT_SECONDS
        while bytes(self.server.received) != self.expected:
            if time.monotonic() > deadline:
                pytest.fail(
                    f"after typing {line!r} the server received:\n{bytes(self.server.received)!r}"
                    f"\nand not:\n{bytes(self.expected)!r}"
                )
            time.sleep(0.05)

    def wait_reply(self, pattern: str, status: str) -> str:
        """Wait for a reply in the Last reply panel and for ``status`` in the status bar."""
        regex = re.compile(rf"^│ {pattern}", re.MULTILINE)
        return self.wait(
            lambda screen: regex.search(screen) is not None and status in screen.splitlines()[-2],
            f"Last reply {pattern!r} and {status!r} in the status bar",
        )

    def command(self, line: str, reply: str, status: str) -> str:
        """Type a command, then wait for its reply and the status bar that follows it."""
        self.type_line(line)
        return self.wait_reply(reply, status)


@pytest.fixture
def open_console(
    start_smtp_server: Callable[..., SmtpServer], tmp_path: Path
) -> Iterator[Callable[..., ConsoleDriver]]:
    """Return a function that starts a server and the console on it in tmux; closes both after."""
    require_tmux()
    terminals: list[TmuxTerminal] = []

    def open_(*options: str) -> ConsoleDriver:
        server = start_smtp_server()
        command = [
            str(smtpconsole_command()),
            f"{server.host}:{server.port}",
            "--starttls",
            "--ca-file",
            str(server.ca_file),
            "--ehlo",
            AUTO_EHLO_NAME,
            "--timeout",
            "10",
            *options,
        ]
        # Profiles, history and exports stay inside the test's folder.
        env = {
            name: str(tmp_path) for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
        }
        terminal = TmuxTerminal(command, width=WIDTH, height=HEIGHT, env=env)
        terminals.append(terminal)
        return ConsoleDriver(terminal, server)

    yield open_
    for terminal in terminals:
        terminal.close()


def type_authenticated_mail(console: ConsoleDriver) -> list[str]:
    """Type AUTH, MAIL, RCPT, DATA, the message and QUIT, each after the reply to the last.

    Returns:
        The screens captured from the AUTH line until its reply.
    """
    console.watch_screens = True
    console.command(f"AUTH PLAIN {TOKEN}", r"235 2\.7\.0 ", "│ authenticated │")
    auth_screens, console.screens = console.screens, []
    console.command("MAIL FROM:<a@example.com>", "250 ", " MAIL │")
    console.command("RCPT TO:<b@example.com>", "250 ", " RCPT │")
    console.command("DATA", "354 ", " DATA │")
    for line in (*HEADER_LINES, "", *BODY_LINES):
        console.type_line(line)
    console.command(".", r"250 2\.0\.0 ", " READY │")
    console.command("QUIT", "221 ", " CLOSED │")
    return auth_screens


def check_outcome(console: ConsoleDriver, auth_screens: Sequence[str]) -> None:
    """Check the bytes received, the message accepted and the screen after QUIT."""
    received = bytes(console.server.received)
    assert received == bytes(console.expected)
    assert b"RCPT TO:<b@example.com>\r\n" in received
    assert b"\r\n..starts with a dot\r\n" in received

    [envelope] = console.server.messages
    assert envelope.mail_from == "a@example.com"
    assert envelope.rcpt_tos == ["b@example.com"]
    assert envelope.content == EXPECTED_CONTENT

    # Until Enter is pressed the token is in the input line, as typed. The pane must never show it.
    assert not [screen for screen in auth_screens if TOKEN in "\n".join(pane_lines(screen))]
    assert not [screen for screen in console.screens if TOKEN in screen]

    # Ctrl+O focuses the pane (its footer offers Copy line) and End brings it to the newest line.
    console.terminal.send_keys("C-o")
    console.wait(lambda screen: " c Copy line " in screen, "the pane to take the focus")
    console.terminal.send_keys("End")
    screen = console.wait(
        lambda screen: shows_reply_after(screen, "C: QUIT", "S: 221 "), "221 after QUIT in the pane"
    )
    assert any(MASKED_AUTH_LINE in shown for shown in [*auth_screens, screen])
    lines = pane_lines(screen)
    for line in ("S: 354 ", *(f"C: {line}" for line in BODY_LINES), "C: .", "S: 250 2.0.0 "):
        assert any(pane_line.startswith(line) for pane_line in lines), f"{line!r} not in the pane"
    assert TOKEN not in screen


def quit_console(console: ConsoleDriver) -> None:
    console.terminal.send_keys("C-q")
    console.wait(lambda screen: "[exited 0]" in screen, "the console to exit with 0")


def test_typed_dialogue_after_automatic_starttls(
    open_console: Callable[..., ConsoleDriver],
) -> None:
    console = open_console()
    console.expected += f"EHLO {AUTO_EHLO_NAME}\r\nSTARTTLS\r\nEHLO {AUTO_EHLO_NAME}\r\n".encode()
    console.wait(
        lambda screen: (
            bytes(console.server.received) == console.expected
            and " verified │" in screen
            and " READY │" in screen
        ),
        "the automatic EHLO, STARTTLS and EHLO",
    )
    # The reply to this EHLO looks like the reply to the automatic one, so the wait ends once the
    # server has the line.
    console.command(f"EHLO {TYPED_EHLO_NAME}", "250 ", " READY │")
    auth_screens = type_authenticated_mail(console)
    check_outcome(console, auth_screens)
    quit_console(console)


def test_manual_dialogue_with_typed_starttls(open_console: Callable[..., ConsoleDriver]) -> None:
    console = open_console("--manual")
    console.wait(lambda screen: "│ 220 " in screen, "the greeting")
    console.command(f"EHLO {TYPED_EHLO_NAME}", "250 ", " READY │")
    console.command("STARTTLS", "220 ", " verified │")
    console.command(f"EHLO {TYPED_EHLO_NAME}", "250 ", " READY │")
    auth_screens = type_authenticated_mail(console)
    check_outcome(console, auth_screens)
    quit_console(console)


def test_pane_follows_dialogue_without_keys(
    open_console: Callable[..., ConsoleDriver],
) -> None:
    console = open_console("--manual")
    console.wait(lambda screen: "│ 220 " in screen, "the greeting")
    console.command(f"EHLO {TYPED_EHLO_NAME}", "250 ", " READY │")
    console.command("MAIL FROM:<a@example.com>", "250 ", " MAIL │")
    console.command("RCPT TO:<b@example.com>", "250 ", " RCPT │")
    console.command("DATA", "354 ", " DATA │")
    for line in (*HEADER_LINES, "", *BODY_LINES):
        console.type_line(line)
    console.command(".", r"250 2\.0\.0 ", " READY │")
    console.command("QUIT", "221 ", " CLOSED │")
    # The Last reply panel already shows the 221, so 3 s is ample time for the pane to show it.
    console.wait(
        lambda screen: shows_reply_after(screen, "C: QUIT", "S: 221 "),
        "221 after QUIT in the pane",
        timeout=3.0,
    )


def test_lines_typed_ahead_keep_their_order(
    open_console: Callable[..., ConsoleDriver],
) -> None:
    console = open_console()
    console.expected += f"EHLO {AUTO_EHLO_NAME}\r\nSTARTTLS\r\nEHLO {AUTO_EHLO_NAME}\r\n".encode()
    console.wait(
        lambda screen: bytes(console.server.received) == console.expected and " READY │" in screen,
        "the automatic EHLO, STARTTLS and EHLO",
    )
    console.command(f"AUTH PLAIN {TOKEN}", r"235 2\.7\.0 ", "│ authenticated │")
    console.command("MAIL FROM:<a@example.com>", "250 ", " MAIL │")
    console.command("RCPT TO:<b@example.com>", "250 ", " RCPT │")
    console.command("DATA", "354 ", " DATA │")

    # No wait between the lines: Enter must not fall behind the keys typed after it.
    typed = ("Subject: order", "", "body 1", "", "body 2")
    for line in typed:
        console.terminal.type_line(line)
    console.expected += b"".join(line.encode() + b"\r\n" for line in typed)
    console.type_line(".")

    assert console.server.messages[-1].content.endswith(b"body 1\r\n\r\nbody 2\r\n")
