"""The prompt_toolkit line mode: ``smtpconsole --line``.

On a terminal, ``LineConsole`` runs a prompt with completion, masked history and console keys.
When stdin is not a terminal, ``run_plain`` reads stdin one line at a time with no prompt_toolkit
application, sends each line verbatim and waits for its reply where one is due.
"""

from __future__ import annotations

import asyncio
import io
import sys
from typing import TYPE_CHECKING

from smtpconsole.options import ConsoleOptions

if TYPE_CHECKING:
    from smtpconsole.line.lesson import LessonGuide


def run(options: ConsoleOptions, lesson: LessonGuide | None = None) -> int:
    """Run the line mode on ``options`` and return the exit status (0 after a normal end).

    ``lesson`` is a practice lesson whose messages print between the transcript lines.
    """
    if not sys.stdin.isatty():
        from smtpconsole.line.plain import run_plain

        if isinstance(sys.stdin, io.TextIOWrapper):
            # Keep bytes that are not valid UTF-8, so the line naming them is reported, not fatal.
            sys.stdin.reconfigure(errors="surrogateescape")

        return asyncio.run(run_plain(options, sys.stdin, sys.stdout, lesson=lesson))
    return asyncio.run(_run_console(options, lesson))


async def _run_console(options: ConsoleOptions, lesson: LessonGuide | None) -> int:
    from smtpconsole.line.console import LineConsole
    from smtpconsole.session import Session

    console = LineConsole(options, Session(options.connect), lesson=lesson)
    return await console.run()


__all__ = ["run"]
