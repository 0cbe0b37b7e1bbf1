"""The AUTH challenge screen: a typed AUTH got 334, so show the decoded challenge and get the response."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.protocol.replies import Reply, decode_text
from smtpconsole.protocol.sasl import decode_challenge
from smtpconsole.tui.typed_auth import ChallengeAnswer


def describe_challenge(reply: Reply) -> Text:
    """Return the challenge as sent and decoded from base64, or why it does not decode."""
    text = Text()
    text.append("Server: ", style="bold")
    text.append(f"{reply.code} {reply.text}\n")
    text.append("Decoded: ", style="bold")
    try:
        decoded = decode_challenge(reply.text)
    except RemoteProtocolError as error:
        text.append(error.message, style="red")
        return text
    text.append(repr(decode_text(decoded)) if decoded else "(empty: send the initial response)")
    return text


class ChallengeScreen(ModalScreen[ChallengeAnswer | None]):
    """Modal offering the ways to respond to one 334 challenge; every response is masked in the pane."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "dismiss(None)",
            "Type it myself",
            id="challenge.close",
            tooltip="Close; type the response in the raw input instead (base64, masked in the pane)",
        ),
    ]

    def __init__(self, reply: Reply, mechanism: str, *, can_use_profile: bool) -> None:
        super().__init__()
        self.reply = reply
        self.mechanism = mechanism
        self.can_use_profile = can_use_profile

    def compose(self) -> ComposeResult:
        with Vertical(id="challenge-dialog", classes="dialog"):
            yield Static(describe_challenge(self.reply), id="challenge")
            yield Label("Response (plain text, sent base64-encoded)")
            yield Input(id="answer", password=True)
            yield Checkbox("The response is already base64", id="is-base64")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send response", id="send", variant="primary")
                yield Button(
                    "Answer from profile",
                    id="profile",
                    disabled=not self.can_use_profile,
                    tooltip=f"Answer as the {self.mechanism or 'SASL'} mechanism would, with the "
                    "profile's user name and secret",
                )
                yield Button("Cancel AUTH (*)", id="cancel", variant="warning")

    def on_mount(self) -> None:
        title = f"AUTH {self.mechanism}: server challenge" if self.mechanism else "AUTH challenge"
        self.query_one("#challenge-dialog").border_title = title
        self.query_one("#answer", Input).focus()

    @on(Input.Submitted, "#answer")
    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        text = self.query_one("#answer", Input).value
        as_is = self.query_one("#is-base64", Checkbox).value
        self.dismiss(ChallengeAnswer("base64" if as_is else "typed", text))

    @on(Button.Pressed, "#profile")
    def _profile(self) -> None:
        self.dismiss(ChallengeAnswer("profile"))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(ChallengeAnswer("cancel"))
