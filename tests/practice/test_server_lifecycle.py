"""PracticeServer start and stop, its certificate, its mailbox and its subscribers."""

from __future__ import annotations

import smtplib
import socket
import ssl
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from smtpconsole.errors import UsageError
from smtpconsole.practice.certificate import create_certificate
from smtpconsole.practice.mailbox import Mailbox, StoredMessage
from smtpconsole.practice.server import PracticeServer

from .conftest import MESSAGE, client_context, logged_in


def test_certificate_names_localhost_and_ip(practice: PracticeServer) -> None:
    certificate = x509.load_pem_x509_certificate(practice.ca_file.read_bytes())
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]


def test_key_file_readable_by_owner_only(tmp_path: Path) -> None:
    files = create_certificate(tmp_path)
    assert stat.S_IMODE(files.key_file.stat().st_mode) == 0o600


def test_key_file_deleted_once_listening(practice: PracticeServer) -> None:
    assert not practice.certificate.key_file.exists()
    assert practice.ca_file.exists()


@pytest.mark.parametrize("server_name", ["localhost", "127.0.0.1"])
def test_tls_verifies_against_ca_file(practice: PracticeServer, server_name: str) -> None:
    with socket.create_connection((practice.host, practice.port), timeout=5) as sock:
        sock.recv(1024)
        sock.sendall(b"EHLO client.example\r\nSTARTTLS\r\n")
        received = b""
        while b"220 Ready" not in received:
            received += sock.recv(1024)
        context = client_context(practice)
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_system_store_rejects_certificate(practice: PracticeServer) -> None:
    with socket.create_connection((practice.host, practice.port), timeout=5) as sock:
        sock.recv(1024)
        sock.sendall(b"STARTTLS\r\n")
        sock.recv(1024)
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(sock, server_hostname="localhost")


def test_each_start_makes_new_certificate(
    start_practice: Callable[..., PracticeServer],
) -> None:
    first = start_practice()
    second = start_practice()
    assert first.certificate.sha256_fingerprint != second.certificate.sha256_fingerprint
    assert first.password != second.password


def test_stop_removes_files_and_port(start_practice: Callable[..., PracticeServer]) -> None:
    server = start_practice()
    folder = server.ca_file.parent
    server.stop()
    assert not folder.exists()
    with pytest.raises(OSError), socket.create_connection((server.host, server.port), 1):
        pass


def test_given_port_is_used() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with PracticeServer(port) as server:
        assert server.port == port
        assert socket.create_connection(("127.0.0.1", port), 2).recv(3) == b"220"


def test_port_in_use_raises_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = PracticeServer(busy.getsockname()[1])
        with pytest.raises(UsageError, match="in use"):
            server.start()
    assert not server.running


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com"])
def test_non_loopback_host_rejected(host: str) -> None:
    with pytest.raises(UsageError, match="not a loopback address"):
        PracticeServer(host=host)


def test_ipv6_loopback_with_tls() -> None:
    try:
        server = PracticeServer(host="::1")
        server.start()
    except OSError as error:
        pytest.skip(f"IPv6 loopback not available: {error}")
    try:
        client = smtplib.SMTP("::1", server.port, local_hostname="client.example", timeout=5)
        context = client_context(server)
        assert client.starttls(context=context)[0] == 220
        assert client.login(server.user, server.password)[0] == 235
        client.close()
    finally:
        server.stop()


def test_ca_file_before_start_raises() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = PracticeServer().ca_file


def test_subscriber_gets_each_message(practice: PracticeServer) -> None:
    received: list[StoredMessage] = []
    threads: list[threading.Thread] = []

    def on_message(message: StoredMessage) -> None:
        received.append(message)
        threads.append(threading.current_thread())

    unsubscribe = practice.subscribe(on_message)
    client = logged_in(practice)
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    unsubscribe()
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    client.close()
    assert len(received) == 1
    assert threads[0] is not threading.main_thread()
    assert len(practice.mailbox) == 2


def test_failing_subscriber_does_not_reject_mail(practice: PracticeServer) -> None:
    def broken(message: StoredMessage) -> None:
        raise RuntimeError("front end bug")

    practice.subscribe(broken)
    client = logged_in(practice)
    client.sendmail("sender@example.com", ["friend@example.net"], MESSAGE)
    client.close()
    assert len(practice.mailbox) == 1


def _stored(number: int) -> StoredMessage:
    return StoredMessage(
        message_id=str(number),
        mail_from="a@example.com",
        rcpt_to=("b@example.net",),
        raw=b"Subject: n\r\n\r\n",
        peer="127.0.0.1:1",
        username=None,
        tls=False,
    )


def test_mailbox_keeps_newest_messages() -> None:
    mailbox = Mailbox(max_messages=3)
    for number in range(5):
        mailbox.add(_stored(number))
    assert [message.message_id for message in mailbox.messages()] == ["2", "3", "4"]


def test_mailbox_adds_from_threads() -> None:
    mailbox = Mailbox(max_messages=1000)

    def add_hundred() -> None:
        for number in range(100):
            mailbox.add(_stored(number))

    workers = [threading.Thread(target=add_hundred) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(mailbox) == 400


def test_summary_names_envelope_and_subject() -> None:
    assert _stored(7).summary() == "7: a@example.com -> b@example.net, subject 'n', 14 bytes"


def test_console_options_trust_ca_file(practice: PracticeServer) -> None:
    options = practice.console_options(password_env="PRACTICE_PW")
    assert options.connect.port == practice.port
    assert options.connect.security == "starttls"
    assert options.connect.tls.ca_file == str(practice.ca_file)
    assert options.connect.tls.verify is True
    assert options.auth.username == practice.user
    assert options.auth.password_env == "PRACTICE_PW"
    assert options.mail_from == "sender@example.com"
