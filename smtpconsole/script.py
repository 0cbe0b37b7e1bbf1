"""The headless front end: run a scenario file and report by exit code.

stdout carries the transcript (text, or JSON Lines with ``--json``) and stderr the diagnostics. The
exit code names the stage at which a run failed (``ExitCode``), and ``exit_code_for`` is the one mapping
from an error to it. Nothing here prompts, and nothing imports Textual or prompt_toolkit.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import enum
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from smtpconsole.errors import (
    ConnectFailed,
    ConnectionLost,
    CredentialError,
    MalformedReplyError,
    ProfileError,
    ReadTimeout,
    ScriptError,
    SmtpConsoleError,
    TlsError,
    UsageError,
    format_error_lines,
)
from smtpconsole.options import (
    DEFAULT_PORTS,
    ConnectOptions,
    ConsoleOptions,
    Security,
    parse_target,
)
from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtpconsole.scenario import Scenario, ScenarioFile, read_scenario_file

if TYPE_CHECKING:
    from smtpconsole.transcript import Event, LineSent


class ExitCode(enum.IntEnum):
    """Exit codes of ``smtpconsole run`` and ``smtpconsole send``, one per failure stage."""

    OK = 0
    """Every step passed; any message was accepted."""
    FAILURE = 1
    """An error that fits no stage below."""
    USAGE = 2
    """Invalid arguments, scenario, profile or missing credentials; nothing was sent."""
    CONNECT = 3
    """The connection could not be opened, or the greeting or EHLO was refused."""
    TLS = 4
    """STARTTLS was refused or the TLS handshake or verification failed."""
    AUTH = 5
    """The server rejected the authentication."""
    ENVELOPE = 6
    """The server rejected the sender (MAIL) or a recipient (RCPT)."""
    DATA = 7
    """The server rejected DATA, BDAT or the message itself."""
    EXPECTATION = 8
    """A reply did not match an explicit ``expect`` of the scenario."""
    TIMEOUT = 9
    """No reply came within the read timeout."""
    CONNECTION_LOST = 10
    """The server closed the connection early or sent a reply that does not parse."""


class StepFailed(ScriptError):
    """A step whose reply was not the one expected; ``exit_code`` names the stage."""

    def __init__(self, message: str, exit_code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.exit_code = exit_code


def exit_code_for(error: BaseException) -> ExitCode:
    """Map an error raised by a run to its exit code."""
    if isinstance(error, StepFailed):
        return error.exit_code
    mapping: tuple[tuple[type[BaseException], ExitCode], ...] = (
        (ConnectFailed, ExitCode.CONNECT),
        (TlsError, ExitCode.TLS),
        (ReadTimeout, ExitCode.TIMEOUT),
        (TimeoutError, ExitCode.TIMEOUT),
        (ConnectionLost, ExitCode.CONNECTION_LOST),
        (MalformedReplyError, ExitCode.CONNECTION_LOST),
        (RemoteProtocolError, ExitCode.CONNECTION_LOST),
        (UsageError, ExitCode.USAGE),
        (ScriptError, ExitCode.USAGE),
        (ProfileError, ExitCode.USAGE),
        (CredentialError, ExitCode.USAGE),
        (LocalProtocolError, ExitCode.USAGE),
    )
    for error_type, code in mapping:
        if isinstance(error, error_type):
            return code
    return ExitCode.FAILURE


MAX_SHOWN_MESSAGE_LINES = 100
"""Message lines shown in the text transcript; the rest are counted. ``--json`` shows all."""


class EventPrinter:
    """Writes each transcript event to a stream as text lines or as one JSON object per line."""

    def __init__(self, stream: TextIO, json_output: bool, *, warnings_only: bool = False) -> None:
        """Args:
        warnings_only: leave out advice of level info, which guides a user typing at the
            console ("MAIL FROM comes next"); warnings and errors are still printed.
        """
        self._stream = stream
        self._json = json_output
        self._warnings_only = warnings_only

    def __call__(self, event: Event) -> None:
        from smtpconsole.transcript import AdviceGiven, LineSent, event_to_json, format_event

        if self._warnings_only and isinstance(event, AdviceGiven) and event.advice.level == "info":
            return
        if self._json:
            import json

            self._stream.write(json.dumps(event_to_json(event), ensure_ascii=False) + "\n")
            return
        if isinstance(event, LineSent) and event.source == "data":
            lines = _message_lines(event)
        else:
            lines = format_event(event)
        self._stream.write("".join(line + "\n" for line in lines))


def _message_lines(event: LineSent) -> list[str]:
    """Format a message payload or BDAT chunk, cut after ``MAX_SHOWN_MESSAGE_LINES`` lines.

    A DATA payload keeps its ``.`` end line after the cut; a BDAT chunk has none.
    """
    from smtpconsole.transcript import format_event

    raw = event.raw
    ends_data = raw.endswith(b"\r\n.\r\n")
    total = raw.count(b"\n") - ends_data
    if total <= MAX_SHOWN_MESSAGE_LINES:
        return format_event(event)
    end = -1
    for _ in range(MAX_SHOWN_MESSAGE_LINES):
        end = raw.index(b"\n", end + 1)
    head = format_event(dataclasses.replace(event, raw=raw[: end + 1]))
    note = (
        f"-- {total - MAX_SHOWN_MESSAGE_LINES} more message lines not shown "
        f"({len(raw)} bytes in all; --json shows all)"
    )
    if not ends_data:
        return [*head, note]
    return [*head, note, *format_event(dataclasses.replace(event, raw=b".\r\n"))]


def report_error(error: BaseException, stream: TextIO | None = None) -> ExitCode:
    """Write the error and its hint to stderr and return its exit code."""
    code = exit_code_for(error)
    stream = stream or sys.stderr
    message = error.message if isinstance(error, SmtpConsoleError) else f"{error}"
    hint = error.hint if isinstance(error, SmtpConsoleError) else None
    if (
        isinstance(error, LocalProtocolError)
        and error.field
        and not message.startswith(("invalid", error.field))
    ):
        message = f"invalid {error.field}: {message}"
    for line in format_error_lines(message, hint):
        stream.write(line + "\n")
    stream.write(f"smtpconsole: exit code {int(code)} ({code.name.lower()})\n")
    return code


def scenario_options(scenario: Scenario, options: ConsoleOptions) -> ConsoleOptions:
    """Apply the scenario's ``manual`` key to the options."""
    if scenario.manual is not None:
        connect = dataclasses.replace(options.connect, manual=scenario.manual)
        options = dataclasses.replace(options, connect=connect)
    return options


