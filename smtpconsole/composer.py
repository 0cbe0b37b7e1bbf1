"""The message of a ``data`` step: built from the composer fields, or read as a raw payload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from smtpconsole.errors import ScriptError
from smtpconsole.options import ConsoleOptions
from smtpconsole.scenario import ComposerSpec

if TYPE_CHECKING:
    from smtpconsole.protocol.capabilities import Capabilities
    from smtpconsole.protocol.message import BuiltMessage


def compose(
    spec: ComposerSpec,
    sender: str | None,
    recipients: Sequence[str],
    options: ConsoleOptions,
    capabilities: Capabilities | None,
) -> BuiltMessage:
    """Build the message a composer spec describes; unset From and To come from the envelope.

    Raises:
        ScriptError: an attachment cannot be read.
        LocalProtocolError: a field is invalid, as ``protocol.message.build_message`` checks.
    """
    from smtpconsole.protocol.message import Attachment, MessageSpec, build_message

    try:
        attachments = tuple(Attachment.from_path(path) for path in spec.attachments)
    except OSError as exc:
        raise ScriptError(
            f"cannot read attachment {exc.filename}: {exc.strerror}", "check the file path"
        ) from None
    message = MessageSpec(
        from_address=spec.mail_from or sender or options.mail_from or "",
        to=spec.to or tuple(recipients) or options.rcpt_to,
        cc=spec.cc,
        subject=spec.subject or "",
        body=spec.body,
        attachments=attachments,
        extra_headers=spec.headers,
    )
    return build_message(message, capabilities)
