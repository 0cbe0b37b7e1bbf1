"""Benchmark ``smtpconsole send`` against swaks and ``openssl s_client`` on the local Postfix peer.

Three measurements, each printed as a table:

1. Wall time of one STARTTLS + AUTH PLAIN + one-message delivery to Postfix on 127.0.0.1:2525,
   median over ``--runs`` runs of each client, interleaved so that load changes hit all alike.
2. Wall time and peak memory (maximum resident set size) of sending a 20 MB message to an aiosmtpd
   server started here with a 64 MB limit, because Postfix on the peer stops at 10 MB.
3. Round trips of the same delivery through a TCP proxy on 127.0.0.1 that delays every chunk by
   ``--delay-ms`` in each direction, with and without PIPELINING (RFC 2920). A round trip is counted
   each time the client sends after it has received something since its last send.

Run from the repository root: ``.venv/bin/python bench/send_vs_swaks.py``. Child Python processes
get a bytecode cache under a temporary folder (``PYTHONPYCACHEPREFIX``), as an installed package
has, even when ``PYTHONDONTWRITEBYTECODE`` is set in the calling shell.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMTPCONSOLE = ROOT / ".venv" / "bin" / "smtpconsole"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SWAKS = "/usr/bin/swaks"
OPENSSL = shutil.which("openssl") or "openssl"


@dataclass(frozen=True)
class Peer:
    """The Postfix peer: STARTTLS on ``port``, AUTH PLAIN for ``user``."""

    host: str = "127.0.0.1"
    port: int = 2525
    ca_file: str = "/tmp/smtp-peer/ca.crt"
    tls_name: str = "mail.test"
    user: str = "tester"
    password: str = "s3cret-pass"

    @property
    def address(self) -> str:
        return f"{self.user}@{self.tls_name}"


def child_environment(cache: Path, peer: Peer) -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = str(cache)
    environment["BENCH_SMTP_PASSWORD"] = peer.password
    return environment


def send_command(peer: Peer, port: int, *extra: str) -> list[str]:
    return [
        str(SMTPCONSOLE), "send", f"{peer.host}:{port}", "--starttls",
        "--ca-file", peer.ca_file, "--sni", peer.tls_name,
        "--user", peer.user, "--password-env", "BENCH_SMTP_PASSWORD", "--auth", "PLAIN",
        "--from", peer.address, "--to", peer.address, "--subject", "bench", "--body", "bench",
        *extra,
    ]  # fmt: skip


def swaks_command(peer: Peer, port: int, *extra: str) -> list[str]:
    return [
        SWAKS, "--server", f"{peer.host}:{port}", "--tls", "--tls-verify",
        "--tls-ca-path", peer.ca_file, "--tls-sni", peer.tls_name,
        "--auth", "PLAIN", "--auth-user", peer.user, "--auth-password", peer.password,
        "--from", peer.address, "--to", peer.address,
        "--header", "Subject: bench", "--body", "bench", *extra,
    ]  # fmt: skip


def openssl_command(peer: Peer, port: int) -> list[str]:
    return [
        OPENSSL, "s_client", "-starttls", "smtp", "-connect", f"{peer.host}:{port}",
        "-CAfile", peer.ca_file, "-servername", peer.tls_name, "-verify_return_error",
        "-quiet", "-ign_eof",
    ]  # fmt: skip


def openssl_input(peer: Peer) -> bytes:
    """Return the dialogue after STARTTLS, written ahead of time as ``openssl s_client`` users do."""
    token = base64.b64encode(f"\0{peer.user}\0{peer.password}".encode()).decode()
    lines = [
        "EHLO bench.localhost", f"AUTH PLAIN {token}",
        f"MAIL FROM:<{peer.address}>", f"RCPT TO:<{peer.address}>", "DATA",
        "Subject: bench", "", "bench", ".", "QUIT",
    ]  # fmt: skip
    return "".join(line + "\r\n" for line in lines).encode()


@dataclass
class Client:
    """One client to time: its command, its stdin, and how to tell that it delivered."""

    name: str
    command: list[str]
    stdin: bytes | None = None
    success_marker: bytes | None = None
    times: list[float] = field(default_factory=list)

    def run_once(self, environment: dict[str, str]) -> float:
        started = time.perf_counter()
        result = subprocess.run(
            self.command, input=self.stdin, capture_output=True, env=environment, timeout=60
        )
        elapsed = time.perf_counter() - started
        delivered = result.returncode == 0 and (
            self.success_marker is None or self.success_marker in result.stdout
        )
        if not delivered:
            sys.exit(
                f"{self.name} failed (exit {result.returncode}):\n"
                f"{result.stdout.decode(errors='replace')[-2000:]}\n"
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )
        return elapsed


def bench_wall_time(peer: Peer, runs: int, environment: dict[str, str]) -> None:
    clients = [
        Client("smtpconsole send", send_command(peer, peer.port)),
        Client("swaks", swaks_command(peer, peer.port)),
        Client("smtpconsole send --bdat", send_command(peer, peer.port, "--bdat")),
        Client(
            "openssl s_client < file",
            openssl_command(peer, peer.port),
            stdin=openssl_input(peer),
            success_marker=b"250 2.0.0 Ok: queued",
        ),
        Client(
            "blocking-socket floor",
            [
                PYTHON,
                str(ROOT / "bench" / "blocking_floor.py"),
                peer.host,
                str(peer.port),
                peer.ca_file,
                peer.tls_name,
                peer.user,
            ],
            success_marker=b"250 2.0.0 Ok: queued",
        ),  # fmt: skip
        # Not clients: the start-up cost that any asyncio client in this Python pays, and that
        # of a client with blocking sockets.
        Client("python -c 'import asyncio, ssl'", [PYTHON, "-c", "import asyncio, ssl"]),
        Client("python -c 'import socket, ssl'", [PYTHON, "-c", "import socket, ssl"]),
    ]
    for client in clients:
        client.run_once(environment)  # warm-up: fills the bytecode cache and the OS caches
    for _ in range(runs):
        for client in clients:
            client.times.append(client.run_once(environment))
    swaks = statistics.median(next(c for c in clients if c.name == "swaks").times)
    print(f"\n1. STARTTLS + AUTH PLAIN + 1 message to Postfix, {runs} runs each (seconds)")
    print(f"{'client':<32}{'median':>9}{'min':>9}{'max':>9}{'/ swaks':>9}")
    for client in clients:
        median = statistics.median(client.times)
        print(
            f"{client.name:<32}{median:>9.3f}{min(client.times):>9.3f}"
            f"{max(client.times):>9.3f}{median / swaks:>9.2f}"
        )


# --- 2. A 20 MB message to aiosmtpd -------------------------------------------------------------


class CountingHandler:
    """aiosmtpd handler that keeps only the size of each message."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content: bytes = getattr(envelope, "original_content", None) or b""
        self.sizes.append(len(content))
        return "250 2.0.0 Ok"


