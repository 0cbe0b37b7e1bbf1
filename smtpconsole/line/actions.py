"""Actions of the console keys; ``run_action`` runs one between two prompts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from smtpconsole.errors import SmtpConsoleError
from smtpconsole.line.compose import compose
from smtpconsole.line.keys import ConsoleAction, describe_keys
from smtpconsole.protocol import commands
from smtpconsole.protocol.errors import ProtocolError
from smtpconsole.protocol.replies import Reply
from smtpconsole.transcript import ReplyReceived

if TYPE_CHECKING:
    from smtpconsole.line.console import LineConsole


async def run_action(console: LineConsole, action: ConsoleAction) -> None:
    """Run the action of a console key, reporting its errors without ending the console."""
    handler = _HANDLERS[action]
    try:
        await handler(console)
    except (SmtpConsoleError, ProtocolError, OSError) as exc:
        console.write(f"!! {action.value}: {exc}")
    except (EOFError, KeyboardInterrupt):
        console.write(f"-- {action.value}: cancelled")


async def show_help(console: LineConsole) -> None:
    """Print the console keys and the rule that typed lines go out verbatim."""
    console.write("-- every line you type is sent as typed; console actions are on keys:")
    for line in describe_keys():
        console.write(f"--   {line}")
    console.write(
        "--   Ctrl-D sends QUIT (if connected) and exits; Tab completes verbs and parameters"
    )


async def authenticate(console: LineConsole) -> None:
    """Authenticate with SASL, or respond to the 334 challenge of an AUTH typed by hand."""
    from smtpconsole.protocol.sasl import create_mechanism

    session = console.session
    auth = console.options.auth
    typed = _typed_auth_mechanism(console)
    name = typed or auth.mechanism or _best_mechanism(console)
    username = auth.username or await console.read_text("User name: ")
    secret = await _secret(console)
    if not secret:
        console.write("-- auth: no password entered; nothing sent")
        if typed is not None:
            console.write("-- auth: the server still awaits a response; type * to cancel AUTH")
        return
    mechanism = create_mechanism(name, username=username, secret=secret, authzid=auth.authzid)
    reply = last_reply(console)
    if typed is not None and (reply is None or reply.code != 334):
        console.write("-- auth: no 334 challenge to respond to")
        return
    console.authenticating = True
    try:
        if typed is None:
            await session.authenticate(mechanism)
        else:
            assert reply is not None
            await session.continue_authentication(mechanism, reply)
    finally:
        console.authenticating = False


def _typed_auth_mechanism(console: LineConsole) -> str | None:
    """Return the mechanism of a typed AUTH that awaits a response, else None."""
    from smtpconsole.transcript import LineSent

    if not console.session.dialogue.awaiting_auth_response:
        return None
    for event in reversed(console.session.transcript.events):
        if isinstance(event, LineSent) and commands.verb_of(event.raw) == "AUTH":
            words = event.raw.split()
            return words[1].decode("ascii", errors="replace").upper() if len(words) > 1 else None
    return None


def _best_mechanism(console: LineConsole) -> str:
    from smtpconsole.protocol.sasl import preferred_mechanism

    capabilities = console.session.dialogue.capabilities
    offered = capabilities.auth_mechanisms if capabilities is not None else ()
    return preferred_mechanism(offered) or "PLAIN"


async def _secret(console: LineConsole) -> str:
    from smtpconsole.credentials import resolve_secret

    auth = console.options.auth
    if auth.password_env or auth.password_command or auth.keyring_service:
        secret = resolve_secret(auth, prompt=False)
        if secret is not None:
            return secret
    return await console.read_hidden("Password (typed characters show as *): ")


async def show_certificate(console: LineConsole) -> None:
    """Print the TLS version, the verification result and each certificate of the chain."""
    info = console.session.tls_info
    if info is None:
        console.write("-- certificate: no TLS yet; send STARTTLS or connect with --tls")
        return
    state = "verified" if info.verified else f"NOT verified ({info.verify_error or 'unchecked'})"
    console.write(f"== {info.version} {info.cipher}, {state}, server name {info.server_name}")
    for number, certificate in enumerate(info.chain):
        console.write(f"== certificate {number}:")
        for line in certificate.describe():
            console.write(f"==   {line}")


async def export_transcript(console: LineConsole) -> None:
    """Write the transcript, secrets masked, to a new text file in the exports folder."""
    from smtpconsole.locations import create_export_file

    path = create_export_file("transcript", ".txt")
    try:
        written = console.session.transcript.export_text(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    console.write(f"-- transcript written to {written}")


async def explain_last_reply(console: LineConsole) -> None:
    """Explain the last reply: what the code means and what to do next."""
    from smtpconsole.protocol.explain import explain

    reply = last_reply(console)
    if reply is None:
        console.write("-- explain: no reply yet")
        return
    explanation = explain(reply, host=console.options.connect.host, last_verb=_last_verb(console))
    status = f" {explanation.enhanced_status}" if explanation.enhanced_status else ""
    console.write(f"-- {explanation.code}{status}: {explanation.meaning}")
    console.write(f"-- next: {explanation.action}")
    if explanation.provider_hint:
        console.write(f"-- {explanation.provider_hint}")


def _last_verb(console: LineConsole) -> str | None:
    """Return the verb of the last line sent before the last reply, as ``explain`` takes it."""
    from smtpconsole.transcript import LineSent

    seen_reply = False
    for event in reversed(console.session.transcript.events):
        if isinstance(event, ReplyReceived):
            seen_reply = True
        elif isinstance(event, LineSent) and seen_reply:
            if event.source == "data":
                return "DATA-END"
            return commands.verb_of(event.raw) or None
    return "GREETING" if seen_reply else None


def last_reply(console: LineConsole) -> Reply | None:
    for event in reversed(console.session.transcript.events):
        if isinstance(event, ReplyReceived):
            return event.reply
    return None


async def record(console: LineConsole) -> None:
    """Save the current connection as a scenario file that ``smtpconsole run`` replays."""
    from smtpconsole.recording import ReplaySettings, save_scenario

    session = console.session
    settings = ReplaySettings.of_session(session, console.options.auth)
    saved = save_scenario(session.transcript, settings)
    for line in saved.describe():
        console.write(f"-- {line}")


async def reconnect(console: LineConsole) -> None:
    """Connect again through the same session after the connection closed."""
    await console.reconnect()


_HANDLERS: dict[ConsoleAction, Callable[[LineConsole], Awaitable[None]]] = {
    ConsoleAction.HELP: show_help,
    ConsoleAction.AUTH: authenticate,
    ConsoleAction.COMPOSE: compose,
    ConsoleAction.CERTIFICATE: show_certificate,
    ConsoleAction.EXPORT: export_transcript,
    ConsoleAction.EXPLAIN: explain_last_reply,
    ConsoleAction.RECORD: record,
    ConsoleAction.RECONNECT: reconnect,
}
