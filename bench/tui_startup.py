"""Benchmark the Textual console: start-up time against a bare Textual app, and a 100,000-line flood.

1. Start-up: time from process start to the first screen, for ``smtpconsole 127.0.0.1:PORT
   --starttls --ca-file CA`` against an aiosmtpd server started here, and for a bare Textual app of
   the same shape (header, log, input, footer). Each runs in a pseudo-terminal of 120x40; the first
   screen counts as shown when the input's placeholder text reaches the terminal. Runs of the two
   alternate, one warm-up run each is not counted, and the median of ``--runs`` runs is printed
   with the ratio.
2. Flood: ``--lines`` lines (half commands, half replies) appended to the protocol pane through the
   same event path the session uses, in a headless app, while a key is sent to the raw input every
   ``--key-interval-ms``. Prints the time until the pane contains every line, and the input echo
   latency: from posting the key event to the character being in the input's value.

Run from the repository root: ``.venv/bin/python bench/tui_startup.py``. Child processes get a
bytecode cache under a temporary folder (``PYTHONPYCACHEPREFIX``), as an installed package has.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import pty
import select
import signal
import socket
import ssl
import statistics
import struct
import subprocess
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
MARKER = b"an SMTP line"
"""Part of the raw input's placeholder; both apps show the same one."""
TERMINAL_COLUMNS, TERMINAL_ROWS = 120, 40
START_TIMEOUT_SECONDS = 20.0

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header, Input, Log


