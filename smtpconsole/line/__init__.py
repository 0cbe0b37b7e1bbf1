"""The prompt_toolkit line mode: ``smtpconsole --line``.

On a terminal, ``LineConsole`` runs a prompt with completion, masked history and console keys.
When stdin is not a terminal, ``run_plain`` reads stdin one line at a time with no prompt_toolkit
application, sends each line verbatim and waits for its reply where one is due.
"""

from __future__ import annotations

import asyncio
import sys

from smtpconsole.options import ConsoleOptions


def run(options: ConsoleOptions) -> int:
    """Run the line mode on ``options`` and return the exit status (0 after a normal end)."""
    if not sys.stdin.isatty():
        from smtpconsole.line.plain import run_plain

        return asyncio.run(run_plain(options, sys.stdin, sys.stdout))
    return asyncio.run(_run_console(options))


async def _run_console(options: ConsoleOptions) -> int:
    from smtpconsole.line.console import LineConsole
    from smtpconsole.session import Session

    console = LineConsole(options, Session(options.connect))
    return await console.run()


__all__ = ["run"]
