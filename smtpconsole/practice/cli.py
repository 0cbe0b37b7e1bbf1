"""The ``practice`` subcommand: its arguments, and the server and options built from them."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Any, Final

from smtpconsole.errors import UsageError
from smtpconsole.options import ConsoleOptions, parse_port
from smtpconsole.practice.lesson_types import Lesson
from smtpconsole.practice.lessons import LessonProgress, get_lesson, lesson_names, rules_for
from smtpconsole.practice.rules import IDLE_TIMEOUT_SECONDS
from smtpconsole.practice.server import PracticeServer, serve_only
from smtpconsole.recording import PRACTICE_PASSWORD_VARIABLE
from smtpconsole.transcript import Event

PASSWORD_ENV: Final = PRACTICE_PASSWORD_VARIABLE
"""Environment variable of this process that contains the practice password for the console.
Recordings know it by this name and print practice hints in place of a reference to it."""

CHOOSE_LESSON: Final = ""
"""Value of ``--lesson`` given without a name: the console opens the lesson picker at start."""


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


def _lesson_name(text: str) -> str:
    if text != CHOOSE_LESSON and text not in lesson_names():
        raise argparse.ArgumentTypeError(
            f"unknown lesson {text!r}: choose one of {', '.join(lesson_names())}"
        )
    return text


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
        nargs="?",
        const=CHOOSE_LESSON,
        type=_lesson_name,
        help=f"follow a lesson: {', '.join(lesson_names())}; without NAME the console lists "
        "them to choose from (not with --line or --serve-only)",
    )
    parser.add_argument(
        "--line", action="store_true", help="use the line mode instead of the full-screen console"
    )
    return parser


def _require_lesson_name(args: argparse.Namespace, mode: str) -> None:
    if args.lesson == CHOOSE_LESSON:
        raise UsageError(
            f"--lesson needs a NAME with {mode}",
            f"choose one of: {', '.join(lesson_names())}",
        )


def serve_only_from_args(args: argparse.Namespace) -> int:
    """Run ``serve_only`` with the port, idle timeout and lesson rules from ``args``."""
    _require_lesson_name(args, "--serve-only")
    lesson = get_lesson(args.lesson) if args.lesson else None
    return serve_only(args.port, args.idle_timeout, rules=rules_for(lesson, args.idle_timeout))


def start_from_args(args: argparse.Namespace) -> PracticeServer:
    """Start a practice server for ``args``; the caller stops it. ``server.lesson`` is set.

    Raises:
        UsageError: ``--lesson`` without a name together with ``--line``.
    """
    if args.line:
        _require_lesson_name(args, "--line")
    lesson = get_lesson(args.lesson) if args.lesson else None
    server = PracticeServer(args.port, rules_for(lesson, args.idle_timeout))
    server.lesson = lesson
    server.start()
    return server


def wants_lesson_picker(args: argparse.Namespace) -> bool:
    """Return True when ``--lesson`` was given without a name, so the console offers the list."""
    return bool(args.lesson == CHOOSE_LESSON)


def login_message(server: PracticeServer) -> str | None:
    """Return the practice user and password when the server's lesson needs AUTH, else None.

    Lessons that teach AUTH tell the user to log in with them. The password is new at every
    start and opens only this server.
    """
    lesson = server.lesson
    if lesson is None or not lesson.rules.require_auth:
        return None
    return f"Practice login: user {server.user}, password {server.password}"


class PracticeLesson:
    """The progress of the server's lesson, whose start messages also give the practice login."""

    def __init__(self, server: PracticeServer, lesson: Lesson) -> None:
        self.progress = LessonProgress(lesson)
        self.login = login_message(server)

    def start_messages(self) -> list[str]:
        """Return the lesson's title, introduction, the login if any, and the first instruction."""
        *opening, instruction = self.progress.start_messages()
        login = [self.login] if self.login else []
        return [*opening, *login, instruction]

    def observe(self, event: Event) -> list[str]:
        """Record one transcript event; return the lesson's messages about it."""
        return self.progress.observe(event)


def lesson_progress(server: PracticeServer) -> PracticeLesson | None:
    """Return the progress of the server's lesson from its first step, or None without one."""
    return PracticeLesson(server, server.lesson) if server.lesson is not None else None


def restart_for_lesson(server: PracticeServer, name: str) -> ConsoleOptions:
    """Restart ``server`` with the rules of lesson ``name`` (``""``: none); return options for it.

    The server keeps its user, password, idle timeout and mailbox. It gets a new certificate and,
    unless a port was given at start, a new port, so the console must connect again with the
    returned options.

    Raises:
        UsageError: no lesson has that name, or the port given at start is now in use.
    """
    lesson = get_lesson(name) if name else None
    server.stop()
    server.rules = rules_for(lesson, server.idle_timeout)
    server.lesson = lesson
    server.start()
    return console_options(server)


def console_options(
    server: PracticeServer, args: argparse.Namespace | None = None
) -> ConsoleOptions:
    """Return console options for ``server``, with the password in ``PASSWORD_ENV``.

    The password is put in this process's environment, because options carry only where a
    secret comes from, never the secret itself. A lesson that teaches STARTTLS by hand connects
    in plain text and sends nothing on connect. ``args`` is not read.
    """
    os.environ[PASSWORD_ENV] = server.password
    options = server.console_options(password_env=PASSWORD_ENV)
    lesson = server.lesson
    if lesson is None:
        return options
    connect = replace(options.connect, security=lesson.security, manual=lesson.manual)
    return replace(options, connect=connect)
