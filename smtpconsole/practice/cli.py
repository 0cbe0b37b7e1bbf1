"""The ``practice`` subcommand: its arguments, and the server and options built from them."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Any, Final

from smtpconsole.errors import UsageError
from smtpconsole.options import ConsoleOptions, parse_port
from smtpconsole.practice.lessons import get_lesson, lesson_names, rules_for
from smtpconsole.practice.rules import IDLE_TIMEOUT_SECONDS
from smtpconsole.practice.server import PracticeServer, serve_only

PASSWORD_ENV: Final = "SMTPCONSOLE_PRACTICE_PASSWORD"
"""Environment variable of this process that contains the practice password for the console."""


def _port(text: str) -> int:
    return parse_port(text, "practice server port")


def _idle_timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise UsageError(
            f"invalid idle timeout {text!r}: not a number", "give seconds, e.g. --idle-timeout 30"
        ) from None
    if not 0 < seconds <= 86400:
        raise UsageError(
            f"invalid idle timeout {seconds:g}: out of range", "give 0 < seconds <= 86400"
        )
    return seconds


def add_practice_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``practice`` subcommand to an argparse ``subparsers`` object and return it."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "practice",
        help="run the practice SMTP server on 127.0.0.1 and the console on it",
        description="Start a strict practice SMTP server on 127.0.0.1 (replies like AWS SES, "
        "a self-signed certificate made at start, a random password) and open the console on "
        "it, or run only the server with --serve-only.",
    )
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="run only the server in the foreground and print how to connect; Ctrl-C stops it",
    )
    parser.add_argument(
        "--port", metavar="N", type=_port, help="TCP port to listen on (default: a free port)"
    )
    parser.add_argument(
        "--idle-timeout",
        metavar="SECONDS",
        type=_idle_timeout,
        default=IDLE_TIMEOUT_SECONDS,
        help=f"seconds of client silence before 421 and close (default {IDLE_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--lesson",
        metavar="NAME",
        choices=lesson_names(),
        help=f"follow a lesson: {', '.join(lesson_names())}",
    )
    parser.add_argument(
        "--line", action="store_true", help="use the line mode instead of the full-screen console"
    )
    return parser


def serve_only_from_args(args: argparse.Namespace) -> int:
    """Run ``serve_only`` with the port, idle timeout and lesson rules from ``args``."""
    lesson = get_lesson(args.lesson) if args.lesson else None
    return serve_only(args.port, args.idle_timeout, rules=rules_for(lesson, args.idle_timeout))


def start_from_args(args: argparse.Namespace) -> PracticeServer:
    """Start a practice server for ``args``; the caller stops it. ``server.lesson`` is set."""
    lesson = get_lesson(args.lesson) if args.lesson else None
    server = PracticeServer(args.port, rules_for(lesson, args.idle_timeout))
    server.lesson = lesson
    server.start()
    return server


def console_options(server: PracticeServer, args: argparse.Namespace) -> ConsoleOptions:
    """Return console options for ``server``, with the password in ``PASSWORD_ENV``.

    The password is put in this process's environment, because options carry only where a
    secret comes from, never the secret itself. A lesson that teaches STARTTLS by hand connects
    in plain text and sends nothing on connect.
    """
    os.environ[PASSWORD_ENV] = server.password
    options = server.console_options(password_env=PASSWORD_ENV)
    lesson = server.lesson
    if lesson is None:
        return options
    connect = replace(options.connect, security=lesson.security, manual=lesson.manual)
    return replace(options, connect=connect)
