"""Save a session's transcript as a scenario file that ``smtpconsole run`` replays.

Each line the user or the builder sent becomes a step, with an ``expect`` for the code of its
reply. Lines the session sent by itself on connect are left out, because the replay connects
the same way (the scenario's ``manual`` key records which). An AUTH exchange becomes one ``auth`` step
whose user name and password are references (``${SMTP_USERNAME}``, ``${SMTP_PASSWORD}``), so no
secret is written. A message sent after 354 becomes a ``data`` step with the text inline, and the
BDAT commands of one transaction with their chunk octets become one ``bdat`` step.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smtpconsole.protocol.commands import verb_of
from smtpconsole.transcript import Connecting, Event, LineSent, ReplyReceived, write_private

USERNAME_REFERENCE = "${SMTP_USERNAME}"
PASSWORD_REFERENCE = "${SMTP_PASSWORD}"


@dataclass
class _Recorder:
    """Walks the events once, pairing each recorded step with its reply."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    awaiting: deque[dict[str, Any] | None] = field(default_factory=deque)
    message: list[str] | None = None
    in_auth: bool = False
    saw_auto: bool = False
    bdat: dict[str, Any] | None = None
    """The ``bdat`` step of the transaction being recorded, until a line other than BDAT."""
    bdat_octets: bytearray = field(default_factory=bytearray)
    bdat_sizes: list[int] = field(default_factory=list)

    def add(self, event: Event) -> None:
        if isinstance(event, Connecting) and not self.header:
            self.header = {"target": _target(event.host, event.port), "security": event.security}
        elif isinstance(event, LineSent):
            self._line_sent(event)
        elif isinstance(event, ReplyReceived):
            self._reply_received(event.reply.code)

    def _line_sent(self, event: LineSent) -> None:
        if event.source in ("auto", "keepalive"):
            self.saw_auto = self.saw_auto or event.source == "auto"
            self.awaiting.append(None)
            return
        if event.chunk:
            self._chunk_octets(event.raw)
            return
        if self.message is not None:
            self._message_line(event.raw)
            return
        text = event.raw.decode("utf-8", errors="replace").removesuffix("\r\n")
        if self.in_auth or (event.secret and verb_of(text) != "AUTH"):
            self.awaiting.append(self.steps[-1] if self.steps else None)
            return
        if verb_of(text) == "BDAT":
            self._bdat_line(text)
            return
        self.bdat = None
        step = self._step_for(text)
        self.steps.append(step)
        self.awaiting.append(step)

    def _step_for(self, text: str) -> dict[str, Any]:
        verb = verb_of(text)
        if verb == "AUTH":
            words = text.split(" ")
            self.in_auth = True
            return {
                "auth": {
                    "mechanism": words[1].upper() if len(words) > 1 else "PLAIN",
                    "username": USERNAME_REFERENCE,
                    "password": PASSWORD_REFERENCE,
                }
            }
        # A raw STARTTLS replays as it was sent: the runner does the handshake after its 220.
        return {"send": text}

    def _bdat_line(self, text: str) -> None:
        words = text.split()
        if self.bdat is None:
            self.bdat = {"bdat": {"raw": ""}}
            self.bdat_octets.clear()
            self.bdat_sizes.clear()
            self.steps.append(self.bdat)
        if len(words) >= 2 and words[1].isdigit():
            self.bdat_sizes.append(int(words[1]))
        # Each chunk gets its own reply; the step expects the code of the last one.
        self.awaiting.append(self.bdat)
        if len(self.bdat_sizes) > 1:
            self.bdat["bdat"]["chunk_size"] = self.bdat_sizes[0]

    def _chunk_octets(self, raw: bytes) -> None:
        if self.bdat is None:
            return
        self.bdat_octets += raw
        # The replay converts line ends to CRLF and adds none of DATA's dot-stuffing.
        text = self.bdat_octets.decode("utf-8", errors="replace").replace("\r\n", "\n")
        self.bdat["bdat"]["raw"] = text

    def _message_line(self, raw: bytes) -> None:
        assert self.message is not None
        lines = raw.decode("utf-8", errors="replace").split("\r\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            if line == ".":
                step = {"data": {"raw": _unstuff(self.message)}}
                self.steps.append(step)
                self.awaiting.append(step)
                self.message = None
                return
            self.message.append(line)

    def _reply_received(self, code: int) -> None:
        step = self.awaiting.popleft() if self.awaiting else None
        if step is None:
            return
        if "auth" in step:
            if code != 334:
                self.in_auth = False
                step["expect"] = code
            return
        step["expect"] = code
        if code == 354 and step.get("send", "").upper() == "DATA":
            # The DATA line and its message become one data step.
            self.steps.remove(step)
            self.message = []

    def scenario(self) -> dict[str, Any]:
        document: dict[str, Any] = dict(self.header)
        document["manual"] = not self.saw_auto
        document["steps"] = self.steps
        return document


def _unstuff(lines: list[str]) -> str:
    # RFC 5321 section 4.5.2: the receiver removes one leading dot; the replay stuffs again.
    return "".join((line[1:] if line.startswith(".") else line) + "\n" for line in lines)


def _target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def scenario_from_events(events: list[Event]) -> dict[str, Any]:
    """Return the scenario document (a plain dict, ready for YAML) that replays ``events``."""
    recorder = _Recorder()
    for event in events:
        recorder.add(event)
    return recorder.scenario()


def record_scenario(transcript: Any, path: str | Path) -> Path:
    """Write the session in ``transcript`` as a scenario file (mode 0600) and return its path.

    Args:
        transcript: a ``Transcript``, or any iterable of events.
        path: the YAML file to write; it is replaced if it exists.
    """
    import yaml

    document = scenario_from_events(list(transcript))
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    header = (
        "# Recorded by smtpconsole. Replay: smtpconsole run THIS_FILE\n"
        f"# Set {USERNAME_REFERENCE[2:-1]} and {PASSWORD_REFERENCE[2:-1]} in the environment "
        "for the auth steps.\n"
    )
    return write_private(Path(path), (header + text).encode("utf-8"))
