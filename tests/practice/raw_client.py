"""A blocking line client for exact reply checks, parsing replies with the project's ReplyParser."""

from __future__ import annotations

import socket
import ssl

from smtpconsole.protocol.replies import CLOSED, NEED_DATA, Reply, ReplyParser


class RawClient:
    """Send lines and read whole replies over a socket, optionally upgraded with STARTTLS."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        self.parser = ReplyParser()

    def send(self, line: str | bytes) -> None:
        data = line.encode() if isinstance(line, str) else line
        self.sock.sendall(data + b"\r\n")

    def reply(self) -> Reply:
        while True:
            result = self.parser.next_reply()
            if isinstance(result, Reply):
                return result
            if result is CLOSED:
                raise ConnectionError("the server closed the connection")
            assert result is NEED_DATA
            data = self.sock.recv(65536)
            if data:
                self.parser.feed(data)
            else:
                self.parser.feed_eof()

    def command(self, line: str | bytes) -> Reply:
        self.send(line)
        return self.reply()

    def is_closed(self) -> bool:
        """Return True when the server has closed the connection (after any buffered replies)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def starttls(self, context: ssl.SSLContext, server_name: str = "localhost") -> None:
        self.sock = context.wrap_socket(self.sock, server_hostname=server_name)
        self.parser = ReplyParser()

    def close(self) -> None:
        self.sock.close()
