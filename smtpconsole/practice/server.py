"""The practice server: aiosmtpd in a background thread on 127.0.0.1, strict like AWS SES.

``PracticeServer`` runs beside a Textual or prompt_toolkit app, because aiosmtpd's ``Controller``
runs its own event loop in its own thread. ``serve_only`` runs the server alone in the foreground
for use with other clients such as ``openssl s_client`` and ``swaks``.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import secrets
import select
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Final, TextIO

from aiosmtpd.controller import Controller

from smtpconsole.errors import UsageError
from smtpconsole.options import (
    AuthOptions,
    ConnectOptions,
    ConsoleOptions,
    TlsOptions,
    format_target,
)
from smtpconsole.practice.certificate import CERTIFICATE_NAME, CertificateFiles, create_certificate
from smtpconsole.practice.connection import PracticeConnection, quiet_aiosmtpd_warnings
from smtpconsole.practice.mailbox import Listener, Mailbox, StoredMessage
from smtpconsole.practice.rules import (
    DEFAULT_USER,
    PracticeHandler,
    PracticeRules,
    new_session_id,
)

if TYPE_CHECKING:
    from smtpconsole.practice.lesson_types import Lesson

log = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
START_TIMEOUT_SECONDS: Final = 5.0
"""Time allowed for the server thread to bind and accept its first connection."""
PORT_ATTEMPTS: Final = 5
"""Free ports tried when another program takes the chosen one between the check and the bind."""


class _Controller(Controller):
    """aiosmtpd Controller that builds a ``PracticeConnection`` with a new session id."""

    def __init__(
        self,
        handler: PracticeHandler,
        *,
        host: str,
        port: int,
        rules: PracticeRules,
        certificate: CertificateFiles,
    ) -> None:
        super().__init__(handler, hostname=host, port=port, ready_timeout=START_TIMEOUT_SECONDS)
        self._rules = rules
        self._tls_context = certificate.server_context()

    def factory(self) -> PracticeConnection:
        return PracticeConnection(
            self.handler,
            rules=self._rules,
            tls_context=self._tls_context,
            session_id=new_session_id(),
            loop=self.loop,
        )


def _check_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise UsageError(
            f"invalid practice server address {host!r}: not a loopback address",
            "the practice server listens on 127.0.0.1 or ::1 only",
        )


def _port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # The same option asyncio's create_server sets, so a port in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _new_password() -> str:
    """Return a random password that no client reads as an option.

    token_urlsafe may start with '-', which swaks and other clients take for an option flag.
    """
    while True:
        password = secrets.token_urlsafe(18)
        if not password.startswith("-"):
            return password


class PracticeServer:
    """The practice SMTP server, started and stopped from any thread.

    Args:
        port: TCP port; a free port is picked when None.
        rules: how strict the server is; SES-like defaults.
        host: loopback address to listen on.
        user: the user name that AUTH accepts.
        password: the password that AUTH accepts; a new random one when None.
    """

    def __init__(
        self,
        port: int | None = None,
        rules: PracticeRules | None = None,
        *,
        host: str = DEFAULT_HOST,
        user: str = DEFAULT_USER,
        password: str | None = None,
    ) -> None:
        _check_loopback(host)
        self.host = host
        self.requested_port = port
        self.port = port or 0
        """Port the server listens on; set by ``start`` when a free port was requested."""
        self.rules = rules or PracticeRules()
        self.user = user
        self.password = password or _new_password()
        self.mailbox = Mailbox()
        self.lesson: Lesson | None = None
        """The lesson the front end should follow, when one was chosen."""
        self._lock = threading.Lock()
        self._controller: _Controller | None = None
        self._folder: Path | None = None
        self._certificate: CertificateFiles | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def verified_senders(self) -> tuple[str, ...]:
        """Verified identities: addresses, and domains that verify every address in them."""
        return self.rules.verified_identities

    @property
    def idle_timeout(self) -> float:
        return self.rules.idle_timeout

    @property
    def certificate(self) -> CertificateFiles:
        if self._certificate is None:
            raise RuntimeError("the practice server is not running; call start() first")
        return self._certificate

    @property
    def ca_file(self) -> Path:
        """PEM file to trust: the server's self-signed certificate."""
        return self.certificate.ca_file

    def start(self) -> None:
        """Create the certificate and start listening; does nothing when already running.

        Raises:
            UsageError: the requested port is in use.
        """
        with self._lock:
            if self._controller is not None:
                return
            self._folder = Path(tempfile.mkdtemp(prefix="smtpconsole-practice-"))
            try:
                self._certificate = create_certificate(self._folder)
                self._controller = self._start_controller(self._certificate)
            except BaseException:
                self._remove_folder()
                raise
            # The TLS context contains the key now, so the file can go. A process killed without
            # cleanup (a closed terminal sends SIGHUP) then leaves only the public certificate.
            self._certificate.key_file.unlink(missing_ok=True)
        log.info("practice server listening on %s:%d", self.host, self.port)

    def _start_controller(self, certificate: CertificateFiles) -> _Controller:
        handler = PracticeHandler(self.rules, self.mailbox, self.user, self.password)
        quiet_aiosmtpd_warnings()
        for _ in range(PORT_ATTEMPTS):
            port = self.requested_port or _free_port(self.host)
            if not _port_is_free(self.host, port):
                if self.requested_port:
                    raise UsageError(
                        f"port {port} on {self.host} is in use",
                        "choose another port with --port, or leave it out to use a free one",
                    )
                continue
            controller = _Controller(
                handler, host=self.host, port=port, rules=self.rules, certificate=certificate
            )
            controller.start()
            self.port = port
            return controller
        raise UsageError(f"no free port found on {self.host} after {PORT_ATTEMPTS} attempts")

    def stop(self) -> None:
        """Stop listening, close open connections and delete the certificate files."""
        with self._lock:
            controller, self._controller = self._controller, None
            if controller is not None:
                controller.stop()
                log.info("practice server on %s:%d stopped", self.host, self.port)
            self._remove_folder()
            self._certificate = None

    def _remove_folder(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def delete_files(self) -> None:
        """Delete the certificate folder without stopping the server.

        A signal handler calls this just before the process ends. It takes no lock, because the
        interrupted code may hold one.
        """
        self._remove_folder()

    def __enter__(self) -> PracticeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` in the server thread with each accepted message; return unsubscribe."""
        return self.mailbox.subscribe(listener)

    def console_options(self, password_env: str | None = None) -> ConsoleOptions:
        """Return options that connect to this server with STARTTLS, trusting only its certificate.

        The password is not part of the options: pass ``self.password`` to the session directly,
        or name an environment variable that contains it in ``password_env``.
        """
        connect = ConnectOptions(
            host=self.host,
            port=self.port,
            security="starttls",
            tls=TlsOptions(verify=True, ca_file=str(self.ca_file), sni=CERTIFICATE_NAME),
        )
        auth = AuthOptions(mechanism="PLAIN", username=self.user, password_env=password_env)
        sender = next((s for s in self.verified_senders if "@" in s), None)
        return ConsoleOptions(
            connect=connect,
            auth=auth,
            profile_name="practice",
            mail_from=sender,
            rcpt_to=("recipient@example.net",),
        )

    def _rules_summary(self) -> str:
        rules = []
        if self.rules.require_starttls:
            rules.append("STARTTLS required")
        if self.rules.require_auth:
            rules.append("AUTH required before MAIL")
        if self.rules.sandbox:
            rules.append("sandbox: recipients must be verified")
        return ", ".join(rules) or "STARTTLS and AUTH optional"

    def describe(self) -> list[str]:
        """Return the lines ``serve_only`` prints: address, files, credentials and examples."""
        target = format_target(self.host, self.port)
        ca = shlex.quote(str(self.ca_file))
        sender = next((s for s in self.verified_senders if "@" in s), "sender@example.com")
        return [
            f"Practice SMTP server listening on {target} ({self._rules_summary()})",
            f"  CA file:           {self.ca_file}",
            f"  Certificate:       {CERTIFICATE_NAME}, SHA-256 {self.certificate.sha256_fingerprint}",
            f"  User:              {self.user}",
            f"  Password:          {self.password}",
            f"  Verified senders:  {', '.join(self.verified_senders)}",
            f"  Idle timeout:      {self.idle_timeout:g} s",
            "Try it:",
            f"  smtpconsole {target} --starttls --ca-file {ca} --user {shlex.quote(self.user)}",
            f"  openssl s_client -starttls smtp -crlf -connect {target} -CAfile {ca}",
            f"  swaks --server {target} --tls --tls-verify --tls-ca-path {ca}"
            f" --auth PLAIN --auth-user {shlex.quote(self.user)}"
            f" --auth-password {shlex.quote(self.password)}"
            f" --from {sender} --to recipient@example.net",
        ]


class _Output:
    """Printer of serve_only's lines, which stops the server once the reader has gone (``| head -1``)."""

    def __init__(self, stream: TextIO, stop: threading.Event) -> None:
        self.stream = stream
        self.broken = False
        self._stop = stop
        self._lock = threading.Lock()

    def write_lines(self, *lines: str) -> None:
        with self._lock:
            if self.broken:
                return
            try:
                for line in lines:
                    print(line, file=self.stream, flush=True)
            except BrokenPipeError:
                self.broken = True
                self._stop.set()

    def check_reader(self) -> None:
        """Mark the output broken when it is a pipe whose reader has exited (POLLERR on Linux)."""
        if self.broken or not hasattr(select, "poll"):
            return
        try:
            poller = select.poll()
            poller.register(self.stream.fileno(), select.POLLOUT)
            events = poller.poll(0)
        except (OSError, ValueError, AttributeError):
            return
        if any(mask & select.POLLERR for _, mask in events):
            self.broken = True
            self._stop.set()

    def print_message(self, message: StoredMessage) -> None:
        warnings = [f"  warning: {warning}" for warning in message.warnings]
        self.write_lines(f"Accepted {message.summary()}", *warnings)

    def detach_broken_stdout(self) -> None:
        """Point a broken standard output at /dev/null, so the flush at exit raises nothing."""
        if not self.broken or self.stream is not sys.stdout:
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def serve_only(
    port: int | None,
    idle_timeout: float,
    *,
    rules: PracticeRules | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the practice server in the foreground until Ctrl-C, SIGTERM or SIGHUP; return 0.

    When standard output is closed by its reader (``serve-only | head -1``), the server stops too,
    quietly, and still returns 0.

    Args:
        port: TCP port; a free one when None.
        idle_timeout: seconds of client silence before 421; replaces the one in ``rules``.
        rules: server rules; SES-like defaults when None.
        out: where to print; standard output when None.

    Raises:
        UsageError: the port is in use.
    """
    server_rules = replace(rules or PracticeRules(), idle_timeout=idle_timeout)
    server = PracticeServer(port, server_rules)
    stop = threading.Event()
    output = _Output(out or sys.stdout, stop)
    server.subscribe(output.print_message)
    server.start()
    restore = _install_stop_handlers(stop)
    try:
        output.write_lines(*server.describe(), "Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            output.check_reader()
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        server.stop()
    output.write_lines(f"Practice server stopped; {len(server.mailbox)} message(s) accepted.")
    output.detach_broken_stdout()
    return 0


def delete_files_on_signals(server: PracticeServer) -> Callable[[], None]:
    """Make SIGHUP and SIGTERM delete the server's certificate folder before they end the process.

    The handler then ends the process as the signal's default action does. The console front
    ends run the server in this process, and neither Textual nor prompt_toolkit handles these
    signals, so a closed terminal (SIGHUP) would otherwise leave the certificate folder behind.

    Returns:
        A function that restores the previous handlers.
    """

    def handle(signum: int, frame: FrameType | None) -> None:
        server.delete_files()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    return _install_handlers([signal.SIGTERM], handle)


def _install_stop_handlers(stop: threading.Event) -> Callable[[], None]:
    """Make SIGINT, SIGTERM and SIGHUP set ``stop``; return a function that restores the old handlers.

    SIGHUP arrives when the terminal closes; stopping on it lets the server delete its temporary
    certificate folder.
    """

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return _install_handlers([signal.SIGINT, signal.SIGTERM], handle)


def _install_handlers(
    signals: list[signal.Signals], handle: Callable[[int, FrameType | None], None]
) -> Callable[[], None]:
    """Install ``handle`` for ``signals`` and SIGHUP where it exists; return the undo function.

    Outside the main thread, where Python cannot install signal handlers, nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if hasattr(signal, "SIGHUP"):
        signals = [*signals, signal.SIGHUP]
    previous = {sig: signal.signal(sig, handle) for sig in signals}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
