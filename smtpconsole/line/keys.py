"""Console actions on function keys, never on typed text.

Each key ends the current prompt with a ``ConsoleAction`` instead of a line, so the console runs
the action between two prompts and every typed line still goes out verbatim. The text being typed
is kept and comes back in the next prompt.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent


class ConsoleAction(enum.Enum):
    """Action that a console key requests."""

    HELP = "help"
    AUTH = "auth"
    COMPOSE = "compose"
    CERTIFICATE = "certificate"
    EXPORT = "export"
    EXPLAIN = "explain"
    RECORD = "record"
    RECONNECT = "reconnect"


@dataclass(frozen=True)
class KeySpec:
    """One console key: its id, the key name as prompt_toolkit spells it, and what it does."""

    id: str
    key: str
    action: ConsoleAction
    description: str


CONSOLE_KEYS: tuple[KeySpec, ...] = (
    KeySpec("help", "f1", ConsoleAction.HELP, "list the console keys"),
    KeySpec(
        "auth",
        "f2",
        ConsoleAction.AUTH,
        "authenticate, or answer the current 334 challenge; typed password characters show as *",
    ),
    KeySpec(
        "compose",
        "f3",
        ConsoleAction.COMPOSE,
        "write a message in $VISUAL or $EDITOR and send it (MAIL and RCPT from its headers"
        " when no transaction is open)",
    ),
    KeySpec("certificate", "f4", ConsoleAction.CERTIFICATE, "show the server's TLS certificates"),
    KeySpec("export", "f5", ConsoleAction.EXPORT, "export the transcript to a text file"),
    KeySpec("explain", "f6", ConsoleAction.EXPLAIN, "explain the last reply in plain words"),
    KeySpec(
        "record",
        "f7",
        ConsoleAction.RECORD,
        "save the commands of this connection as a scenario for 'run', and print how to replay it",
    ),
    KeySpec(
        "reconnect",
        "f8",
        ConsoleAction.RECONNECT,
        "connect again after the server closed the connection",
    ),
)
"""Every console key, in the order the help lists them."""


def describe_keys() -> list[str]:
    """Return one help line per console key."""
    return [f"{spec.key.upper():>4}  {spec.description}" for spec in CONSOLE_KEYS]


def load_console_bindings(keep_text: Callable[[str], None]) -> KeyBindings:
    """Bind each console key to end the prompt with its ``ConsoleAction``.

    Args:
        keep_text: receives the text being typed, so the next prompt can show it again.
    """
    bindings = KeyBindings()
    for spec in CONSOLE_KEYS:
        bindings.add(spec.key)(_action_handler(spec.action, keep_text))
    return bindings


def _action_handler(
    action: ConsoleAction, keep_text: Callable[[str], None]
) -> Callable[[KeyPressEvent], None]:
    def handler(event: KeyPressEvent) -> None:
        """End the prompt with the key's console action, keeping the typed text."""
        keep_text(event.app.current_buffer.text)
        event.app.exit(result=action)

    return handler
