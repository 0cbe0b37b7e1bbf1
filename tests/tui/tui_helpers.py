"""Helpers for the TUI tests (a plain module, imported by name like the session helpers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Select

from smtpconsole.options import ConnectOptions, ConsoleOptions, TlsOptions
from smtpconsole.tui.app import SmtpConsoleApp
from smtpconsole.tui.screens.main import MainScreen
from smtpconsole.tui.widgets.protocol_pane import ProtocolPane
from smtpconsole.tui.widgets.raw_input import RawInput

TERMINAL_SIZE = (120, 40)
WAIT_SECONDS = 15.0
"""Upper bound of each wait, generous because a loaded machine can be slow."""


def console_options(
    port: int,
    *,
    ca_file: object = None,
    security: str = "starttls",
    host: str = "127.0.0.1",
    **connect: Any,
) -> ConsoleOptions:
    """Console options for a local test server: a fixed EHLO name and short timeouts."""
    connect.setdefault("ehlo_name", "client.test")
    connect.setdefault("connect_timeout", 5.0)
    connect.setdefault("read_timeout", 5.0)
    tls = TlsOptions(ca_file=str(ca_file) if ca_file else None)
    return ConsoleOptions(
        ConnectOptions(host, port, security=security, tls=tls, **connect),  # type: ignore[arg-type]
        mail_from="alice@example.com",
        rcpt_to=("bob@example.com",),
    )


def main_screen(app: SmtpConsoleApp) -> MainScreen:
    screen = app.main_screen
    assert screen is not None, "the main screen is not shown"
    return screen


def status_of(app: SmtpConsoleApp) -> Any:
    """Return the status bar's current state on the main screen."""
    from smtpconsole.tui.widgets.status_bar import StatusBar

    return main_screen(app).query_one(StatusBar).status


def pane_lines(app: SmtpConsoleApp) -> list[str]:
    """Return the pane's lines; empty while the main screen is still being composed."""
    panes = main_screen(app).query(ProtocolPane)
    return list(panes.first().lines) if panes else []


def pane_text(app: SmtpConsoleApp) -> str:
    return "\n".join(pane_lines(app))


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS
) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


async def wait_until_ready(pilot: Pilot[Any], app: SmtpConsoleApp, *, tls: bool = True) -> None:
    """Wait until the automatic greeting (and STARTTLS) is done and the builder is filled."""
    await wait_for(pilot, lambda: status_of(app).phase == "READY", "phase READY")
    if tls:
        await wait_for(pilot, lambda: "verified" in status_of(app).security, "TLS in the status")
    await pilot.pause(0.1)


async def wait_for_pane(pilot: Pilot[Any], app: SmtpConsoleApp, text: str) -> None:
    """Wait until a pane line contains ``text``."""
    await wait_for(
        pilot,
        lambda: any(text in line for line in pane_lines(app)),
        f"{text!r} in the pane; pane so far:\n{pane_text(app)}",
    )


async def type_line(pilot: Pilot[Any], text: str, *, keys: bool = False) -> None:
    """Enter ``text`` in the raw input and press Enter; ``keys`` types it key by key (slower)."""
    screen = main_screen(pilot.app)  # type: ignore[arg-type]
    raw_input = screen.query_one(RawInput)
    raw_input.focus()
    if keys:
        await pilot.press(*text)
    else:
        raw_input.value = text
    await pilot.press("enter")


def received_text(server: Any) -> str:
    return bytes(server.received).decode("utf-8", errors="replace")


async def wait_for_form(pilot: Pilot[Any], root: Any, selector: str) -> None:
    """Wait until ``selector`` exists under ``root`` and every Select there is mounted.

    Setting a Select's value before its own children exist fails inside Textual.
    """

    def ready() -> bool:
        if not root.query(selector):
            return False
        return all(select.is_mounted for select in root.query(Select))

    def describe() -> str:
        selects = [(select.id, select.is_mounted) for select in root.query(Select)]
        return f"{selector} ready (found: {bool(root.query(selector))}, selects: {selects})"

    try:
        await wait_for(pilot, ready, selector)
    except AssertionError as error:
        raise AssertionError(f"{error}; {describe()}") from None
