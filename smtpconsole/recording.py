"""Save a session's transcript as a scenario file that ``smtpconsole run`` replays.

Each line the user or the builder sent becomes a step, with an ``expect`` for the code of its
reply. Lines the session sent by itself on connect are left out, because the replay connects
the same way (the scenario's ``manual`` key records which). An AUTH exchange becomes one ``auth`` step
whose user name and password are references (``${SMTP_USERNAME}``, ``${SMTP_PASSWORD}``), so no
secret is written. It gets no ``expect``, because the auth step's own check makes a failed login
on replay exit with code 5 (auth), where an expectation would give code 8. A message sent after
354 becomes a ``data`` step with the text inline, and the BDAT commands of one transaction with
their chunk octets become one ``bdat`` step.

Some parts of a session are left out, because a replay could not repeat them:

- A failed AUTH attempt: the replay takes the credentials from the environment, so the same
  references would fail where they should succeed.
- A secret line outside an AUTH exchange, such as a base64 password typed after AUTH got 503,
  and its reply.
- A BDAT transaction whose ``BDAT ... LAST`` chunk was not sent in full, and a DATA message
  without its final ``.``: the server delivered neither, and a replay would deliver them.
- Steps of connections before the last one, because a replay makes one connection.

The file's header comment and the lines printed after a save name the unfinished BDAT and DATA
messages and the earlier connections that were left out.
"""

from __future__ import annotations

import re
import shlex
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from smtpconsole.errors import SmtpConsoleError
from smtpconsole.options import AuthOptions, TlsOptions
from smtpconsole.protocol.commands import verb_of
from smtpconsole.transcript import Connecting, Event, LineSent, ReplyReceived, write_private

if TYPE_CHECKING:
    from smtpconsole.session import Session

USERNAME_VARIABLE = "SMTP_USERNAME"
PASSWORD_VARIABLE = "SMTP_PASSWORD"
USERNAME_REFERENCE = "${" + USERNAME_VARIABLE + "}"
PASSWORD_REFERENCE = "${" + PASSWORD_VARIABLE + "}"

PRACTICE_PASSWORD_VARIABLE: Final = "SMTPCONSOLE_PRACTICE_PASSWORD"
"""Environment variable through which ``smtpconsole practice`` passes the practice password to
its console. It exists only in that process, so a replay command never refers to it."""

