"""The interactive line console: one prompt_toolkit prompt over one ``Session``.

Replies print above the input line as they arrive, because the prompt runs under ``patch_stdout``
and the console prints each transcript event from a session listener. The prompt shows the phase
and the TLS and AUTH state. Every accepted line goes to ``Session.send_line`` verbatim; console
actions come only from keys (``keys.py``), so no typed text is ever taken as a console command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from prompt_toolkit.patch_stdout import patch_stdout

from smtpconsole.errors import SmtpConsoleError, TlsError, TransportError
from smtpconsole.line.completion import SuggestionCompleter
from smtpconsole.line.history import MaskedFileHistory
from smtpconsole.line.keys import ConsoleAction, load_console_bindings
from smtpconsole.line.lesson import LessonGuide, lesson_lines
from smtpconsole.line.plain import undecodable_byte_problem, unfinished_message_warning
from smtpconsole.options import ConsoleOptions
from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.dialogue import Phase, Suggestion
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.transcript import ConnectionClosed, ReplyReceived, TlsFailed, format_event

if TYPE_CHECKING:
    from smtpconsole.session import Session
    from smtpconsole.transcript import Event

NOT_CONNECTED = "not connected: press F8 to reconnect"


def prompt_text(session: Session) -> str:
    """Return the prompt: phase, TLS and AUTH state, e.g. ``[READY tls auth] smtp> ``.

    A closed connection shows only ``[CLOSED]``, because TLS and AUTH ended with it.
    """
    dialogue = session.dialogue
    if session.closed:
        return "[CLOSED] smtp> "
    parts = [dialogue.phase.name]
    parts.append("tls" if dialogue.tls_active else "no-tls")
    if session.insecure:
        parts.append("UNVERIFIED")
    if dialogue.authenticated:
        parts.append("auth")
    if dialogue.in_data:
        return f"[{' '.join(parts)}] data (a line with only '.' ends it)> "
    if dialogue.chunk_octets_left:
        return f"[{' '.join(parts)}] chunk ({dialogue.chunk_octets_left} octets left)> "
    return f"[{' '.join(parts)}] smtp> "


class LineConsole:
    """Runs the prompt loop, prints events and dispatches console keys."""

    def __init__(
        self,
        options: ConsoleOptions,
        session: Session,
        *,
        history_path: Path | None = None,
        input: Input | None = None,
        output: Output | None = None,
        write: Callable[[str], None] | None = None,
        lesson: LessonGuide | None = None,
    ) -> None:
        self.options = options
        self.session = session
        self.lesson = lesson
        """The practice lesson to follow, whose messages print after the events they are about."""
        self.kept_text = ""
        self.prompting = False
        """True while the prompt loop runs, the only time a closed connection gets the F8 hint."""
        self.tls_failure_answered = False
        """True once the user was asked about continuing without certificate verification."""
        self.authenticating = False
        """True while the F2 helper runs an exchange, which shows its own challenges."""
        self._write = write or _print
        history = MaskedFileHistory(history_path or _history_path(), self._is_secret)
        self.prompt = PromptSession[str](
            completer=SuggestionCompleter(self._completion_state),
            complete_while_typing=False,
            history=history,
            auto_suggest=AutoSuggestFromHistory(),
            key_bindings=load_console_bindings(self._keep_text),
            input=input,
            output=output,
            # The typed line leaves the screen once accepted: its "C:" line shows what went out,
            # with secrets masked, so a password typed as a command does not stay readable.
            erase_when_done=True,
        )

    def _is_secret(self) -> bool:
        return self.session.dialogue.awaiting_auth_response

    def _keep_text(self, text: str) -> None:
        self.kept_text = text

    def _completion_state(self) -> tuple[Sequence[Suggestion], Capabilities | None, bool]:
        dialogue = self.session.dialogue
        return dialogue.suggestions(), dialogue.capabilities, dialogue.in_data

    def print_event(self, event: Event) -> None:
        """Print the display lines of one transcript event, secrets masked."""
        for line in format_event(event):
            self._write(line)
        if isinstance(event, ReplyReceived) and event.reply.code == 334 and not self.authenticating:
            self._write("-- F2 responds from the profile, or from a password prompt that hides it")
        if isinstance(event, ConnectionClosed) and self.prompting:
            self._write(f"-- {NOT_CONNECTED}, or Ctrl-D to exit")
            # Redraw the waiting prompt so that it shows the CLOSED phase now.
            self.prompt.app.invalidate()

    def print_lesson(self, event: Event) -> None:
        """Print the lesson's messages about one transcript event, if any."""
        if self.lesson is not None:
            for line in lesson_lines(self.lesson.observe(event)):
                self._write(line)

    def write(self, line: str) -> None:
        self._write(line)

    async def run(self) -> int:
        """Connect, then prompt until Ctrl-D; return the exit status (1 if connecting failed)."""
        unsubscribe = self.session.subscribe(self.print_event)
        unsubscribe_lesson = self.session.subscribe(self.print_lesson)
        try:
            with patch_stdout(raw=True):
                if self.lesson is not None:
                    for line in lesson_lines(self.lesson.start_messages()):
                        self._write(line)
                return await self._connect_and_loop()
        finally:
            unsubscribe_lesson()
            unsubscribe()

    async def _connect_and_loop(self) -> int:
        if not await self.connect():
            if not self.session.closed:
                await self._close()
            return 1
        self.prompting = True
        try:
            status = await self._loop()
        finally:
            self.prompting = False
        if not self.session.closed:
            await self._close()
        return status

    async def connect(self) -> bool:
        """Connect (again) through the session; return True when connected.

        After a failed certificate verification the user may choose to continue without it.
        """
        events_before = len(self.session.transcript.events)
        self.tls_failure_answered = False
        try:
            await self.session.connect()
        except TlsError as exc:
            # A handshake failure was printed already by its TlsFailed event, so only TLS errors
            # without one (such as a rejected STARTTLS) are printed here.
            new_events = self.session.transcript.events[events_before:]
            if not any(isinstance(event, TlsFailed) for event in new_events):
                self.write(f"!! {exc}")
            return await self._continue_unverified()
        except SmtpConsoleError as exc:
            self.write(f"!! {exc}")
            return False
        return True

    async def reconnect(self) -> None:
        """Connect again after the connection closed, through the same session."""
        if not self.session.closed:
            self.write("-- reconnect: still connected; type QUIT first to end this connection")
            return
        if self.session.tls_failure is not None:
            # Connecting with verification again would fail the same way.
            await self._continue_unverified()
            return
        self.write(f"-- reconnecting to {self.session.address}")
        await self.connect()

    async def _continue_unverified(self) -> bool:
        """Ask whether to go on without certificate verification; True once reconnected."""
        if self.session.tls_failure is None:
            return False
        self.tls_failure_answered = True
        self.write("!! the certificate above could not be verified; see the reason and the chain")
        try:
            answer = await self.read_text("Continue WITHOUT verification? [y/N] ")
        except (EOFError, KeyboardInterrupt):
            return False
        if answer.strip().lower() not in ("y", "yes"):
            return False
        try:
            await self.session.retry_insecure()
        except SmtpConsoleError as exc:
            self.write(f"!! {exc}")
            return False
        return True

    async def _loop(self) -> int:
        from smtpconsole.line.actions import run_action

        while True:
            try:
                result = await self.prompt.prompt_async(
                    lambda: prompt_text(self.session), default=self.kept_text
                )
            except EOFError:
                self._warn_unfinished_data()
                return 0
            except KeyboardInterrupt:
                self.kept_text = ""
                continue
            if isinstance(result, ConsoleAction):
                # The key handler kept the typed text; the next prompt shows it again.
                await run_action(self, result)
                continue
            self.kept_text = ""
            if self.session.closed:
                await self._typed_while_closed()
            else:
                await self.send(result)

    async def _typed_while_closed(self) -> None:
        """Offer the unverified retry after a failed typed STARTTLS, else print how to reconnect."""
        if self.session.tls_failure is not None and not self.tls_failure_answered:
            await self._continue_unverified()
            return
        self.write(f"!! not sent: {NOT_CONNECTED} (Up recalls the line)")

    def _warn_unfinished_data(self) -> None:
        warning = None if self.session.closed else unfinished_message_warning(self.session.dialogue)
        if warning is not None:
            self.write(warning)

    async def send(self, line: str) -> bool:
        """Send ``line`` verbatim; return False when the connection is gone.

        A lost connection is reported here and by its ``ConnectionClosed`` event, and the console
        keeps running so that F8 can reconnect.
        """
        problem = undecodable_byte_problem(line)
        if problem is not None:
            self.write(f"!! not sent: {problem}")
            return True
        try:
            if self.session.dialogue.phase is Phase.TLS_PENDING:
                # A typed STARTTLS got 220 and the session is still doing the handshake.
                await self.session.start_tls()
            await self.session.send_line(line, source="typed")
        except LocalProtocolError as exc:
            self.write(f"!! not sent: {exc.message}")
        except TransportError as exc:
            self.write(f"!! {exc}")
            return False
        return True

    async def _close(self) -> None:
        try:
            await self.session.close()
        except SmtpConsoleError as exc:
            self.write(f"!! {exc}")

    async def read_hidden(self, message: str) -> str:
        """Read a line without echo, such as a password, on the console's own input."""
        secret_prompt = PromptSession[str](input=self.prompt.input, output=self.prompt.output)
        return await secret_prompt.prompt_async(message, is_password=True)

    async def read_text(self, message: str, default: str = "") -> str:
        """Read one visible line, such as a user name, without storing it in the history."""
        plain_prompt = PromptSession[str](input=self.prompt.input, output=self.prompt.output)
        return await plain_prompt.prompt_async(message, default=default)


def _print(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def _history_path() -> Path:
    from smtpconsole.locations import history_file

    return history_file(create_dir=True)
