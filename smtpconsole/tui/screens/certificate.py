"""The certificate screen: the server's chain, its names and validity, and the verification result.

After a failed verification the screen offers one explicit way on: continue without
verification, which reconnects with verification off and marks the session insecure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from smtpconsole.tls import CertificateInfo, TlsInfo


def describe_certificate(number: int, cert: CertificateInfo, now: datetime) -> Text:
    """Return the display text of certificate ``number`` of a chain (0 is the server's own)."""
    text = Text()
    role = "server certificate" if number == 0 else f"issuer certificate {number}"
    text.append(f"{role}\n", style="bold underline")
    text.append("\n".join(f"  {line}" for line in cert.describe()))
    if cert.expired(now):
        text.append("\n  outside its validity period now", style="bold red")
    if cert.self_signed:
        text.append("\n  self-signed: subject and issuer are the same", style="yellow")
    return text


def describe_verification(info: TlsInfo, failure: str | None) -> Text:
    """Return the verification result: verified, failed with the reason, or not checked."""
    text = Text()
    protocol = " ".join(part for part in (info.version, info.cipher) if part)
    if protocol:
        text.append(f"{protocol}\n")
    if info.server_name:
        text.append(f"Name checked: {info.server_name}\n")
    if info.verified:
        text.append("Verified: the chain and the host name are trusted.", style="bold green")
    elif failure or info.verify_error:
        reason = info.verify_error or failure
        text.append(f"NOT VERIFIED: {reason}", style="bold red")
    else:
        text.append("NOT VERIFIED: verification was turned off.", style="bold red")
    if info.chain and not info.chain_complete:
        text.append("\nOnly the server's own certificate is available, not its chain.", "dim")
    return text


class CertificateScreen(ModalScreen[bool]):
    """Shows one ``TlsInfo``; dismisses with True when the user continues without verification."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "dismiss(False)",
            "Close",
            id="certificate.close",
            tooltip="Close the certificate view and keep the current state",
        ),
    ]

    def __init__(
        self, info: TlsInfo, failure: str | None = None, *, now: datetime | None = None
    ) -> None:
        super().__init__()
        self.info = info
        self.failure = failure
        """Why the handshake failed, or None when showing a working connection."""
        self.now = now or datetime.now(UTC)

    def compose(self) -> ComposeResult:
        with Vertical(id="certificate-dialog", classes="dialog"):
            yield Static(describe_verification(self.info, self.failure), id="verification")
            with VerticalScroll(id="chain"):
                if not self.info.chain:
                    yield Static("The server sent no certificate we could read.")
                for number, cert in enumerate(self.info.chain):
                    yield Static(describe_certificate(number, cert, self.now), classes="cert")
            with Horizontal(classes="dialog-buttons"):
                if not self.info.verified and self.failure is not None:
                    yield Button(
                        "Continue without verification",
                        id="insecure",
                        variant="error",
                        tooltip="Reconnect trusting this server without checks; the status bar "
                        "shows NOT VERIFIED (insecure) for the rest of the session",
                    )
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        dialog = self.query_one("#certificate-dialog")
        dialog.border_title = "TLS certificate"
        self.query_one("#close", Button).focus()

    @on(Button.Pressed, "#insecure")
    def _insecure(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss(False)