# A POSIX shell variable name, safe to write as "$NAME" in a suggested command.
_SHELL_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class NothingToRecordError(SmtpConsoleError):
    """The current connection has no step to record, and ``run`` rejects a scenario without one."""


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
    bdat_last: bool = False
    """True once the transaction's ``BDAT ... LAST`` line was sent."""
    bdat_octets_left: int = 0
    """Octets the last BDAT line announced that were not sent yet."""
    connections: int = 0
    left_out_connections: int = 0
    """Earlier connections whose steps were dropped, because a replay makes one connection."""
    left_out_steps: int = 0
    left_out_bdat: int = 0
    """BDAT transactions of the last connection dropped because their LAST chunk was not sent."""
    unfinished_data_lines: int | None = None
    """Message lines of a DATA that never got its final ``.``; None when every DATA ended."""
    left_out_auth: int = 0
    """AUTH attempts of the last connection dropped because they failed."""
    left_out_secrets: int = 0
    """Secret lines of the last connection sent outside an AUTH exchange, dropped."""

    def add(self, event: Event) -> None:
        if isinstance(event, Connecting):
            self._connecting(event)
        elif isinstance(event, LineSent):
            self._line_sent(event)
        elif isinstance(event, ReplyReceived):
            self._reply_received(event.reply.code)

    def _connecting(self, event: Connecting) -> None:
        """Start over on a new connection: only the last connection is recorded."""
        self.connections += 1
        if self.steps:
            self.left_out_connections += 1
            self.left_out_steps += len(self.steps)
        self.steps = []
        self.awaiting.clear()
        self.message = None
        self.in_auth = False
        self.saw_auto = False
        self.bdat = None
        self.left_out_bdat = 0
        self.left_out_auth = 0
        self.left_out_secrets = 0
        self.header = {"target": _target(event.host, event.port), "security": event.security}

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
        if self.in_auth:
            # A response to a 334 challenge: the auth step replays the whole exchange.
            self.awaiting.append(self.steps[-1] if self.steps else None)
            return
        if event.secret and verb_of(text) != "AUTH":
            # A secret outside an AUTH exchange, such as a base64 password typed after AUTH got
            # 503. Neither the line nor its reply belongs to a step.
            self.left_out_secrets += 1
            self.awaiting.append(None)
            return
        if verb_of(text) == "BDAT":
            self._bdat_line(text)
            return
        self._end_bdat()
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
        return {"send": _literal(text)}

    def _bdat_line(self, text: str) -> None:
        words = text.split()
        if self.bdat is not None and self.bdat_last:
            # A BDAT after the LAST chunk starts the next transaction.
            self._end_bdat()
        if self.bdat is None:
            self.bdat = {"bdat": {"raw": ""}}
            self.bdat_octets.clear()
            self.bdat_sizes.clear()
            self.bdat_last = False
            self.steps.append(self.bdat)
        self.bdat_octets_left = 0
        if len(words) >= 2 and words[1].isdigit():
            self.bdat_sizes.append(int(words[1]))
            self.bdat_octets_left = int(words[1])
        if len(words) >= 3 and words[2].upper() == "LAST":
            self.bdat_last = True
        # Each chunk gets its own reply; the step expects the code of the last one.
        self.awaiting.append(self.bdat)
        if len(self.bdat_sizes) > 1:
            self.bdat["bdat"]["chunk_size"] = self.bdat_sizes[0]

    def _end_bdat(self) -> None:
        """End the BDAT transaction; drop its step unless the LAST chunk was sent in full."""
        step, self.bdat = self.bdat, None
        if step is None:
            return
        if not self.bdat_last or self.bdat_octets_left > 0:
            # The server delivered nothing, so a replay must not deliver the message either.
            self._remove_step(step)
            self.left_out_bdat += 1

    def _chunk_octets(self, raw: bytes) -> None:
        if self.bdat is None:
            return
        self.bdat_octets += raw
        self.bdat_octets_left -= len(raw)
        # The replay converts line ends to CRLF and adds none of DATA's dot-stuffing.
        text = self.bdat_octets.decode("utf-8", errors="replace").replace("\r\n", "\n")
        self.bdat["bdat"]["raw"] = _literal(text)

    def _message_line(self, raw: bytes) -> None:
        assert self.message is not None
        lines = raw.decode("utf-8", errors="replace").split("\r\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            if line == ".":
                step = {"data": {"raw": _literal(_unstuff(self.message))}}
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
            if code == 334:
                return
            self.in_auth = False
            if not 200 <= code < 300:
                # Every auth step replays with the same credentials from the environment, so an
                # attempt that failed here would succeed on replay and break its expectation.
                self._remove_step(step)
                self.left_out_auth += 1
            return
        step["expect"] = code
        if code == 354 and step.get("send", "").upper() == "DATA":
            # The DATA line and its message become one data step.
            self._remove_step(step)
            self.message = []

    def _remove_step(self, step: dict[str, Any]) -> None:
        # By identity: an earlier step can be equal to this one.
        for index, candidate in enumerate(self.steps):
            if candidate is step:
                del self.steps[index]
                return

    def finish(self) -> None:
        """End the last connection's open BDAT transaction or DATA message after the last event."""
        self._end_bdat()
        if self.message is not None:
            self.unfinished_data_lines = len(self.message)

    def scenario(self) -> dict[str, Any]:
        document: dict[str, Any] = dict(self.header)
        document["manual"] = not self.saw_auto
        document["steps"] = self.steps
        return document


def _literal(text: str) -> str:
    # Every string in a scenario may hold ${NAME}; what was sent is replayed as it was.
    return text.replace("$", "$$")


def _unstuff(lines: list[str]) -> str:
    # RFC 5321 section 4.5.2: the receiver removes one leading dot; the replay stuffs again.
    return "".join((line[1:] if line.startswith(".") else line) + "\n" for line in lines)


def _target(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class Recording:
    """The scenario document of a session's last connection, and what was left out of it."""

    document: dict[str, Any]
    """The scenario as a plain dict, ready for YAML."""
    connections: int
    left_out_connections: int
    """Earlier connections that had steps; a replay makes one connection, so they are dropped."""
    left_out_steps: int
    left_out_bdat: int = 0
    """BDAT transactions whose ``BDAT ... LAST`` chunk was not sent in full."""
    unfinished_data_lines: int | None = None
    """Lines of the DATA message still open at the end (no final ``.``); None when there is none."""
    left_out_auth: int = 0
    """Failed AUTH attempts, which a replay with the right credentials would not repeat."""
    left_out_secrets: int = 0
    """Secret lines sent outside an AUTH exchange, such as a password typed as a command."""

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.document["steps"]
        return steps

    @property
    def has_auth(self) -> bool:
        return any("auth" in step for step in self.steps)


def record_events(events: Iterable[Event]) -> Recording:
    """Return the recording of the last connection in ``events``."""
    recorder = _Recorder()
    for event in events:
        recorder.add(event)
    recorder.finish()
    return Recording(
        recorder.scenario(),
        recorder.connections,
        recorder.left_out_connections,
        recorder.left_out_steps,
        recorder.left_out_bdat,
        recorder.unfinished_data_lines,
        recorder.left_out_auth,
        recorder.left_out_secrets,
    )


def scenario_from_events(events: Iterable[Event]) -> dict[str, Any]:
    """Return the scenario document (a plain dict, ready for YAML) that replays ``events``."""
    return record_events(events).document


@dataclass(frozen=True)
class ReplaySettings:
    """Settings a replay needs besides the file: the session's TLS options and AUTH source."""

    tls: TlsOptions = field(default_factory=TlsOptions)
    insecure: bool = False
    """True when the session ran without certificate verification, by ``--insecure`` or by the
    user's choice to continue after a failed verification."""
    username: str | None = None
    password_env: str | None = None
    """Environment variable the session read the password from (``--password-env``)."""

    @property
    def practice(self) -> bool:
        """True when the session ran in ``smtpconsole practice``, against its own server."""
        return self.password_env == PRACTICE_PASSWORD_VARIABLE

    @classmethod
    def of_session(cls, session: Session, auth: AuthOptions) -> ReplaySettings:
        """Return the settings ``session`` ran with, and the user name and password source."""
        return cls(
            tls=session.options.tls,
            insecure=session.insecure,
            username=auth.username,
            password_env=auth.password_env,
        )

    def run_options(self) -> list[str]:
        """Return the ``smtpconsole run`` options that repeat the session's TLS settings.

        File paths are made absolute, so the command works from any folder.
        """
        tls = self.tls
        options: list[str] = []
        for option, value, is_file in (
            ("--ca-file", tls.ca_file, True),
            ("--sni", tls.sni, False),
            ("--client-cert", tls.client_cert, True),
            ("--client-key", tls.client_key, True),
            ("--tls-min-version", tls.min_version, False),
        ):
            if value:
                options += [option, str(Path(value).expanduser().resolve()) if is_file else value]
        if self.insecure or not tls.verify:
            options.append("--insecure")
        return options

    def environment(self, recording: Recording) -> tuple[list[str], list[str]]:
        """Return the variable assignments for the replay command and the variables left to set.

        The password itself is never written: at most a reference to the variable that the
        session read it from, such as ``SMTP_PASSWORD="$MY_PASSWORD"``.
        """
        if not recording.has_auth:
            return [], []
        assignments: list[str] = []
        unset: list[str] = []
        if self.username:
            assignments.append(f"{USERNAME_VARIABLE}={shlex.quote(self.username)}")
        else:
            unset.append(USERNAME_VARIABLE)
        if self.password_env and _SHELL_VARIABLE.fullmatch(self.password_env) and not self.practice:
            assignments.append(f'{PASSWORD_VARIABLE}="${self.password_env}"')
        else:
            unset.append(PASSWORD_VARIABLE)
        return assignments, unset

    def command(self, recording: Recording, path_text: str) -> str:
        """Return the shell command that replays ``recording`` saved at ``path_text``."""
        assignments, _ = self.environment(recording)
        words = ["smtpconsole", "run", path_text, *self.run_options()]
        return " ".join([*assignments, *(shlex.quote(word) for word in words)])


@dataclass(frozen=True)
class SavedScenario:
    """A scenario file written from a session, with what the user needs to replay it."""

    path: Path
    recording: Recording
    settings: ReplaySettings

    @property
    def replay_command(self) -> str:
        return self.settings.command(self.recording, str(self.path))

    def describe(self) -> list[str]:
        """Return the lines that tell the user where the file is and how to replay it."""
        steps = len(self.recording.steps)
        lines = [
            f"scenario written to {self.path} ({steps} step{'s' if steps != 1 else ''})",
            f"replay it with: {self.replay_command}",
        ]
        _, unset = self.settings.environment(self.recording)
        if self.settings.practice:
            lines += _practice_notes(self.recording)
        elif unset:
            lines.append(
                f"set {' and '.join(unset)} in the environment before replaying: "
                "the auth step reads the credentials from there"
            )
        lines += _left_out_notes(self.recording)
        return lines


def _practice_notes(recording: Recording) -> list[str]:
    """Return how to replay a practice session, whose password, port and CA file are new at each
    start of the practice server."""
    notes = [
        "the practice server makes a new password, port and certificate each time it starts, "
        "so the command works only while this practice server runs; to replay against another "
        "one, give its address as TARGET (smtpconsole run FILE 127.0.0.1:PORT) and its CA file "
        "path to --ca-file, as 'smtpconsole practice --serve-only' prints them"
    ]
    if recording.has_auth:
        notes.insert(
            0,
            f"set {PASSWORD_VARIABLE} to the practice password before replaying: the lesson "
            "panel of a lesson with AUTH shows it, and 'smtpconsole practice --serve-only' "
            "prints it at start",
        )
    return notes


def _left_out_notes(recording: Recording) -> list[str]:
    """Return a sentence for each part of the session that the recording leaves out."""
    notes: list[str] = []

    if recording.left_out_connections:
        steps = _count(recording.left_out_steps, "step")
        connections = _count(recording.left_out_connections, "earlier connection")
        notes.append(
            "only the last connection is recorded, because a replay makes one connection: "
            f"{steps} of {connections} left out"
        )

    if recording.left_out_bdat:
        notes.append(
            f"{_count(recording.left_out_bdat, 'BDAT transaction')} left out, because no "
            "BDAT ... LAST chunk was sent in full, so the server delivered no message"
        )

    if recording.unfinished_data_lines is not None:
        lines = _count(recording.unfinished_data_lines, "line")
        notes.append(
            f"the unfinished DATA message ({lines} after 354, no final '.') left out together "
            "with its DATA command, because the server delivered no message"
        )

    if recording.left_out_auth:
        notes.append(
            f"{_count(recording.left_out_auth, 'failed AUTH attempt')} left out, because the "
            "replay logs in with the credentials from the environment"
        )

    if recording.left_out_secrets:
        notes.append(
            f"{_count(recording.left_out_secrets, 'secret line')} sent outside an AUTH exchange "
            "left out, so that no password is written to the file"
        )
    return notes


def _count(number: int, noun: str) -> str:
    """Return ``number`` and ``noun``, with an ``s`` added unless the number is 1."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _check_not_empty(recording: Recording) -> None:
    if recording.steps:
        return
    where = "on the current connection" if recording.connections > 1 else "in this session"
    raise NothingToRecordError(
        f"nothing to record yet: no command was sent {where}, so the scenario would have "
        "no steps and 'smtpconsole run' would reject it; no file written",
        "send a command (such as NOOP or MAIL FROM) first; the EHLO and STARTTLS the console "
        "sends on connect are not steps, because the replay sends them itself",
    )


def _scenario_text(recording: Recording, settings: ReplaySettings) -> bytes:
    import yaml

    header = [
        "# Recorded by smtpconsole. Replay: " + settings.command(recording, "THIS_FILE"),
    ]
    if recording.has_auth:
        header.append(
            f"# The auth steps read {USERNAME_VARIABLE} and {PASSWORD_VARIABLE} from the "
            "environment; set them before replaying."
        )
    if settings.practice:
        header += [f"# Practice: {note}." for note in _practice_notes(recording)]
    header += [f"# Note: {note}." for note in _left_out_notes(recording)]
    body = yaml.safe_dump(recording.document, sort_keys=False, allow_unicode=True, width=100)
    return ("\n".join(header) + "\n" + body).encode("utf-8")


def record_scenario(
    transcript: Iterable[Event], path: str | Path, settings: ReplaySettings | None = None
) -> Path:
    """Write the session in ``transcript`` as a scenario file (mode 0600) and return its path.

    Args:
        transcript: a ``Transcript``, or any iterable of events.
        path: the YAML file to write; it is replaced if it exists.
        settings: the session's TLS options and AUTH source, for the replay command in the
            header comment; none when None.

    Raises:
        NothingToRecordError: the last connection has no step; no file is written.
    """
    settings = settings or ReplaySettings()
    recording = record_events(transcript)
    _check_not_empty(recording)
    return write_private(Path(path), _scenario_text(recording, settings))


def save_scenario(
    transcript: Iterable[Event], settings: ReplaySettings, *, folder: Path | None = None
) -> SavedScenario:
    """Write the session as a new ``scenario-YYYYMMDD-HHMMSSZ.yaml`` (UTC) in the exports folder.

    Both front ends save through here. An existing file is never replaced: a second save in the
    same second gets a numbered name (see ``locations.create_export_file``).

    Args:
        transcript: a ``Transcript``, or any iterable of events.
        settings: the session's TLS options and AUTH source, for the replay command.
        folder: where to write; the exports folder when None.

    Raises:
        NothingToRecordError: the last connection has no step; no file is written.
        OSError: the file cannot be created or written.
    """
    from smtpconsole.locations import create_export_file

    recording = record_events(transcript)
    _check_not_empty(recording)
    text = _scenario_text(recording, settings)
    path = create_export_file("scenario", ".yaml", folder=folder)
    try:
        write_private(path, text)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SavedScenario(path, recording, settings)
