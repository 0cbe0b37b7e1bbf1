"""``smtpconsole send``: one message end to end, printing the dialogue, for users of swaks.

The send is a scenario built in memory (auth when a user is set, mail, rcpt, data) and run by the
same runner as ``smtpconsole run``, so the exit codes are the same. This path imports neither
Textual nor prompt_toolkit.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path

from smtpconsole.composer import compose
from smtpconsole.errors import SmtpConsoleError, UsageError
from smtpconsole.options import ConsoleOptions
from smtpconsole.protocol.addresses import bare_address, check_envelope_address, reason
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.scenario import (
    BODY_FILE_HINT,
    STAGE_ALIASES,
    STAGES,
    AuthSpec,
    ComposerSpec,
    Scenario,
    Stage,
    Step,
    TextFileError,
    parse_stage,
    read_body_file,
)
from smtpconsole.script import report_error, run_steps

DEFAULT_BODY = "This is a test message sent by smtpconsole.\n"
"""Body of a message sent without --body, --body-file or --data-file."""

SCENARIO_NAME = "send"
"""Name that messages about a send give in place of a scenario file."""


@dataclass(frozen=True)
class SendRequest:
    """The message and envelope of one ``send``."""

    mail_from: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str | None = None
    body: str | None = None
    body_file: str | None = None
    attachments: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    data_file: str | None = None
    """A file sent as the whole message, with only CRLF line ends and dot-stuffing added."""
    quit_after: Stage | None = None
    json_output: bool = False
    pipelining: bool = True
    """Group MAIL, RCPT and DATA when the server offers PIPELINING."""
    bdat: bool = False
    """Send the message with BDAT (RFC 3030) when the server offers CHUNKING, else with DATA."""


def send(options: ConsoleOptions, request: SendRequest) -> int:
    """Send one message and return the exit code (``script.ExitCode``)."""
    try:
        scenario = build_send_scenario(options, request)
    except (SmtpConsoleError, LocalProtocolError) as exc:
        return report_error(exc)
    return run_steps(
        scenario,
        options,
        request.json_output,
        pipelining=request.pipelining,
        bdat=request.bdat,
        one_shot=True,
    )


def build_send_scenario(options: ConsoleOptions, request: SendRequest) -> Scenario:
    """Return the steps of a send: auth when a user name is set, then mail, rcpt and data.

    ``--from`` and ``--to`` may carry a display name (``Name <addr@domain>``): the headers keep it
    and the envelope gets the bare address. The message is built once here, without the server's
    capabilities, so that every address and header is checked before connecting; the runner
    builds it again after EHLO.

    Raises:
        UsageError: no recipient, an invalid address or header, or a file that cannot be read.
        LocalProtocolError: the message builder rejects an address or header of the message.
        ScriptError: an attachment cannot be read.
    """
    if not request.to + request.cc + request.bcc:
        raise UsageError(
            "no recipient",
            "give --to ADDRESS (repeat it for more recipients), or set envelope.rcpt_to in the profile",
        )
    sender = envelope_address(request.mail_from, "--from", allow_empty=True)
    recipients = tuple(
        envelope_address(address, option)
        for option, addresses in (
            ("--to", request.to),
            ("--cc", request.cc),
            ("--bcc", request.bcc),
        )
        for address in addresses
    )
    check_files(request)
    for name, value in request.headers:
        check_header(name, value)
    message = _message_spec(request)
    if not message.is_raw:
        compose(message, sender, recipients, options, capabilities=None)
    steps: list[Step] = []
    if options.auth.username:
        steps.append(Step(len(steps) + 1, "auth", AuthSpec()))
    steps.append(Step(len(steps) + 1, "mail", sender))
    steps.append(Step(len(steps) + 1, "rcpt", recipients))
    steps.append(Step(len(steps) + 1, "data", message))
    return Scenario(path=SCENARIO_NAME, steps=tuple(steps), quit_after=request.quit_after)


def envelope_address(text: str, option: str, *, allow_empty: bool = False) -> str:
    """Return the bare address of ``text``, which may be ``Name <addr@domain>``.

    Raises:
        UsageError: the address contains CR, LF or NUL, or is not a valid envelope address.
    """
    for char, label in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if char in text:
            raise UsageError(f"invalid {option} {text!r}: contains {label}", _ADDRESS_HINT)
    address = bare_address(text)
    if address is None or (not address and not allow_empty):
        raise UsageError(f"invalid {option} {text!r}: no address", _ADDRESS_HINT)
    try:
        check_envelope_address(address, sender=allow_empty)
    except LocalProtocolError as exc:
        raise UsageError(f"invalid {option} {text!r}: {reason(exc)}", _ADDRESS_HINT) from None
    return address


_ADDRESS_HINT = "write addr@domain or 'Name <addr@domain>'"


def check_files(request: SendRequest) -> None:
    """Check that every file the send reads exists and is readable, before connecting.

    Raises:
        UsageError: a file is missing or unreadable.
    """
    files = [("--attach", path) for path in request.attachments]
    if request.data_file is not None:
        files.append(("--data-file", request.data_file))
    if request.body_file is not None:
        files.append(("--body-file", request.body_file))
    for option, path in files:
        if not Path(path).is_file():
            state = "is not a file" if Path(path).exists() else "not found"
            raise UsageError(f"{option} {path}: {state}", "check the file path")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{option} {path}: permission denied", "check the file permissions")


_HEADER_NAME = re.compile(r"^[!-9;-~]+$")
"""RFC 5322 section 2.2: a field name is printable US-ASCII except the colon."""


def check_header(name: str, value: str) -> None:
    """Check a ``--header``: a valid field name, and a value without CR, LF or NUL.

    Raises:
        UsageError: the name or value is invalid.
    """
    hint = "write --header 'Name: value', e.g. --header 'X-Test: 1'"
    if not _HEADER_NAME.match(name):
        raise UsageError(f"invalid --header name {name!r}", hint)
    for char, label in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if char in value:
            raise UsageError(f"invalid --header {name}: the value contains {label}", hint)


def _message_spec(request: SendRequest) -> ComposerSpec:
    if request.data_file is not None:
        return ComposerSpec(raw_file=request.data_file)
    body = request.body if request.body is not None else DEFAULT_BODY
    if request.body_file is not None:
        try:
            body = read_body_file(request.body_file)
        except TextFileError as exc:
            raise UsageError(
                f"cannot read --body-file {request.body_file}: {exc.message}", BODY_FILE_HINT
            ) from None
    return ComposerSpec(
        mail_from=request.mail_from,
        to=request.to,
        cc=request.cc,
        subject=request.subject if request.subject is not None else "smtpconsole test message",
        body=body,
        attachments=request.attachments,
        headers=request.headers,
    )


def _stage_argument(text: str) -> Stage:
    stage = parse_stage(text)
    if stage is None:
        names = ", ".join([*STAGES, *STAGE_ALIASES])
        raise argparse.ArgumentTypeError(f"invalid stage {text!r}: use one of {names}")
    return stage


def parse_header(text: str) -> tuple[str, str]:
    """Parse ``Name: value`` from ``--header``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or " " in name.strip():
        raise argparse.ArgumentTypeError(
            f"invalid header {text!r}: expected 'Name: value', e.g. 'X-Test: 1'"
        )
    return name.strip(), value.strip()