@contextlib.contextmanager
def big_server(limit_bytes: int) -> Iterator[tuple[int, CountingHandler]]:
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, data_size_limit=limit_bytes)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_big_message(path: Path, size_bytes: int) -> None:
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc\r\n"
    header = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: big\r\n\r\n"
    with path.open("wb") as stream:
        stream.write(header)
        stream.write(line * ((size_bytes - len(header)) // len(line)))


def timed_child(command: list[str], environment: dict[str, str]) -> tuple[float, int, int]:
    """Run ``command``; return wall seconds, peak RSS in KiB and the exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, process.returncode


def bench_big_message(size_mb: int, environment: dict[str, str], folder: Path) -> None:
    path = folder / "big.eml"
    write_big_message(path, size_mb * 1024 * 1024)
    with big_server(64 * 1024 * 1024) as (port, handler):
        commands = {
            "smtpconsole send": [
                str(SMTPCONSOLE), "send", f"127.0.0.1:{port}", "--plain",
                "--from", "a@example.com", "--to", "b@example.com", "--data-file", str(path),
            ],
            "swaks": [
                SWAKS, "--server", f"127.0.0.1:{port}", "--from", "a@example.com",
                "--to", "b@example.com", "--data", f"@{path}",
            ],
        }  # fmt: skip
        for command in commands.values():
            timed_child(command, environment)  # warm-up: fills the bytecode cache
        print(f"\n2. One {size_mb} MB message to aiosmtpd (no TLS), stdout to /dev/null")
        print(f"{'client':<26}{'seconds':>9}{'peak RSS MiB':>14}")
        for name, command in commands.items():
            elapsed, peak_kib, code = timed_child(command, environment)
            if code != 0:
                sys.exit(f"{name} failed with exit code {code}")
            print(f"{name:<26}{elapsed:>9.2f}{peak_kib / 1024:>14.1f}")
        print(f"(server received {[round(s / 1048576, 1) for s in handler.sizes]} MB)")


# --- 3. Round trips through a latency-adding proxy ----------------------------------------------


@dataclass
class ProxyStats:
    """Counts of one proxied connection."""

    round_trips: int = 0
    last_direction: str = ""


class LatencyProxy:
    """TCP proxy on 127.0.0.1 that delays each chunk by ``delay`` seconds in each direction."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream = upstream
        self.delay = delay
        self.port = free_port()
        self.connections: list[ProxyStats] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> LatencyProxy:
        self._thread.start()
        self._ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = ProxyStats()
        self.connections.append(stats)
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        # Cancelled when the benchmark stops the proxy; the connection is over by then.
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await asyncio.gather(
                self._pump(reader, up_writer, stats, "client"),
                self._pump(up_reader, writer, stats, "server"),
            )

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stats: ProxyStats,
        direction: str,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not data:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        while True:
            data = await reader.read(65536)
            if direction == "client" and data and stats.last_direction != "client":
                stats.round_trips += 1
            if data:
                stats.last_direction = direction
            await queue.put((time.monotonic() + self.delay, data))
            if not data:
                break
        with contextlib.suppress(ConnectionError):
            await delivery


def bench_round_trips(peer: Peer, delay_ms: int, environment: dict[str, str]) -> None:
    with LatencyProxy((peer.host, peer.port), delay_ms / 1000) as proxy:
        clients = [
            Client("smtpconsole send", send_command(peer, proxy.port)),
            Client("smtpconsole send --no-pipelining",
                   send_command(peer, proxy.port, "--no-pipelining")),
            Client("smtpconsole send --bdat", send_command(peer, proxy.port, "--bdat")),
            Client("swaks", swaks_command(peer, proxy.port)),
            Client("swaks --pipeline", swaks_command(peer, proxy.port, "--pipeline")),
        ]  # fmt: skip
        for client in clients:
            client.run_once(environment)  # warm-up, as in the first measurement
        print(f"\n3. Same delivery through a proxy adding {delay_ms} ms each way")
        print(f"{'client':<34}{'round trips':>12}{'seconds':>9}")
        for client in clients:
            elapsed = client.run_once(environment)
            trips = proxy.connections[-1].round_trips
            print(f"{client.name:<34}{trips:>12}{elapsed:>9.2f}")
    print(
        "Round trips here count client sends that follow a server send, TLS handshake included;\n"
        "the TCP handshake is not counted."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per client (default 15)")
    parser.add_argument("--size-mb", type=int, default=20, help="size of the big message in MiB")
    parser.add_argument("--delay-ms", type=int, default=50, help="proxy delay each way, in ms")
    parser.add_argument(
        "--only", choices=("time", "big", "trips"), help="run one of the three measurements"
    )
    args = parser.parse_args()
    peer = Peer()
    with tempfile.TemporaryDirectory(prefix="smtpconsole-bench-") as folder:
        environment = child_environment(Path(folder) / "pycache", peer)
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
        if args.only in (None, "time"):
            bench_wall_time(peer, args.runs, environment)
        if args.only in (None, "big"):
            bench_big_message(args.size_mb, environment, Path(folder))
        if args.only in (None, "trips"):
            bench_round_trips(peer, args.delay_ms, environment)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\n(benchmark process peak RSS {own / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
