"""The connect screen, shown when no TARGET was given: host, port, security and EHLO name."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from smtpconsole.errors import UsageError
from smtpconsole.options import (
    DEFAULT_PORTS,
    SECURITY_MODES,
    ConnectOptions,
    Security,
    parse_port,
    parse_target,
)

SECURITY_LABELS: dict[Security, str] = {
    "plain": "plain (no TLS; port 25)",
    "starttls": "STARTTLS (upgrade after EHLO; port 587)",
    "tls": "implicit TLS (from the first byte; port 465)",
}


class ConnectScreen(Screen[ConnectOptions]):
    """Form for the server to connect to; dismisses with the ``ConnectOptions`` chosen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", "Quit", id="connect.quit", tooltip="Leave smtpconsole"),
    ]

    def __init__(self, base: ConnectOptions) -> None:
        super().__init__()
        self.base = base
        """Options from the command line or profile; the form fills in the rest."""

    def compose(self) -> ComposeResult:
        base = self.base
        with Vertical(id="connect-dialog", classes="dialog"):
            with Grid(id="connect-fields"):
                yield Label("Host", classes="field-name")
                yield Input(base.host, id="host", placeholder="mail.example.com or [::1]")
                yield Label("Port", classes="field-name")
                yield Input(
                    str(base.port) if base.port else "",
                    id="port",
                    type="integer",
                    placeholder="default for the security mode",
                )
                yield Label("Security", classes="field-name")
                yield Select(
                    [(SECURITY_LABELS[mode], mode) for mode in SECURITY_MODES],
                    id="security",
                    value=base.security,
                    allow_blank=False,
                )
                yield Label("EHLO name", classes="field-name")
                yield Input(base.ehlo_name or "", id="ehlo", placeholder="this host's name")
                yield Label("CA file", classes="field-name")
                yield Input(base.tls.ca_file or "", id="ca-file", placeholder="system store")
            yield Checkbox(
                "Manual: send nothing on connect (no EHLO, no STARTTLS)", base.manual, id="manual"
            )
            yield Static("", id="connect-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Connect", id="connect", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#connect-dialog").border_title = "Connect to an SMTP server"
        self.query_one("#host", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def _connect(self) -> None:
        try:
            options = self.options()
        except UsageError as error:
            self.query_one("#connect-error", Static).update(str(error))
            return
        self.dismiss(options)

    def options(self) -> ConnectOptions:
        """Return the options from the form.

        Raises:
            UsageError: the host or port is invalid.
        """
        target = parse_target(self.query_one("#host", Input).value)
        value = self.query_one("#security", Select).value
        security: Security = "starttls"
        for mode in SECURITY_MODES:
            if mode == value:
                security = mode
        port_text = self.query_one("#port", Input).value.strip()
        port = parse_port(port_text) if port_text else target.port or DEFAULT_PORTS[security]
        ca_file = self.query_one("#ca-file", Input).value.strip() or None
        return replace(
            self.base,
            host=target.host,
            port=port,
            security=security,
            ehlo_name=self.query_one("#ehlo", Input).value.strip() or None,
            tls=replace(self.base.tls, ca_file=ca_file),
            manual=self.query_one("#manual", Checkbox).value,
        )
