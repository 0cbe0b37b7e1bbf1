"""A session double that replays a fixed dialogue, for snapshots that must not change.

It uses the real ``Dialogue`` and ``Transcript``, so suggestions, advice and the pane look exactly
as with a server; only the bytes come from a script, with fixed times and no random port.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from smtpconsole import transcript
from smtpconsole.options import ConnectOptions
from smtpconsole.protocol.dialogue import Dialogue
from smtpconsole.protocol.replies import Reply, ReplyParser
from smtpconsole.tls import CertificateInfo, TlsInfo

FIXED_TIME = 1_767_225_600.0
"""2026-01-01 00:00:00 UTC: the time of the first fixed event."""

SCRIPT: tuple[tuple[str, str], ...] = (
    ("S", "220 mail.example.test ESMTP ready\r\n"),
    ("C", "EHLO client.test"),
    (
        "S",
        "250-mail.example.test greets client.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
        "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-SMTPUTF8\r\n"
        "250 AUTH PLAIN LOGIN\r\n",
    ),
    ("C", "RCPT TO:<bob@example.com>"),
    ("S", "503 5.5.1 Error: need MAIL command\r\n"),
    ("C", "MAIL FROM:<alice@example.com> SIZE=2048"),
    ("S", "250 2.1.0 Ok\r\n"),
)


def parse_reply(text: str) -> Reply:
    parser = ReplyParser()
    parser.feed(text.encode())
    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    return reply


def fixed_certificate_info(verified: bool = False) -> TlsInfo:
    leaf = CertificateInfo(
        subject="CN=mail.example.test",
        issuer="CN=Example Test CA,O=Example",
        sans=("DNS:mail.example.test", "DNS:smtp.example.test", "IP:192.0.2.25"),
        not_before=datetime(2025, 6, 1, tzinfo=UTC),
        not_after=datetime(2026, 6, 1, tzinfo=UTC),
        sha256_fingerprint=":".join(["AB", "CD", "EF", "01"] * 8),
        serial="1A2B3C4D",
    )
    issuer = CertificateInfo(
        subject="CN=Example Test CA,O=Example",
        issuer="CN=Example Test CA,O=Example",
        sans=(),
        not_before=datetime(2024, 1, 1, tzinfo=UTC),
        not_after=datetime(2034, 1, 1, tzinfo=UTC),
        sha256_fingerprint=":".join(["12", "34", "56", "78"] * 8),
        serial="01",
    )
    return TlsInfo(
        version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        verified=verified,
        verify_error=None if verified else "unable to get local issuer certificate",
        server_name="mail.example.test",
        chain=(leaf, issuer),
        chain_complete=True,
    )


class FixedSession:
    """Replays ``SCRIPT`` on ``connect``; sending anything later only records the line."""

    def __init__(self, options: ConnectOptions, script: Sequence[tuple[str, str]] = SCRIPT) -> None:
        self.options = options
        self.script = script
        self.transcript = transcript.Transcript()
        self.dialogue = Dialogue()
        self.tls_info: TlsInfo | None = None
        self.insecure = False
        self.closed = False
        self.last_reply_at: float | None = None
        self.sent: list[str] = []
        self.keepalive: float | None = options.keepalive
        self._clock = FIXED_TIME

    def set_keepalive(self, seconds: float | None) -> None:
        self.keepalive = seconds if seconds and seconds > 0 else None

    def default_ehlo_name(self) -> str:
        return self.options.ehlo_name or "client.test"

    def subscribe(self, listener: Callable[[transcript.Event], None]) -> Callable[[], None]:
        return self.transcript.subscribe(listener)

    def _at(self) -> float:
        self._clock += 0.25
        return self._clock

    async def connect(self, verify: bool | None = None) -> Reply:
        options = self.options
        self.transcript.append(
            transcript.Connecting(options.host, options.port, options.security, at=self._at())
        )
        self.transcript.append(
            transcript.Connected("192.0.2.25:587", "192.0.2.10:50000", at=self._at())
        )
        greeting: Reply | None = None
        for direction, text in self.script:
            if direction == "C":
                self._send(text)
            else:
                reply = parse_reply(text)
                greeting = greeting or reply
                self._receive(reply)
        assert greeting is not None
        return greeting

    def _send(self, text: str) -> None:
        self.sent.append(text)
        for advice in self.dialogue.check_line(text.encode()):
            self.transcript.append(transcript.AdviceGiven(advice, at=self._at()))
        sent = self.dialogue.line_sent(text.encode())
        raw = text.encode() + b"\r\n"
        self.transcript.append(transcript.LineSent(raw, "typed", sent.secret, at=self._at()))

    def _receive(self, reply: Reply) -> None:
        advice = self.dialogue.reply_received(reply)
        self.transcript.append(transcript.ReplyReceived(reply, latency=0.042, at=self._at()))
        for item in advice:
            self.transcript.append(transcript.AdviceGiven(item, at=self._at()))

    async def send_line(self, text: str, source: str = "typed") -> None:
        self._send(text)

    async def send_command(self, line: str, source: str = "builder") -> Reply:
        """Record ``line`` and reply ``250 2.0.0 Ok`` to it, as a server accepting all would."""
        self._send(line)
        reply = parse_reply("250 2.0.0 Ok\r\n")
        self._receive(reply)
        return reply

    async def close(self) -> None:
        self.closed = True