def options_from_scenario_target(file: ScenarioFile) -> ConsoleOptions:
    """Build options from the file's ``target`` and ``security`` keys alone.

    Raises:
        UsageError: the file has no ``target``.
        ScriptError: ``target`` or ``security`` is invalid.
    """
    import os

    target_text = file.target(os.environ)
    if target_text is None:
        raise _no_target(file)
    target = parse_target(target_text)
    security: Security = file.security() or "starttls"
    port = target.port or DEFAULT_PORTS[security]
    return ConsoleOptions(connect=ConnectOptions(target.host, port, security))


def _no_target(file: ScenarioFile) -> UsageError:
    """Return the error for a run without a server, after raising any error in the steps."""
    import os

    file.build(os.environ)
    return UsageError(
        f"{file.path}: no server given: the scenario has no 'target:', and neither TARGET nor "
        "--profile was given",
        "give TARGET on the command line, a --profile, or 'target:' in the scenario",
    )


def run_scenario(path: str, options: ConsoleOptions | None, json_output: bool) -> int:
    """Run a scenario file and return its exit code (``ExitCode``).

    Without ``options``, the file's ``target`` and ``security`` keys give the server.
    """
    try:
        file = read_scenario_file(path)
        if options is None:
            options = options_from_scenario_target(file)
        return _run_file(file, options, json_output)
    except SmtpConsoleError as exc:
        return report_error(exc)


