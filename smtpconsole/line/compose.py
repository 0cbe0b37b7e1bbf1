"""The F3 composer: write a message in an editor, then send it.

Where the composed message's envelope comes from depends on the phase:

- After the greeting and EHLO, with no mail transaction open (phase READY), the message's From
  header gives MAIL FROM and its To and Cc headers give RCPT TO, and the composer sends MAIL, RCPT
  and DATA itself.
- With a recipient accepted (phase RCPT), the envelope typed so far is kept and only DATA and the
  message are sent.
- After a 354 reply to a typed DATA, only the message is sent.

In any other phase F3 sends nothing and prints what to do first. Quitting the editor with a
non-zero status (as vim's ``:cq`` does) or leaving the template unchanged cancels the message.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Final

from smtpconsole.protocol import commands
from smtpconsole.protocol.addresses import (
    bare_address,
    check_envelope_address,
    reason,
    split_address_list,
)
from smtpconsole.protocol.dialogue import Phase
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.protocol.message import (
    check_message,
    normalize_line_endings,
    parse_header_address,
    prepare_raw_payload,
)

if TYPE_CHECKING:
    from smtpconsole.line.console import LineConsole

DEFAULT_EDITOR: Final = "vi"
"""The editor run when neither $VISUAL nor $EDITOR is set."""

ADDRESS_HINT: Final = "write addr@domain or 'Name <addr@domain>', separated by commas"


# A trailing RFC 5322 comment, as in ``addr@domain (Name)``.
class InvalidHeaderAddress(ValueError):
    """An address in the From, To or Cc header is not a valid envelope address."""


@dataclass(frozen=True)
class EditResult:
    """The outcome of one editor run: the file's bytes, or why there is no message."""

    text: bytes
    cancelled: str | None = None
    """Reason the message is cancelled, as a sentence for the user; None when it may be sent."""


@dataclass(frozen=True)
class Envelope:
    """The MAIL FROM address and the RCPT TO addresses taken from a message's headers."""

    sender: str
    recipients: tuple[str, ...]


async def compose(console: LineConsole) -> None:
    """Open the composer, then send the message with the envelope the phase allows."""
    dialogue = console.session.dialogue
    blocker = _blocker(console)
    if blocker is not None:
        console.write(f"-- compose: {blocker}; nothing sent")
        return
    own_envelope = dialogue.phase is Phase.READY
    result = await edit_message(message_template(console))
    if result.cancelled is not None:
        console.write(f"-- compose: {result.cancelled}; nothing sent")
        return
    raw = normalize_line_endings(result.text)
    for warning in check_message(raw, dialogue.capabilities):
        console.write(f"-- compose: {warning.level}: {warning.text}")
    if own_envelope and not await _send_envelope(console, raw):
        return
    await _send_message(console, raw)


def _blocker(console: LineConsole) -> str | None:
    """Return why F3 cannot send in the current phase, or None when it can."""
    session = console.session
    dialogue = session.dialogue
    if session.closed:
        return "not connected: press F8 to reconnect first"
    if dialogue.pending:
        return f"replies to {', '.join(dialogue.pending)} are still due; press F3 again after them"
    if dialogue.in_data or dialogue.phase in (Phase.READY, Phase.RCPT):
        return None
    if dialogue.phase is Phase.MAIL:
        return (
            "no recipient accepted yet: type RCPT TO:<address> first, or RSET to let F3 take "
            "the envelope from the message's From and To headers"
        )
    if dialogue.phase is Phase.GREETED:
        return "send EHLO first; F3 then takes the envelope from the message's headers"
    return f"F3 cannot send a message in phase {dialogue.phase.name}"


async def _send_envelope(console: LineConsole, raw: bytes) -> bool:
    """Send MAIL FROM and RCPT TO from the message's headers; True when a recipient is accepted."""
    session = console.session
    try:
        envelope = envelope_of(raw)
    except InvalidHeaderAddress as exc:
        console.write(f"!! compose: {exc}; nothing sent")
        return False
    if not envelope.sender or not envelope.recipients:
        missing = "no From address" if not envelope.sender else "neither a To nor a Cc address"
        console.write(f"-- compose: the message has {missing} for the envelope; nothing sent")
        return False
    reply = await session.send_command(commands.mail(envelope.sender))
    if not reply.is_success:
        console.write("-- compose: MAIL FROM was rejected, so the message was not sent")
        return False
    accepted = 0
    for recipient in envelope.recipients:
        reply = await session.send_command(commands.rcpt(recipient))
        accepted += reply.is_success
    if accepted == 0:
        console.write("-- compose: no recipient was accepted; sending RSET to end the transaction")
        await session.send_command(commands.rset())
        return False
    return True


