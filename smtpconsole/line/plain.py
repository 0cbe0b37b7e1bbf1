"""Line mode without a terminal: stdin lines go out verbatim, the transcript goes to stdout.

Each line waits for its reply when one is due: every command gets one (RFC 5321 section 4.2),
a message line after 354 gets none, and the line holding only ``.`` gets the reply to the message.
After ``BDAT <size>`` the lines are the chunk's octets, and the reply waits for the last of them.
So a here-document or a pipe drives the dialogue one step at a time, like a slow typist.

Input that ends inside DATA or inside a BDAT chunk leaves the message unfinished: the console
warns, closes without QUIT (which the server would take as message content) and exits with
status 1.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TextIO

from smtpconsole.errors import ReadTimeout, SmtpConsoleError, TransportError
from smtpconsole.line.lesson import LessonGuide, lesson_lines
from smtpconsole.options import ConsoleOptions
from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtpconsole.transcript import Event, format_event

if TYPE_CHECKING:
    from smtpconsole.protocol.dialogue import Dialogue
    from smtpconsole.session import Session

UNFINISHED_MESSAGE_WARNING = (
    "!! the message was not finished (no line with only '.'), so the server "
    "discards it; closing without QUIT, which would count as a message line"
)
"""Printed when the input ends inside DATA, by Ctrl-D on a terminal or at the end of a pipe."""


def unfinished_message_warning(dialogue: Dialogue) -> str | None:
    """Return the warning for input that ends now, or None when no message is left unfinished.

    Inside DATA or a BDAT chunk (``Dialogue.mid_message``) the server would read QUIT as message
    content, so the session closes without it.
    """
    if dialogue.chunk_octets_left > 0:
        return (
            f"!! the BDAT chunk was not finished ({dialogue.chunk_octets_left} octets missing), "
            "so the server discards the message; closing without QUIT, which would count as "
            "chunk octets"
        )
    if dialogue.mid_message:
        return UNFINISHED_MESSAGE_WARNING
    return None


# Python decodes undecodable input bytes 0x80-0xFF to these lone surrogates (PEP 383).
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def undecodable_byte_problem(line: str) -> str | None:
    """Return why ``line`` cannot go out as UTF-8, naming the first bad byte; None when it can.

    ``line`` comes from input decoded with the ``surrogateescape`` error handler, which keeps each
    byte that is not valid UTF-8 as a lone surrogate. Any other lone surrogate is named as such.
    """
    for index, char in enumerate(line):
        code = ord(char)
        if not 0xD800 <= code <= 0xDFFF:
            continue
        offset = len(line[:index].encode("utf-8", errors="surrogateescape")) + 1
        if code in _ESCAPED_BYTES:
            fault = f"byte 0x{code - 0xDC00:02X} at byte {offset} of the line is not valid UTF-8"
        else:
            fault = f"character U+{code:04X} at byte {offset} of the line is a lone surrogate"
        return (
            f"{fault}, and every line goes out as UTF-8; convert the input to UTF-8 first, for "
            "example with iconv -f ISO-8859-1 -t UTF-8 for Latin-1 text"
        )
    return None


async def run_plain(
    options: ConsoleOptions, stdin: TextIO, stdout: TextIO, *, lesson: LessonGuide | None = None
) -> int:
    """Connect, send each stdin line, close with QUIT at end of input; return the exit status.

    ``lesson`` is a practice lesson whose messages print after the events they are about.
    """
    from smtpconsole.session import Session

    session = Session(options.connect)

    def print_event(event: Event) -> None:
        lines = format_event(event)
        if lesson is not None:
            lines += lesson_lines(lesson.observe(event))
        stdout.write("".join(line + "\n" for line in lines))
        stdout.flush()

    if lesson is not None:
        stdout.write("".join(line + "\n" for line in lesson_lines(lesson.start_messages())))

    unsubscribe = session.subscribe(print_event)
    try:
        await session.connect()
        status = await _send_lines(session, stdin, stdout)
        if not session.closed:
            await session.close()
        return status
    except SmtpConsoleError as exc:
        stdout.write(f"!! {exc}\n")
        return 1
    finally:
        unsubscribe()


async def _send_lines(session: Session, stdin: TextIO, stdout: TextIO) -> int:
    while not session.closed:
        text = await asyncio.to_thread(stdin.readline)
        if not text:
            return _end_of_input(session, stdout)
        line = text.removesuffix("\n").removesuffix("\r")
        problem = undecodable_byte_problem(line)
        if problem is not None:
            stdout.write(f"!! not sent: {problem}\n")
            continue
        try:
            await session.send_typed(line)
        except LocalProtocolError as exc:
            stdout.write(f"!! not sent: {exc.message}\n")
        except (ReadTimeout, RemoteProtocolError) as exc:
            # The connection stays open: go on with the next line.
            stdout.write(f"!! {exc.message}\n")
        except TransportError as exc:
            stdout.write(f"!! {exc}\n")
            return 1
    return 0


def _end_of_input(session: Session, stdout: TextIO) -> int:
    """Return the exit status at the end of stdin: 1 when a message is left unfinished."""
    warning = None if session.closed else unfinished_message_warning(session.dialogue)
    if warning is not None:
        stdout.write(warning + "\n")
        return 1
    return 0