class Bare(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield Log()
        yield Input(placeholder="Type an SMTP line, e.g. EHLO client.example")
        yield Footer()


Bare().run()
"""


@contextlib.contextmanager
def smtp_server() -> Iterator[tuple[int, str]]:
    """Run aiosmtpd with STARTTLS on 127.0.0.1 with a trustme CA; yield the port and CA file."""
    import trustme
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    # Killing a client mid-handshake makes aiosmtpd log a traceback; the benchmark does that often.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with tempfile.TemporaryDirectory() as folder:
        ca_file = Path(folder) / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        port = _free_port()
        controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            server_hostname="127.0.0.1",
        )
        controller.start()
        try:
            yield port, str(ca_file)
        finally:
            controller.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _set_window_size(fd: int) -> None:
    size = struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, size)


def time_to_first_screen(command: list[str], env: dict[str, str]) -> float:
    """Start ``command`` in a pseudo-terminal; return seconds until ``MARKER`` is printed."""
    main_fd, child_fd = pty.openpty()
    _set_window_size(child_fd)
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        env=env,
        start_new_session=True,
        cwd=ROOT,
    )
    os.close(child_fd)
    seen = b""
    try:
        while MARKER not in seen:
            if time.perf_counter() - started > START_TIMEOUT_SECONDS:
                raise RuntimeError(f"no first screen after {START_TIMEOUT_SECONDS} s: {command}")
            ready, _, _ = select.select([main_fd], [], [], 0.5)
            if ready:
                seen = (seen + os.read(main_fd, 65536))[-4096:]
        return time.perf_counter() - started
    finally:
        _stop(process, main_fd)


def _stop(process: subprocess.Popen[bytes], main_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.write(main_fd, b"\x11")  # Ctrl+Q quits both apps.
    deadline = time.monotonic() + 5
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if select.select([main_fd], [], [], 0.1)[0]:
                os.read(main_fd, 65536)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    os.close(main_fd)


def startup_benchmark(runs: int) -> None:
    with tempfile.TemporaryDirectory() as cache, smtp_server() as (port, ca_file):
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "TERM": "xterm-256color"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bare_script = Path(cache) / "bare_app.py"
        bare_script.write_text(BARE_APP)
        console = [
            str(PYTHON),
            "-m",
            "smtpconsole",
            f"127.0.0.1:{port}",
            "--starttls",
            "--ca-file",
            ca_file,
        ]
        bare = [str(PYTHON), str(bare_script)]
        for command in (console, bare):
            time_to_first_screen(command, env)  # warm-up: fills the bytecode cache
        console_times: list[float] = []
        bare_times: list[float] = []
        for _ in range(runs):
            console_times.append(time_to_first_screen(console, env))
            bare_times.append(time_to_first_screen(bare, env))
    console_median = statistics.median(console_times)
    bare_median = statistics.median(bare_times)
    print(f"Start-up to first screen, median of {runs} runs ({TERMINAL_COLUMNS}x{TERMINAL_ROWS}):")
    print(
        f"  smtpconsole (STARTTLS target): {console_median * 1000:7.1f} ms "
        f"(min {min(console_times) * 1000:.1f}, max {max(console_times) * 1000:.1f})"
    )
    print(
        f"  bare Textual app             : {bare_median * 1000:7.1f} ms "
        f"(min {min(bare_times) * 1000:.1f}, max {max(bare_times) * 1000:.1f})"
    )
    print(f"  ratio                        : {console_median / bare_median:.2f}")


async def flood_benchmark(line_count: int, key_interval: float) -> None:
    from textual import events

    from smtpconsole import transcript
    from smtpconsole.options import ConnectOptions, ConsoleOptions
    from smtpconsole.protocol.replies import Reply
    from smtpconsole.tui.app import create_app
    from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
    from smtpconsole.tui.widgets.raw_input import RawInput

    app = create_app(ConsoleOptions(ConnectOptions("127.0.0.1", 25)), autoconnect=False)
    reply = Reply(250, ("2.0.0 Ok",), b"250 2.0.0 Ok\r\n", "2.0.0")
    async with app.run_test(size=(TERMINAL_COLUMNS, TERMINAL_ROWS)) as pilot:
        screen = app.main_screen
        assert screen is not None and screen.controller is not None
        pane = screen.query_one(ProtocolPane)
        raw_input = screen.query_one(RawInput)
        raw_input.focus()
        latencies: list[float] = []
        done = asyncio.Event()

        async def type_keys() -> None:
            while not done.is_set():
                before = raw_input.value
                sent = time.perf_counter()
                raw_input.post_message(events.Key("x", "x"))
                while raw_input.value == before:
                    await asyncio.sleep(0.0005)
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(key_interval)

        typing = asyncio.create_task(type_keys())
        started = time.perf_counter()
        chunk = 500
        for first in range(0, line_count, chunk):
            batch: list[transcript.Event] = []
            for number in range(first, min(first + chunk, line_count)):
                if number % 2:
                    batch.append(transcript.ReplyReceived(reply, latency=0.001))
                else:
                    batch.append(transcript.LineSent(b"NOOP\r\n", "typed"))
            screen.controller.add_events(batch)
            await asyncio.sleep(0)
        while pane.line_count < min(line_count, pane.max_lines or line_count):
            await asyncio.sleep(0.005)
        await pilot.pause()
        elapsed = time.perf_counter() - started
        done.set()
        await typing
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if len(latencies) >= 20 else latencies[-1]
    print(
        f"Flood of {line_count} lines into the pane (headless, {TERMINAL_COLUMNS}x{TERMINAL_ROWS}):"
    )
    print(
        f"  time until every line is in the pane: {elapsed * 1000:.0f} ms "
        f"({line_count / elapsed:,.0f} lines/s)"
    )
    print(
        f"  input echo latency over {len(latencies)} keys: median "
        f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="start-up runs of each app")
    parser.add_argument("--lines", type=int, default=100_000, help="lines in the flood")
    parser.add_argument(
        "--key-interval-ms",
        type=float,
        default=20.0,
        help="pause between keys typed during the flood, in milliseconds",
    )
    parser.add_argument("--skip-startup", action="store_true", help="run only the flood")
    args = parser.parse_args()
    if not args.skip_startup:
        startup_benchmark(args.runs)
    asyncio.run(flood_benchmark(args.lines, args.key_interval_ms / 1000))


if __name__ == "__main__":
    main()
