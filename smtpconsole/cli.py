"""Command line: parse arguments, build the options, hand over to one front end, map errors to exit codes.

Only this module imports every front end. Each subcommand's module is imported when that subcommand
runs, so starting the TUI loads neither the script runner nor the practice server.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any, NoReturn, cast

from smtpconsole import __version__
from smtpconsole.arguments import add_connection_arguments, console_options_from_args
from smtpconsole.errors import SmtpConsoleError, UsageError, format_error_lines

PROG = "smtpconsole"

SUBCOMMANDS = ("practice", "run", "send", "token", "ses-password", "profiles")


class ExitCode(IntEnum):
    """Exit codes shared by every subcommand; the script runner adds its own per failure stage."""

    OK = 0
    """Everything worked."""
    ERROR = 1
    """A connection, TLS, profile or credential error, with its message on stderr."""
    USAGE = 2
    """Invalid command-line arguments."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of exiting, so every error goes through one path.

    Abbreviations are off: otherwise a mistyped ``--password SECRET`` is taken as
    ``--password-env SECRET`` and the secret is echoed in the error about that variable.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        hint = f"run '{self.prog} --help' for the options"
        if message.endswith("expected one argument"):
            # -4 and -6 make argparse read a negative number such as -1 as an option.
            hint = f"values that start with '-' need '=', e.g. --timeout=-1; {hint}"
        raise UsageError(_hide_secret_values(message), hint)


_UNRECOGNIZED = "unrecognized arguments: "

_SECRET_OPTION = re.compile(r"pass|pasw|pwd|token|secret|key|cred|^ap$", re.IGNORECASE)
"""Option names whose value may be a secret, such as a mistyped ``--password`` or swaks's ``-ap``."""

HIDDEN_VALUE = "********"


def _hide_secret_values(message: str) -> str:
    """Hide the values that follow a secret-bearing option in argparse's unrecognised arguments.

    A mistyped ``--password SECRET`` would otherwise be echoed to the terminal and to CI logs.
    Every other argument is shown, so that the user can see which one is wrong.
    """
    if not message.startswith(_UNRECOGNIZED):
        return message
    shown: list[str] = []
    hidden_after: list[str] = []
    secret_follows = False
    for word in message[len(_UNRECOGNIZED) :].split(" "):
        if word.startswith("-"):
            name, equals, _ = word.partition("=")
            secret = bool(_SECRET_OPTION.search(name.lstrip("-")))
            if secret:
                hidden_after.append(name)
            shown.append(name + "=" + HIDDEN_VALUE if secret and equals else word)
            secret_follows = secret and not equals
        elif secret_follows:
            shown.append(HIDDEN_VALUE)
            secret_follows = False
        else:
            shown.append(word)
    text = _UNRECOGNIZED + " ".join(shown)
    names = list(dict.fromkeys(hidden_after))
    if len(names) == 1:
        text += f" (the value after {names[0]} is not shown)"
    elif names:
        text += f" (the values after {', '.join(names[:-1])} and {names[-1]} are not shown)"
    return text


def _build_main_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog=PROG,
        description="Interactive SMTP console: every byte of the dialogue in view, STARTTLS and AUTH "
        "step by step, and advice on what the server will say.",
        epilog="Subcommands: practice, run, send, token, ses-password, profiles. "
        f"Run '{PROG} SUBCOMMAND --help' for each.",
    )
    parser.add_argument(
        "target", nargs="?", metavar="TARGET", help="server as host, host:port or [v6addr]:port"
    )
    parser.add_argument(
        "--line",
        action="store_true",
        help="use the line mode (prompt_toolkit) instead of the full-screen console",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_connection_arguments(parser)
    return parser


def _require_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the full-screen console needs a terminal, but stdin or stdout is not one",
            "use --line for plain input and output, or 'smtpconsole send' / 'run' in scripts",
        )


def _reject_mistyped_subcommand(word: str) -> None:
    """Raise UsageError for a TARGET that looks like a misspelt subcommand, such as ``sned``."""
    import difflib

    if any(char in word for char in ".:[") or word == "localhost":
        return
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.5)
    if close:
        raise UsageError(
            f"unknown command {word!r}; did you mean {close[0]!r}?",
            f"to connect to a host named {word!r}, give its port too, e.g. {word}:25",
        )


def _run_console(args: argparse.Namespace) -> int:
    if args.target:
        _reject_mistyped_subcommand(args.target)
    if not args.line:
        _require_terminal()
    # The TUI requests a server on its connect screen, but the line mode needs one up front.
    options = console_options_from_args(args, require_host=args.line)
    if args.line:
        from smtpconsole.line import run as run_line

        return run_line(options)
    from smtpconsole.tui.app import run as run_tui

    return run_tui(options)


