"""Run the steps of a scenario on one ``Session``, turning unexpected replies into ``StepFailed``.

The runner contains no protocol logic of its own: lines come from ``protocol.commands``, messages from
``protocol.message``, authentication from ``protocol.sasl`` through ``Session.authenticate``, and
every byte is in the session's transcript. When the server offers PIPELINING (RFC 2920), a MAIL step
followed by RCPT steps and a DATA step go out together and the replies are read afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Final

from smtpconsole.composer import compose
from smtpconsole.errors import CredentialError, ScriptError, SmtpConsoleError
from smtpconsole.options import ConsoleOptions
from smtpconsole.protocol import commands
from smtpconsole.protocol.replies import Reply
from smtpconsole.scenario import (
    STAGES,
    SUCCESS,
    AuthSpec,
    ComposerSpec,
    Expectation,
    Scenario,
    Stage,
    Step,
)
from smtpconsole.script import ExitCode, StepFailed

if TYPE_CHECKING:
    from smtpconsole.protocol.message import BuiltMessage
    from smtpconsole.session import Session
    from smtpconsole.transcript import Event

BDAT_CHUNK_BYTES = 1024 * 1024
"""Octets per BDAT chunk when the step sets no ``chunk_size``; each chunk waits for its reply."""

DATA_GO_AHEAD: Final = Expectation(code=354)
"""The reply a data step needs to DATA before it sends the message (RFC 5321 section 4.1.1.4)."""

_MESSAGE: Final = ("data", "bdat")
"""Actions that send a message."""

_STAGE_OF_ACTION: dict[str, Stage] = {
    "ehlo": "ehlo",
    "starttls": "tls",
    "auth": "auth",
    "mail": "mail",
    "rcpt": "rcpt",
    "data": "data",
    "bdat": "data",
}
_EXIT_OF_ACTION: dict[str, ExitCode] = {
    "ehlo": ExitCode.CONNECT,
    "starttls": ExitCode.TLS,
    "auth": ExitCode.AUTH,
    "mail": ExitCode.ENVELOPE,
    "rcpt": ExitCode.ENVELOPE,
    "data": ExitCode.DATA,
    "bdat": ExitCode.DATA,
}


_STAGE_NAMES: Final = {
    "auth": "AUTH",
    "mail": "MAIL FROM",
    "rcpt": "RCPT TO",
    "data": "message",
    "bdat": "message",
}
"""Stage names that messages about ``smtpconsole send`` use for each step."""


class Runner:
    """Runs one scenario from connect to QUIT."""

    def __init__(
        self,
        scenario: Scenario,
        options: ConsoleOptions,
        listener: Callable[[Event], None],
        *,
        pipelining: bool = True,
        bdat: bool = False,
        one_shot: bool = False,
        prompt_password: bool = False,
    ) -> None:
        self.scenario = scenario
        self.options = options
        self.pipelining = pipelining
        self.bdat = bdat
        """Send the message of each data step with BDAT when the server offers CHUNKING."""
        self.one_shot = one_shot
        """The steps come from ``smtpconsole send``: messages name the stage and the send options."""
        self.prompt_password = prompt_password
        """Ask for a missing password at a hidden prompt when standard input is a terminal."""
        self._secret: str | None = None
        self.last_reply: Reply | None = None
        self._listener = listener
        self._session: Session | None = None
        self._stopped = False
        self._sender: str | None = None
        self._recipients: list[str] = []
        self._messages: dict[int, BuiltMessage] = {}
        self._payload_written = False
        self._deferred: list[Step] = []
        """Send steps with an ``expect`` whose reply had not come yet, checked when it comes."""

    @property
    def session(self) -> Session:
        assert self._session is not None, "the runner is not connected"
        return self._session

    def _on_event(self, event: Event) -> None:
        from smtpconsole.transcript import LineSent, ReplyReceived

        if isinstance(event, ReplyReceived):
            self.last_reply = event.reply
        elif isinstance(event, LineSent) and event.source == "data":
            self._payload_written = True
        self._listener(event)

    async def run(self) -> None:
        """Connect, run the steps, then close with QUIT.

        Raises:
            StepFailed: a reply did not match; ``exit_code`` names the stage.
            TransportError: the connection failed, broke or timed out.
        """
        from smtpconsole.session import Session

        self.prepare()
        early_quit = self._quits_while_greeting()
        connect = self.options.connect
        self._session = Session(
            dataclasses.replace(connect, manual=True) if early_quit else connect,
            strict_replies=True,
        )
        unsubscribe = self._session.subscribe(self._on_event)
        try:
            greeting = await self._session.connect()
            if not greeting.is_success:
                raise StepFailed(
                    f"the server refused the connection: {_describe(greeting)}", ExitCode.CONNECT
                )
            if early_quit:
                await self._greet_until_quit()
            else:
                self._finish_connect_stages()
            if not self._stopped:
                await self._run_steps(self.scenario.steps)
            self._check_message_finished()
        finally:
            await self._close()
            unsubscribe()

    def prepare(self) -> None:
        """Check what the steps need before connecting, and resolve the password.

        A password command or prompt runs here, so no SMTP session waits open for it.

        Raises:
            CredentialError: an auth step has no user name or no password source, or the source
                failed.
            ScriptError: a message step has no sender for its From header.
        """
        sender: str | None = None
        for step in self.scenario.steps:
            if step.action == "auth":
                self._prepare_auth(step, step.argument)
            elif step.action == "mail":
                sender = step.argument
            elif step.action in _MESSAGE:
                self._check_sender(step, step.argument, sender)

    def _prepare_auth(self, step: Step, spec: AuthSpec) -> None:
        if spec.username == "":
            raise CredentialError(
                f"{self._where(step)}: the user name is empty",
                "a ${NAME} in 'username' expanded to an empty value; a recorded scenario reads "
                "${SMTP_USERNAME}: export it with the user name",
            )
        if not (spec.username or self.options.auth.username):
            hint = (
                "give --user NAME"
                if self.one_shot
                else "set 'username' in the step, --user, or the profile's auth.username"
            )
            raise CredentialError(f"{self._where(step)}: no user name for AUTH", hint)
        if self._step_password(step, spec) is not None:
            return
        if self._secret is None:
            self._secret = self._resolve_secret(step)

    def _step_password(self, step: Step, spec: AuthSpec) -> str | None:
        """Return the password the step gives itself, or None when it leaves it to the options.

        Raises:
            CredentialError: the password, or the variable it comes from, is empty or unset.
        """
        from smtpconsole.credentials import secret_from_env

        if spec.password is not None:
            if not spec.password:
                raise CredentialError(
                    f"{self._where(step)}: the password is empty",
                    "a ${NAME} in 'password' expanded to an empty value; a recorded scenario "
                    "reads ${SMTP_PASSWORD}: export it with the password",
                )
            return spec.password
        if spec.password_env is None:
            return None
        try:
            return secret_from_env(spec.password_env)
        except CredentialError as exc:
            raise CredentialError(f"{self._where(step)}: {exc.message}", exc.hint) from None

    def _resolve_secret(self, step: Step) -> str:
        from smtpconsole.credentials import resolve_secret

        secret = resolve_secret(self.options.auth, prompt=self.prompt_password)
        if secret is not None:
            return secret
        if self.one_shot:
            raise CredentialError(
                f"no password for AUTH as {self.options.auth.username}",
                "standard input is not a terminal, so there is no prompt: give --password-env "
                "VARIABLE, or a password source in the profile",
            )
        raise CredentialError(
            f"{self._where(step)}: no password for AUTH",
            "set password_env in the step, --password-env, or the profile's password source",
        )

    def _check_sender(self, step: Step, spec: ComposerSpec, sender: str | None) -> None:
        if spec.is_raw or spec.mail_from or sender or self.options.mail_from:
            return
        hint = (
            "give --from ADDRESS, because the null sender <> leaves the From header empty"
            if self.one_shot
            else "the mail step gives the null sender <>, so set 'from' in the data step"
        )
        raise ScriptError(f"{self._where(step)}: no address for the From header", hint)

    def _quits_while_greeting(self) -> bool:
        """True when ``quit_after`` ends the run inside what connect does without manual mode."""
        return not self.options.connect.manual and self.scenario.quit_after in (
            "connect",
            "ehlo",
            "tls",
        )

    async def _greet_until_quit(self) -> None:
        """Do the EHLO, STARTTLS and EHLO of connect one at a time, stopping at ``quit_after``."""
        session = self.session
        self._stage_done("connect")
        if self._stopped:
            return
        reply = await session.ehlo(source="auto")
        self._check_stage_reply(reply, SUCCESS, "EHLO", ExitCode.CONNECT)
        self._stage_done("ehlo")
        if self._stopped or self.options.connect.security != "starttls":
            self._stage_done("helo")
            return
        reply = await session.send_command(commands.starttls(), source="auto")
        self._check_stage_reply(reply, Expectation(code=220), "STARTTLS", ExitCode.TLS)
        await session.start_tls()
        reply = await session.ehlo(source="auto")
        self._check_stage_reply(reply, SUCCESS, "EHLO after STARTTLS", ExitCode.TLS)
        self._stage_done("helo")

    def _check_stage_reply(
        self, reply: Reply, expectation: Expectation, command: str, exit_code: ExitCode
    ) -> None:
        if not expectation.matches(reply.code, reply.text):
            raise StepFailed(
                f"{self.scenario.path}: {command} failed: expected {expectation.describe()}, "
                f"got {_describe(reply)}",
                exit_code,
            )

    def _finish_connect_stages(self) -> None:
        # Without manual mode the session already sent EHLO (and STARTTLS) on connect.
        stages: list[Stage] = ["connect"]
        if not self.options.connect.manual:
            stages += ["ehlo", "tls", "helo"]
        for stage in stages:
            self._stage_done(stage)

    def _stage_done(self, stage: Stage | None) -> None:
        quit_after = self.scenario.quit_after
        if stage is None or quit_after is None:
            return
        if STAGES.index(stage) >= STAGES.index(quit_after):
            self._stopped = True

    def _check_message_finished(self, next_step: Step | None = None) -> None:
        """Raise ``StepFailed`` when a message typed with ``send`` steps is not finished.

        Checked when the steps end, and before ``next_step`` when it is a step that would send a
        command: inside the message the server would read that command as message content. The
        session then closes without QUIT for the same reason. The server discards a message that
        has no line containing only ``.`` (RFC 5321 section 4.1.1.4), and a BDAT chunk that
        still owes octets keeps the server reading it (RFC 3030 section 2).
        """
        dialogue = self.session.dialogue
        if not dialogue.mid_message or self.session.closed:
            return
        step = next_step or self.scenario.steps[-1]
        if next_step is None:
            outcome = "so the server discards the message"
        else:
            outcome = "and this step's command would be read as message content; nothing was sent"
        if dialogue.chunk_octets_left > 0:
            raise StepFailed(
                f"{self._where(step)}: the BDAT chunk is not finished: "
                f"{dialogue.chunk_octets_left} octets are missing, {outcome}",
                ExitCode.DATA,
                "send lines until the chunk is complete: each counts its length plus 2 for CRLF",
            )
        raise StepFailed(
            f"{self._where(step)}: the message is not finished: DATA got 354, but no line "
            f"containing only '.' followed, {outcome}",
            ExitCode.DATA,
            "end the message with a step '- send: \".\"' after its last line",
        )

    async def _close(self) -> None:
        session = self._session
        if session is None or session.closed:
            return
        try:
            await session.close()
        except SmtpConsoleError as exc:
            self._diagnostic(f"closing the connection failed: {exc}")

    async def _run_steps(self, steps: Sequence[Step]) -> None:
        index = 0
        while index < len(steps) and not self._stopped:
            if self._passes_quit_after(steps[index]):
                return
            group = self._pipeline_group(steps, index)
            if group:
                self._check_message_finished(group[0])
                await self._run_pipelined(group)
                index += len(group)
                continue
            step = steps[index]
            if step.action == "mail":
                self._prepare_message(steps, index)
            await self.run_step(step)
            self._stage_done(self._stage_of(steps, index))
            index += 1
        quit_after = self.scenario.quit_after
        if quit_after is not None and not self._stopped:
            self._diagnostic(
                f"{self.scenario.path}: note: quit-after {quit_after}: no step completed that "
                "stage, so every step ran"
            )

    def _passes_quit_after(self, step: Step) -> bool:
        """Stop before a step of a stage after ``quit_after`` when that stage never ran.

        Without an auth step, ``quit-after: auth`` stops before MAIL, so that a run meant to check
        the credentials does not send a message. Print a note on stderr when it stops.
        """
        quit_after = self.scenario.quit_after
        stage = _STAGE_OF_ACTION.get(step.action)
        if quit_after is None or stage is None:
            return False
        if STAGES.index(stage) <= STAGES.index(quit_after):
            return False
        self._stopped = True
        if self.one_shot:
            skipped = _STAGE_NAMES.get(step.action, step.action)
            reason = "give --user to authenticate" if quit_after == "auth" else "it never ran"
            self._diagnostic(
                f"note: --quit-after {quit_after}, but no {quit_after} stage ran ({reason}), so "
                f"QUIT goes out before {skipped}"
            )
        else:
            self._diagnostic(
                f"{self._where(step)}: note: quit-after {quit_after}, but no step ran the "
                f"{quit_after} stage, so QUIT goes out before this step"
            )
        return True

    def _stage_of(self, steps: Sequence[Step], index: int) -> Stage | None:
        """Return the stage that step ``index`` completes.

        An ``ehlo`` step is the last EHLO (stage ``helo``) unless a ``starttls`` step follows, and a
        ``starttls`` step ends with its own EHLO over TLS, so it completes ``helo`` too.
        """
        action = steps[index].action
        if action == "ehlo":
            later = (step.action for step in steps[index + 1 :])
            return "ehlo" if "starttls" in later else "helo"
        if action == "starttls":
            return "helo"
        return _STAGE_OF_ACTION.get(action)

    def _pipeline_group(self, steps: Sequence[Step], start: int) -> list[Step]:
        """Return MAIL, its RCPTs and the data or bdat step from ``start`` when they may be
        pipelined."""
        capabilities = self.session.dialogue.capabilities
        if not self.pipelining or capabilities is None or not capabilities.pipelining:
            return []
        if self.scenario.quit_after in ("mail", "rcpt") or steps[start].action != "mail":
            return []
        end = start + 1
        while end < len(steps) and steps[end].action == "rcpt":
            end += 1
        if end == start + 1 or end >= len(steps) or self._action_of(steps[end]) not in _MESSAGE:
            return []
        return list(steps[start : end + 1])

    def _prepare_message(self, steps: Sequence[Step], mail_index: int) -> None:
        """Build the message of the data or bdat step after a MAIL step, for its parameters."""
        self._sender = steps[mail_index].argument
        self._recipients = []
        for step in steps[mail_index + 1 :]:
            if step.action == "rcpt":
                self._recipients += step.argument
            elif step.action in ("data", "bdat"):
                self._built(step)
                return
            elif step.action == "mail":
                return

    async def run_step(self, step: Step) -> None:
        """Run one step; raise ``StepFailed`` when its reply is not the expected one."""
        action = self._action_of(step)
        if action not in ("send", "expect", "pause"):
            self._check_message_finished(step)
        handler = getattr(self, f"_step_{action}")
        await handler(step)

    def _action_of(self, step: Step) -> str:
        """Return the step's action, with ``bdat`` for a data step when ``self.bdat`` applies."""
        if step.action == "data" and self.bdat:
            capabilities = self.session.dialogue.capabilities
            if capabilities is not None and capabilities.chunking:
                return "bdat"
        return step.action

    # Steps, one method per action.

    async def _step_send(self, step: Step) -> None:
        """Send the line as typed in the console, and check the reply when one is due.

        A message line, a ``BDAT`` line whose octets follow in later steps, and those octets get
        no reply yet. Their ``expect`` is checked against the reply that comes next: to the line
        containing only ``.``, or to the BDAT after the last octet of its chunk.
        """
        reply = await self.session.send_typed(step.argument)
        if reply is None:
            if step.expect is not None:
                self._deferred.append(step)
            return
        deferred, self._deferred = self._deferred, []
        for earlier in deferred:
            self._check_deferred(earlier, step, reply)
        self.check(step, reply, step.expect or Expectation(), ExitCode.EXPECTATION)

    def _check_deferred(self, earlier: Step, step: Step, reply: Reply) -> None:
        try:
            self.check(earlier, reply, Expectation(), ExitCode.EXPECTATION)
        except StepFailed as exc:
            raise StepFailed(
                f"{exc.message} (the reply came after step {step.number})", exc.exit_code
            ) from None

    async def _step_expect(self, step: Step) -> None:
        assert step.expect is not None
        if self.last_reply is None:
            raise StepFailed(
                f"{self._where(step)}: no reply to check yet",
                ExitCode.EXPECTATION,
                "put the expect step after a step that gets a reply",
            )
        self.check(step, self.last_reply, step.expect, ExitCode.EXPECTATION)

    async def _step_ehlo(self, step: Step) -> None:
        if step.argument:
            reply = await self.session.send_command(commands.ehlo(step.argument))
        else:
            reply = await self.session.ehlo()
        self.check(step, reply, SUCCESS, ExitCode.CONNECT)

    async def _step_starttls(self, step: Step) -> None:
        if self.session.dialogue.tls_active:
            self._diagnostic(f"{self._where(step)}: TLS is already active, so the step is skipped")
            return
        await self._command(step, commands.starttls(), Expectation(code=220), final=False)
        await self.session.start_tls()
        reply = await self.session.ehlo()
        self.check(step, reply, SUCCESS, ExitCode.TLS)

    async def _step_auth(self, step: Step) -> None:
        from smtpconsole.protocol.sasl import create_mechanism

        spec: AuthSpec = step.argument
        mechanism_name = self._auth_mechanism(spec)
        username = spec.username or self.options.auth.username
        if not username:
            self._prepare_auth(step, spec)
            return
        mechanism = create_mechanism(
            mechanism_name,
            username=username,
            secret=self._auth_secret(step, spec),
            authzid=self.options.auth.authzid,
        )
        reply = await self.session.authenticate(mechanism)
        try:
            self.check(step, reply, Expectation(code=235), ExitCode.AUTH)
        except StepFailed as exc:
            hint = self._mechanism_hint(mechanism_name, reply)
            if hint is not None and exc.exit_code is ExitCode.AUTH:
                raise StepFailed(exc.message, exc.exit_code, hint) from None
            raise

    def _mechanism_hint(self, name: str, reply: Reply) -> str | None:
        """Return a hint when a failed AUTH points at the mechanism rather than the password.

        That is a 504 reply, a reply text such as Postfix's "no mechanism available", or a
        mechanism missing from the EHLO reply's AUTH list.
        """
        capabilities = self.session.dialogue.capabilities
        offered = capabilities.auth_mechanisms if capabilities is not None else ()
        text = reply.text.lower()
        if reply.code != 504 and "mechanism" not in text and (not offered or name in offered):
            return None
        option = "--auth" if self.one_shot else "the step's mechanism or --auth"
        if offered:
            return (
                f"the server does not offer {name}; it offers {' '.join(offered)}: change {option}"
                " or leave it out to pick one"
            )
        return f"the server does not offer {name}: change {option}"

    async def _step_mail(self, step: Step) -> None:
        await self._command(step, self._mail_line(step), SUCCESS)

    async def _step_rcpt(self, step: Step) -> None:
        for address in step.argument:
            await self._command(step, commands.rcpt(address), SUCCESS)

    async def _step_data(self, step: Step) -> None:
        payload = self._payload(step)
        await self._command(step, commands.data(), DATA_GO_AHEAD, final=False)
        reply = await self._send_message(step, lambda: self.session.send_data(payload))
        self.check(step, reply, SUCCESS, ExitCode.DATA)

    async def _step_bdat(self, step: Step) -> None:
        """Send the message in BDAT chunks (RFC 3030); the reply to each chunk must be 2xx.

        The server does not deliver the message until the ``BDAT ... LAST`` chunk, so a failed
        chunk ends the step before the last one goes out.
        """
        spec: ComposerSpec = step.argument
        message = self._message_content(step)
        size = spec.chunk_size or BDAT_CHUNK_BYTES
        chunks = [message[start : start + size] for start in range(0, len(message), size)]
        if not chunks:
            chunks = [b""]
        for chunk in chunks[:-1]:
            reply = await self.session.send_chunk(chunk)
            self.check(step, reply, SUCCESS, ExitCode.DATA, final=False)
        last = chunks[-1]
        reply = await self._send_message(step, lambda: self.session.send_chunk(last, last=True))
        self.check(step, reply, SUCCESS, ExitCode.DATA)

    def _message_content(self, step: Step) -> bytes:
        """Return the message as delivered: what DATA's payload carries, without dot-stuffing."""
        return self._built(step).raw

    async def _step_pause(self, step: Step) -> None:
        await asyncio.sleep(step.argument)

    async def _step_quit(self, step: Step) -> None:
        await self._command(step, commands.quit(), Expectation(code=221))
        self._stopped = True

    # Pipelining (RFC 2920).

    async def _run_pipelined(self, group: list[Step]) -> None:
        """Send MAIL, every RCPT and DATA without waiting, then check each reply in order.

        RFC 2920 section 3.1: the client checks every status in the group. When DATA got 354 although
        no recipient was accepted, the client sends the end-of-data dot at once. When DATA got 354 but
        a sender or recipient step failed with some recipient accepted, the connection is closed
        before the message, so nothing is delivered (RFC 5321 section 4.1.1.4: a message without its
        final dot is not delivered).

        A bdat step's chunks wait for the MAIL and RCPT replies, because a BDAT LAST sent before
        them would deliver the message to the recipients accepted so far.
        """
        mail, *rcpts, data = group
        self._prepare_message(group, 0)
        lines = [self._mail_line(mail)]
        owners: list[Step] = [mail]
        for step in rcpts:
            lines += [commands.rcpt(address) for address in step.argument]
            owners += [step] * len(step.argument)
        if self._action_of(data) == "bdat":
            await self._run_pipelined_envelope(lines, owners)
            await self._step_bdat(data)
            self._stage_done("data")
            return
        payload = self._payload(data)
        lines.append(commands.data())
        await self.session.send_lines(lines)
        replies = [await self.session.read_reply() for _ in lines]
        failure = self._first_failure(owners, replies[:-1])
        data_reply = replies[-1]
        if failure is not None:
            if data_reply.code == 354 and not any(r.is_success for r in replies[1:-1]):
                await self.session.send_data(b".\r\n")
            raise failure
        self.check(data, data_reply, DATA_GO_AHEAD, ExitCode.DATA, final=False)
        reply = await self._send_message(data, lambda: self.session.send_data(payload))
        self.check(data, reply, SUCCESS, ExitCode.DATA)
        self._stage_done("data")

    async def _run_pipelined_envelope(self, lines: list[str], owners: list[Step]) -> None:
        await self.session.send_lines(lines)
        replies = [await self.session.read_reply() for _ in lines]
        failure = self._first_failure(owners, replies)
        if failure is not None:
            raise failure

    async def _send_message(self, step: Step, send: Callable[[], Awaitable[Reply]]) -> Reply:
        """Send the message with ``send``, which writes the payload after 354 or the last BDAT
        chunk. When the message ends the scenario, send QUIT right behind it.

        RFC 2920 section 3.1 lets message content start a group that QUIT ends, so a pipelining
        server gets both in one flight and the separate QUIT round trip is saved.
        """
        if not self._quit_follows(step):
            return await send()
        self._payload_written = False
        message = asyncio.ensure_future(send())
        # The session emits the payload's LineSent just before it writes, in the same step, so
        # once the event is seen a QUIT written now goes out after the message.
        while not self._payload_written and not message.done():
            await asyncio.sleep(0)
        if message.done() and message.exception() is not None:
            return message.result()
        goodbye = asyncio.ensure_future(self.session.send_command(commands.quit()))
        self._stopped = True
        try:
            reply = await message
        except BaseException:
            # The message failed, so the reply to QUIT does not matter: stop waiting for it, and
            # retrieve its outcome so that asyncio reports no orphaned exception.
            goodbye.cancel()
            with contextlib.suppress(asyncio.CancelledError, SmtpConsoleError):
                await goodbye
            raise
        try:
            await goodbye
        except SmtpConsoleError as exc:
            self._diagnostic(f"QUIT after the message failed: {exc}")
        return reply

    def _quit_follows(self, step: Step) -> bool:
        capabilities = self.session.dialogue.capabilities
        return (
            self.pipelining
            and capabilities is not None
            and capabilities.pipelining
            and step is self.scenario.steps[-1]
            and self.scenario.quit_after in (None, "data")
        )

    def _first_failure(self, owners: list[Step], replies: list[Reply]) -> StepFailed | None:
        for step, reply in zip(owners, replies, strict=True):
            try:
                self.check(step, reply, SUCCESS, ExitCode.ENVELOPE)
            except StepFailed as exc:
                return exc
        return None

    # Helpers.

    async def _command(
        self, step: Step, line: str, default: Expectation, *, final: bool = True
    ) -> Reply:
        reply = await self.session.send_command(line)
        exit_code = _EXIT_OF_ACTION.get(step.action, ExitCode.EXPECTATION)
        self.check(step, reply, default, exit_code, final=final)
        return reply

    def check(
        self,
        step: Step,
        reply: Reply,
        default: Expectation,
        exit_code: ExitCode,
        *,
        final: bool = True,
    ) -> None:
        """Raise ``StepFailed`` unless ``reply`` matches the step's expectation.

        An explicit ``expect`` applies to the step's final reply only; intermediate replies (354 to
        DATA, 220 to STARTTLS) are checked against ``default``.
        """
        explicit = final and step.expect is not None
        expectation = step.expect if explicit and step.expect is not None else default
        if expectation.matches(reply.code, reply.text):
            return
        raise StepFailed(
            f"{self._where(step)}: expected {expectation.describe()}, got {_describe(reply)}",
            ExitCode.EXPECTATION if explicit else exit_code,
        )

    def _where(self, step: Step) -> str:
        if self.one_shot:
            return f"{self.scenario.path} ({_STAGE_NAMES.get(step.action, step.action)})"
        return f"{self.scenario.path}: step {step.number} ({step.action})"

    def _diagnostic(self, text: str) -> None:
        sys.stderr.write(f"smtpconsole: {text}\n")

    def _mail_line(self, step: Step) -> str:
        address: str = step.argument
        params: list[commands.Param] = []
        for number, built in self._messages.items():
            if number > step.number:
                params += built.mail_params
                break
        capabilities = self.session.dialogue.capabilities
        keywords = {keyword for keyword, _ in params}
        if capabilities is not None and capabilities.smtputf8 and not address.isascii():
            if "SMTPUTF8" not in keywords:
                params.append(commands.smtputf8_param())
        return commands.mail(address, params)

    def _auth_mechanism(self, spec: AuthSpec) -> str:
        from smtpconsole.protocol.sasl import preferred_mechanism

        name = spec.mechanism or self.options.auth.mechanism
        if name:
            return name.upper()
        capabilities = self.session.dialogue.capabilities
        offered = capabilities.auth_mechanisms if capabilities is not None else ()
        return preferred_mechanism(offered) or "PLAIN"

    def _auth_secret(self, step: Step, spec: AuthSpec) -> str:
        password = self._step_password(step, spec)
        if password is not None:
            return password
        if self._secret is None:
            self._secret = self._resolve_secret(step)
        return self._secret

    def _payload(self, step: Step) -> bytes:
        """Return the DATA payload of a data step, and print a note on stderr when ``--bdat`` cannot apply.

        The runner sends a data step with DATA only when ``_action_of`` found no CHUNKING.
        """
        if self.bdat:
            self._diagnostic(
                f"{self._where(step)}: the server does not offer CHUNKING, so the message goes "
                "with DATA instead of BDAT"
            )
        return self._built(step).payload_for_data

    def _built(self, step: Step) -> BuiltMessage:
        """Build or read the message of a data or bdat step once, for the MAIL parameters and
        payload."""
        built = self._messages.get(step.number)
        if built is not None:
            return built
        spec: ComposerSpec = step.argument
        capabilities = self.session.dialogue.capabilities
        if spec.is_raw:
            from smtpconsole.protocol.message import prepare_raw_message

            built = prepare_raw_message(self._raw_message(step), capabilities)
        else:
            built = compose(spec, self._sender, self._recipients, self.options, capabilities)
        for warning in built.warnings:
            self._diagnostic(f"{self._where(step)}: {warning.level}: {warning.text}")
        self._messages[step.number] = built
        return built

    def _raw_message(self, step: Step) -> bytes:
        spec: ComposerSpec = step.argument
        if spec.raw is not None:
            return spec.raw.encode("utf-8")
        assert spec.raw_file is not None
        try:
            with open(spec.raw_file, "rb") as stream:
                return stream.read()
        except OSError as exc:
            raise ScriptError(
                f"{self._where(step)}: cannot read {spec.raw_file}: {exc.strerror or exc}",
                "check the path and the file's permissions",
            ) from None


def _describe(reply: Reply) -> str:
    first = reply.lines[0] if reply.lines else ""
    return f"{reply.code} {first}".rstrip()