def request_from_args(
    args: argparse.Namespace, options: ConsoleOptions | None = None
) -> SendRequest:
    """Return the ``SendRequest`` that the ``send`` arguments describe.

    ``--from`` and ``--to`` fall back to the profile's envelope defaults in ``options``.

    Raises:
        UsageError: neither ``--from`` nor the profile gives a sender.
    """
    mail_from = args.mail_from
    to = tuple(args.to or ())
    if options is not None:
        if mail_from is None:
            mail_from = options.mail_from
        if not to and not args.cc and not args.bcc:
            to = options.rcpt_to
    if mail_from is None:
        raise UsageError(
            "no sender for MAIL FROM and the From header",
            "give --from ADDRESS, or set envelope.mail_from in the profile",
        )
    return SendRequest(
        mail_from=mail_from,
        to=to,
        cc=tuple(args.cc or ()),
        bcc=tuple(args.bcc or ()),
        subject=args.subject,
        body=args.body,
        body_file=args.body_file,
        attachments=tuple(args.attach or ()),
        headers=tuple(args.header or ()),
        data_file=args.data_file,
        quit_after=args.quit_after,
        json_output=args.json,
        pipelining=not args.no_pipelining,
        bdat=args.bdat,
    )


def add_send_arguments(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``send`` subcommand and its message options; the caller adds the connection ones."""
    parser = subparsers.add_parser(
        "send",
        help="send one message end to end, printing the dialogue",
        description=(
            "Send one message: EHLO, STARTTLS and AUTH as the options say, then MAIL, RCPT and "
            "DATA (pipelined when the server offers PIPELINING). stdout gets the dialogue with "
            "secrets masked; the exit code tells where a failure happened."
        ),
    )
    parser.add_argument(
        "target", metavar="TARGET", nargs="?", help="host, host:port or [v6addr]:port"
    )
    _add_message_arguments(parser)
    parser.add_argument(
        "--quit-after",
        type=_stage_argument,
        metavar="STAGE",
        help=(
            "send QUIT after this stage, as swaks --quit-after: connect (the greeting, no EHLO), "
            "ehlo or first-helo (the first EHLO, before STARTTLS), tls (STARTTLS and the EHLO "
            "over TLS), helo (the last EHLO), auth, mail, rcpt, data"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the dialogue as JSON Lines")
    parser.add_argument(
        "--no-pipelining",
        action="store_true",
        help="wait for each reply even when the server offers PIPELINING",
    )
    parser.add_argument(
        "--bdat",
        action="store_true",
        help=(
            "send the message with BDAT chunks (RFC 3030) when the server offers CHUNKING, "
            "and with DATA otherwise"
        ),
    )
    return parser


def _add_message_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="mail_from",
        metavar="ADDRESS",
        help="sender, for MAIL FROM and the From header (default: the profile's envelope.mail_from)",
    )
    parser.add_argument(
        "--to",
        action="append",
        metavar="ADDRESS",
        help="recipient (repeatable), for RCPT TO and the To header (default: the profile's envelope.rcpt_to)",
    )
    parser.add_argument(
        "--cc", action="append", metavar="ADDRESS", help="Cc recipient (repeatable)"
    )
    parser.add_argument(
        "--bcc",
        action="append",
        metavar="ADDRESS",
        help="recipient in the envelope only (repeatable)",
    )
    parser.add_argument("--subject", help="Subject header; 'smtpconsole test message' by default")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--body", help="message body text; a one-line test text by default")
    body.add_argument("--body-file", metavar="FILE", help="file holding the UTF-8 body text")
    body.add_argument(
        "--data-file",
        metavar="FILE",
        help="file sent as the whole message (headers and body), as swaks --data",
    )
    parser.add_argument(
        "--attach", action="append", metavar="FILE", help="attach a file (repeatable)"
    )
    parser.add_argument(
        "--header",
        action="append",
        type=parse_header,
        metavar="'NAME: VALUE'",
        help="extra header (repeatable)",
    )