def _build_subcommand_parser(
    name: str,
) -> tuple[argparse.ArgumentParser, Callable[[argparse.Namespace], int]]:
    parser = _ArgumentParser(prog=PROG)
    # Subcommand parsers are _ArgumentParser too, so their errors also become UsageError; the
    # subcommand modules only need the plain ArgumentParser interface.
    subparsers = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser),
    )
    if name == "practice":
        from smtpconsole.practice import cli as practice_cli

        practice_cli.add_practice_arguments(subparsers)
        return parser, _run_practice
    if name in ("run", "send"):
        from smtpconsole import script

        adder = script.add_run_arguments if name == "run" else script.add_send_arguments
        adder(subparsers)
        return parser, _run_script
    if name in ("token", "ses-password"):
        from smtpconsole import tokens

        if name == "token":
            tokens.add_token_arguments(subparsers)
            return parser, tokens.token_command
        tokens.add_ses_arguments(subparsers)
        return parser, tokens.ses_password_command
    from smtpconsole import profiles

    profiles.add_profiles_arguments(subparsers)
    return parser, profiles.profiles_command


def _run_script(args: argparse.Namespace) -> int:
    from smtpconsole import script

    if args.command == "run":
        # The scenario's own target applies when neither TARGET nor --profile is given.
        return script.run_from_args(args)
    try:
        target = getattr(args, "target", None)
        if not (target or args.profile):
            raise UsageError(
                "send needs a TARGET or --profile",
                "e.g. smtpconsole send mail.example.com:587 --from a@x --to b@y",
            )
        options = console_options_from_args(args)
    except SmtpConsoleError as error:
        # send reports every error as the script runner does, with the exit code line last.
        return script.report_error(error)
    return script.send_from_args(options, args)


def _parse_subcommand(parser: argparse.ArgumentParser, arguments: list[str]) -> argparse.Namespace:
    """Parse the arguments of a subcommand; ``run`` and ``send`` take TARGET after options too.

    argparse's plain ``parse_args`` gives ``run SCENARIO --ca-file CA TARGET`` an empty TARGET
    when it reads SCENARIO, and then rejects TARGET as unrecognized. ``parse_intermixed_args``
    reads the options first, but it cannot run on a parser with subcommands, so it runs on the
    subcommand's own parser.
    """
    name = arguments[0]
    if name not in ONE_SHOT_COMMANDS:
        return parser.parse_args(arguments)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subparser: argparse.ArgumentParser = action.choices[name]
            return subparser.parse_intermixed_args(arguments[1:], argparse.Namespace(command=name))
    raise AssertionError(f"no {name} subcommand in the parser")


def _run_practice(args: argparse.Namespace) -> int:
    from smtpconsole.practice import cli as practice_cli
    from smtpconsole.practice.server import delete_files_on_signals

    if args.serve_only:
        return practice_cli.serve_only_from_args(args)
    if not args.line:
        _require_terminal()
    server = practice_cli.start_from_args(args)
    # A closed terminal sends SIGHUP, which would otherwise end the process before the
    # `finally` below deletes the certificate folder.
    restore_signals = delete_files_on_signals(server)
    try:
        options = practice_cli.console_options(server, args)
        if args.line:
            from smtpconsole.line import run as run_line

            return run_line(options, lesson=practice_cli.lesson_progress(server))
        from smtpconsole.tui.app import run as run_tui

        choose_lesson = practice_cli.wants_lesson_picker(args)
        return run_tui(options, practice=server, choose_lesson=choose_lesson)
    finally:
        server.stop()
        restore_signals()


def _print_error(error: SmtpConsoleError) -> None:
    for line in format_error_lines(error.message, error.hint, PROG):
        print(line, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run smtpconsole with ``argv`` (default: the process arguments) and return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments and arguments[0] in SUBCOMMANDS:
            parser, handler = _build_subcommand_parser(arguments[0])
            args = _parse_subcommand(parser, arguments)
            return handler(args)
        args = _build_main_parser().parse_args(arguments)
        return _run_console(args)
    except UsageError as error:
        if arguments[:1] and arguments[0] in ONE_SHOT_COMMANDS:
            from smtpconsole.script import report_error

            return int(report_error(error))
        _print_error(error)
        return ExitCode.USAGE
    except SmtpConsoleError as error:
        _print_error(error)
        return ExitCode.ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


ONE_SHOT_COMMANDS = ("send", "run")
"""Subcommands that exit through ``os._exit`` when started from the console script."""


def entry() -> NoReturn:
    """Run ``main`` as the ``smtpconsole`` console script and exit with its code.

    ``send`` and ``run`` print everything and close their connection before ``main`` returns, so
    they skip the interpreter's shutdown, and run without the cyclic garbage collector. For a
    ``send`` to the local Postfix, the shutdown took about 25 ms and the collector about 6 ms
    of the 145 ms the command took before (see bench/README.md). Other commands, the TUI among
    them, exit normally, so that the shutdown hooks of Textual and prompt_toolkit run.
    """
    one_shot = sys.argv[1:2] and sys.argv[1] in ONE_SHOT_COMMANDS
    if not one_shot:
        sys.exit(main())
    gc.disable()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
