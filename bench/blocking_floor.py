"""The fastest a Python client can deliver the benchmark's message: blocking sockets, no checks.

Not a client to use: it reads each reply's last line only, checks no code, verifies nothing but the
certificate and prints nothing but the reply to the message. ``send_vs_swaks.py`` times it next to
``smtpconsole send`` to show how much of the time any Python client pays before its own code runs.

Usage: python bench/blocking_floor.py HOST PORT CA_FILE TLS_NAME USER (password in BENCH_SMTP_PASSWORD)
"""

from __future__ import annotations

import base64
import io
import os
import socket
import ssl
import sys


def last_line(stream: io.BufferedReader) -> bytes:
    while True:
        line = stream.readline()
        if line[3:4] != b"-":
            return line


def command(sock: socket.socket, stream: io.BufferedReader, line: bytes) -> bytes:
    sock.sendall(line + b"\r\n")
    return last_line(stream)


def main() -> None:
    host, port, ca_file, tls_name, user = sys.argv[1:6]
    password = os.environ["BENCH_SMTP_PASSWORD"]
    address = f"{user}@{tls_name}".encode()
    plain = socket.create_connection((host, int(port)))
    stream = plain.makefile("rb")
    last_line(stream)
    command(plain, stream, b"EHLO bench.localhost")
    command(plain, stream, b"STARTTLS")
    context = ssl.create_default_context(cafile=ca_file)
    sock = context.wrap_socket(plain, server_hostname=tls_name)
    stream = sock.makefile("rb")
    command(sock, stream, b"EHLO bench.localhost")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
    command(sock, stream, b"AUTH PLAIN " + token)
    command(sock, stream, b"MAIL FROM:<" + address + b">")
    command(sock, stream, b"RCPT TO:<" + address + b">")
    command(sock, stream, b"DATA")
    sys.stdout.buffer.write(command(sock, stream, b"Subject: bench\r\n\r\nbench\r\n."))
    command(sock, stream, b"QUIT")


main()