def _run_file(file: ScenarioFile, options: ConsoleOptions, json_output: bool) -> int:
    # The steps are built once the options are known, so that ${HOST}, ${PORT} and
    # ${SMTP_USERNAME} have values also when the target comes from the file.
    scenario = file.build(scenario_variables(options))
    return run_steps(scenario, scenario_options(scenario, options), json_output)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``smtpconsole run`` from parsed arguments.

    When neither TARGET nor ``--profile`` is given, the scenario's ``target`` key takes the place
    of TARGET, so that connection options on the command line (``--ca-file``, ``--sni``, ``--user``)
    apply. Its ``security`` key then applies too, unless ``--plain``, ``--starttls`` or ``--tls`` is
    given.
    """
    import os

    from smtpconsole.arguments import console_options_from_args

    try:
        file = read_scenario_file(args.scenario)
        if not args.target and not args.profile:
            args.target = file.target(os.environ)
            if getattr(args, "security", None) is None:
                args.security = file.security()
        if not args.target and not args.profile:
            raise _no_target(file)
        options = console_options_from_args(args)
        return _run_file(file, options, args.json)
    except SmtpConsoleError as exc:
        return report_error(exc)


def run_steps(
    scenario: Scenario,
    options: ConsoleOptions,
    json_output: bool,
    *,
    stdout: TextIO | None = None,
    pipelining: bool = True,
    bdat: bool = False,
    one_shot: bool = False,
) -> int:
    """Connect, run every step and close; return the exit code.

    Args:
        pipelining: group MAIL, RCPT and DATA when the server offers PIPELINING.
        bdat: send the message of data steps with BDAT when the server offers CHUNKING.
        one_shot: the steps come from ``smtpconsole send``: a missing password is asked for at a
            hidden prompt when standard input is a terminal, messages name stages instead of
            steps, and advice meant for an interactive console is left out of the transcript.
    """
    from smtpconsole.runner import Runner

    printer = EventPrinter(stdout or sys.stdout, json_output, warnings_only=one_shot)
    runner = Runner(
        scenario,
        options,
        printer,
        pipelining=pipelining,
        bdat=bdat,
        one_shot=one_shot,
        prompt_password=one_shot and sys.stdin.isatty(),
    )
    try:
        asyncio.run(runner.run())
    except (SmtpConsoleError, LocalProtocolError, RemoteProtocolError, OSError) as exc:
        return report_error(exc)
    return ExitCode.OK


def scenario_variables(options: ConsoleOptions | None) -> dict[str, str]:
    """Return the values ``${VAR}`` can name: the environment, then the profile's defaults."""
    import os

    variables = dict(os.environ)
    if options is None:
        return variables
    defaults = {
        "HOST": options.connect.host,
        "PORT": str(options.connect.port),
        "MAIL_FROM": options.mail_from,
        "RCPT_TO": options.rcpt_to[0] if options.rcpt_to else None,
        "SMTP_USERNAME": options.auth.username,
        "PROFILE": options.profile_name,
    }
    for name, value in defaults.items():
        if value is not None:
            variables.setdefault(name, value)
    return variables


def _connection_arguments(
    given: Callable[[argparse.ArgumentParser], None] | None,
) -> Callable[[argparse.ArgumentParser], None]:
    if given is not None:
        return given
    from smtpconsole.arguments import add_connection_arguments

    return add_connection_arguments


def add_run_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    add_connection_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """Add the ``run`` subcommand with the shared connection options.

    Args:
        subparsers: from ``ArgumentParser.add_subparsers``.
        add_connection_arguments: adds the shared options; ``arguments.add_connection_arguments`` when
            None.
    """
    parser = subparsers.add_parser(
        "run",
        help="run a YAML scenario; the exit code tells where it failed",
        description=(
            "Run the steps of a YAML scenario (send, expect, ehlo, starttls, auth, mail, rcpt, "
            "data, pause, quit). stdout gets the transcript, stderr the diagnostics. Exit codes: "
            + ", ".join(f"{int(code)} {code.name.lower()}" for code in ExitCode)
            + "."
        ),
    )
    parser.add_argument("scenario", metavar="SCENARIO.yaml", help="the scenario file")
    parser.add_argument(
        "target", metavar="TARGET", nargs="?", help="host, host:port or [v6addr]:port"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the transcript as JSON Lines, one event a line"
    )
    _connection_arguments(add_connection_arguments)(parser)
    return parser


def add_send_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    add_connection_arguments: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """Add the ``send`` subcommand with the shared connection options (see ``sending``)."""
    from smtpconsole import sending

    parser = sending.add_send_arguments(subparsers)
    _connection_arguments(add_connection_arguments)(parser)
    return parser


def send_from_args(options: ConsoleOptions, args: argparse.Namespace) -> int:
    """Run ``smtpconsole send`` with parsed arguments and the options built from them."""
    from smtpconsole import sending

    try:
        request = sending.request_from_args(args, options)
    except SmtpConsoleError as exc:
        return report_error(exc)
    return sending.send(options, request)