async def _send_message(console: LineConsole, raw: bytes) -> None:
    session = console.session
    if not session.dialogue.in_data:
        reply = await session.send_command(commands.data())
        if reply.code != 354:
            console.write("-- compose: DATA was not accepted, so the message was not sent")
            return
    await session.send_data(prepare_raw_payload(raw))


def envelope_of(raw: bytes) -> Envelope:
    """Return the envelope in a message's headers: From for MAIL FROM, To and Cc for RCPT TO.

    Each address is checked as ``smtpconsole send`` checks ``--from``, ``--to`` and ``--cc``: by
    the MAIL and RCPT builders, after taking the address out of ``Name <addr>`` or
    ``addr (comment)``, and by the header address check of ``build_message``. An empty group
    such as ``undisclosed-recipients:;`` gives no recipient.

    Raises:
        InvalidHeaderAddress: an address is not valid, naming the header and its value.
    """
    headers = BytesHeaderParser().parsebytes(raw)
    senders = header_addresses("From", headers.get_all("From", []), sender=True)
    recipients = tuple(
        address
        for name in ("To", "Cc")
        for address in header_addresses(name, headers.get_all(name, []), sender=False)
    )
    return Envelope(senders[0] if senders else "", recipients)


def header_addresses(name: str, values: list[str], *, sender: bool) -> tuple[str, ...]:
    """Return the bare addresses in the values of header ``name``, each checked as an envelope
    address (MAIL FROM when ``sender``, else RCPT TO).

    Raises:
        InvalidHeaderAddress: an item is not an address, or the builder rejects it.
    """
    addresses: list[str] = []
    for value in values:
        for item in split_address_list(str(value)):
            address = bare_address(item)
            if not address:
                continue
            try:
                check_envelope_address(address, sender=sender)
            except LocalProtocolError as exc:
                raise InvalidHeaderAddress(
                    f"invalid {name} header {str(value).strip()!r}: {reason(exc)}; {ADDRESS_HINT}"
                ) from None
            try:
                parse_header_address(name, item)
            except LocalProtocolError as exc:
                # The message names the header and the address, as `send` reports it.
                raise InvalidHeaderAddress(f"{exc.message}; {ADDRESS_HINT}") from None
            addresses.append(address)
    return tuple(addresses)


def message_template(console: LineConsole) -> str:
    """Return the text the editor starts with: headers from the options and an empty body."""
    options = console.options
    sender = options.mail_from or ""
    recipients = ", ".join(options.rcpt_to)
    return f"From: {sender}\nTo: {recipients}\nSubject: \nDate: {formatdate(localtime=True)}\n\n\n"


def editor_command() -> tuple[list[str], str]:
    """Return the editor's argument list and where it came from ($VISUAL, $EDITOR or fallback)."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "")
        if value.strip():
            return shlex.split(value), f"${variable}"
    return [DEFAULT_EDITOR], f"the fallback {DEFAULT_EDITOR} ($VISUAL and $EDITOR are unset)"


async def edit_message(template: str) -> EditResult:
    """Run the editor on a temporary file holding ``template`` and return what it saved.

    The result is cancelled when the editor is missing, exits with a non-zero status, or leaves
    the template unchanged.
    """
    try:
        command, source = editor_command()
    except ValueError as exc:
        return EditResult(b"", f"cannot parse the editor command in $VISUAL or $EDITOR: {exc}")
    start = template.encode("utf-8")
    descriptor, name = tempfile.mkstemp(prefix="smtpconsole-", suffix=".eml")
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(start)
        try:
            status = await asyncio.to_thread(subprocess.call, [*command, str(path)])
        except FileNotFoundError:
            return EditResult(
                b"",
                f"editor {command[0]!r} not found (from {source}); set $VISUAL or $EDITOR to an "
                "installed editor",
            )
        text = path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
    if status != 0:
        return EditResult(
            text, f"the editor exited with status {status}, so the message is cancelled"
        )
    if text == start or not text.strip():
        return EditResult(text, "the message was left unchanged or empty, so it is cancelled")
    return EditResult(text)
