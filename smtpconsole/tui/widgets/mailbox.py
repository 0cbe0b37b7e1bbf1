"""The practice mailbox: messages the practice server accepted, with their header warnings.

The panel reads the mailbox by duck typing (``messages()`` returning objects with ``summary()``
and ``warnings``), so the TUI does not import the practice package to show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from smtpconsole.tui import help_text

SHOWN_MESSAGES = 20
"""Newest messages listed; older ones stay in the practice server's mailbox."""


class StoredMessageLike(Protocol):
    """The fields of one accepted message that the panel reads."""

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def summary(self) -> str: ...


class MailboxPanel(Static):
    """List of accepted messages, newest last, each with its header warnings."""

    HELP = help_text.MAILBOX_HELP

    def on_mount(self) -> None:
        self.border_title = "Practice mailbox"
        self.show_messages([])

    def show_messages(self, messages: Sequence[StoredMessageLike]) -> None:
        """Show the newest ``SHOWN_MESSAGES`` of ``messages``."""
        if not messages:
            self.update(Text("No message accepted yet. Send one with DATA or the composer.", "dim"))
            return
        text = Text()
        hidden = len(messages) - SHOWN_MESSAGES
        if hidden > 0:
            text.append(f"({hidden} older messages not shown)\n", style="dim")
        for message in messages[-SHOWN_MESSAGES:]:
            text.append(message.summary() + "\n", style="bold")
            for warning in message.warnings:
                text.append(f"  warning: {warning}\n", style="yellow")
        text.rstrip()
        self.border_subtitle = f"{len(messages)} accepted"
        self.update(text)
