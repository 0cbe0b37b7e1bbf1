"""The message composer: headers, body and attachments, with a preview of the exact DATA payload.

The message is built by ``protocol.message.build_message``. The preview shows its dot-stuffed
payload byte for byte, decoded for display, so the preview is exactly what DATA sends.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from smtpconsole.protocol import message as message_builder
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.protocol.replies import decode_text
from smtpconsole.tui.widgets.menu import Menu

if TYPE_CHECKING:
    from smtpconsole.protocol.capabilities import Capabilities

PREVIEW_MAX_LINES = 400
"""Payload lines shown in the preview; the rest is counted, not shown."""

REBUILD_DELAY_SECONDS = 0.15
"""Pause after the last keystroke before the preview is rebuilt."""

CHARSETS = ("utf-8", "iso-2022-jp")

FIELDS: tuple[tuple[str, str, str], ...] = (
    ("from", "From", "Alice <alice@example.com>"),
    ("to", "To", "bob@example.com, carol@example.com"),
    ("cc", "Cc", "(optional)"),
    ("subject", "Subject", ""),
    ("date", "Date", ""),
    ("message-id", "Message-ID", ""),
    ("attachments", "Attachments", "file paths, separated by commas"),
)


@dataclass(frozen=True)
class ComposedMessage:
    """The composer's result: the envelope and the built message."""

    mail_from: str
    recipients: tuple[str, ...]
    built: message_builder.BuiltMessage
    mail_params: tuple[tuple[str, str | None], ...]


def split_list(text: str) -> tuple[str, ...]:
    """Split a comma-separated field into its trimmed, non-empty parts."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def render_payload(payload: bytes, max_lines: int = PREVIEW_MAX_LINES) -> Text:
    """Return the DATA payload as display text, one line per CRLF line, ``.`` end line included."""
    lines = payload.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    text = Text(no_wrap=True)
    for line in lines[:max_lines]:
        style = "bold yellow" if line.startswith(b"..") or line == b"." else ""
        text.append(decode_text(line) + "\n", style=style)
    if len(lines) > max_lines:
        text.append(f"... {len(lines) - max_lines} more lines\n", style="dim")
    text.rstrip()
    return text


class ComposerScreen(ModalScreen[ComposedMessage | None]):
    """Form for one message; dismisses with a ``ComposedMessage`` when the user sends it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "dismiss(None)",
            "Cancel",
            id="composer.cancel",
            tooltip="Close the composer without sending anything",
        ),
        Binding(
            "ctrl+s",
            "send",
            "Send",
            id="composer.send",
            tooltip="Send MAIL, RCPT for each recipient and DATA with this payload",
        ),
    ]

    def __init__(
        self,
        capabilities: Capabilities | None,
        *,
        mail_from: str = "",
        rcpt_to: Sequence[str] = (),
        date: str | None = None,
        message_id: str | None = None,
    ) -> None:
        super().__init__()
        self.capabilities = capabilities
        self.defaults = {
            "from": mail_from,
            "to": ", ".join(rcpt_to),
            "date": date or email.utils.formatdate(localtime=True),
            "message-id": message_id or self._default_message_id(mail_from),
        }
        self.built: message_builder.BuiltMessage | None = None
        self._timer: Timer | None = None

    @staticmethod
    def _default_message_id(mail_from: str) -> str:
        domain = mail_from.rpartition("@")[2].strip("> ") or "smtpconsole.invalid"
        # make_msgid is given the domain, so it does not look up this host's name.
        return email.utils.make_msgid(domain=domain)

    def compose(self) -> ComposeResult:
        with Horizontal(id="composer-dialog", classes="dialog"):
            with Vertical(id="composer-form"):
                with Grid(id="composer-fields"):
                    for field_id, label, placeholder in FIELDS:
                        yield Label(label, classes="field-name")
                        yield Input(
                            self.defaults.get(field_id, ""), id=field_id, placeholder=placeholder
                        )
                    yield Label("Charset", classes="field-name")
                    yield Menu(
                        [(name, name) for name in CHARSETS],
                        id="charset",
                        value="utf-8",
                        allow_blank=False,
                    )
                yield TextArea(id="body", soft_wrap=False)
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Send (Ctrl+S)", id="send", variant="primary")
                    yield Button("Cancel", id="cancel")
            with Vertical(id="composer-preview"):
                with VerticalScroll(id="payload-scroll"):
                    yield Static("", id="payload")
                yield Static("", id="composer-warnings")

    def on_mount(self) -> None:
        self.query_one("#composer-dialog").border_title = "Compose a message"
        self.query_one("#payload-scroll").border_title = "Exact DATA payload (CRLF line ends)"
        self.query_one("#body", TextArea).border_title = "Body"
        self.rebuild()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(REBUILD_DELAY_SECONDS, self.rebuild)

    def spec(self) -> message_builder.MessageSpec:
        """Return the message described by the form.

        Raises:
            OSError: an attachment cannot be read.
        """
        values = {
            field_id: self.query_one(f"#{field_id}", Input).value for field_id, _, _ in FIELDS
        }
        charset = self.query_one("#charset", Select).value
        attachments = tuple(
            message_builder.Attachment.from_path(path) for path in split_list(values["attachments"])
        )
        return message_builder.MessageSpec(
            from_address=values["from"].strip(),
            to=split_list(values["to"]),
            cc=split_list(values["cc"]),
            subject=values["subject"],
            body=self.query_one("#body", TextArea).text,
            attachments=attachments,
            charset="iso-2022-jp" if charset == "iso-2022-jp" else "utf-8",
            date=values["date"].strip() or None,
            message_id=values["message-id"].strip() or None,
        )

    def rebuild(self) -> None:
        """Build the message from the form and show its payload and warnings."""
        payload = self.query_one("#payload", Static)
        warnings = self.query_one("#composer-warnings", Static)
        try:
            self.built = message_builder.build_message(self.spec(), self.capabilities)
        except (LocalProtocolError, OSError, ValueError) as error:
            self.built = None
            payload.update(Text(f"Cannot build the message: {error}", style="bold red"))
            warnings.update("")
            return
        payload.update(render_payload(self.built.payload_for_data))
        warnings.update(self._warnings_text(self.built))

    @staticmethod
    def _warnings_text(built: message_builder.BuiltMessage) -> Text:
        from smtpconsole.tui.advice import advice_text

        text = Text()
        params = " ".join(k if v is None else f"{k}={v}" for k, v in built.mail_params)
        text.append(f"MAIL FROM:<{built.sender}> {params}".rstrip() + "\n", style="bold")
        text.append(f"RCPT TO: {', '.join(built.recipients) or '(none)'}", style="bold")
        if built.warnings:
            text.append("\n")
            text.append_text(advice_text(built.warnings))
        return text

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_send(self) -> None:
        self.rebuild()
        built = self.built
        if built is None:
            self.notify("Fix the message first; the preview says what is wrong.", severity="error")
            return
        if not built.recipients:
            self.notify("Add at least one recipient in To or Cc.", severity="error")
            return
        self.dismiss(ComposedMessage(built.sender, built.recipients, built, built.mail_params))
