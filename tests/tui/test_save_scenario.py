"""Saving a scenario from the TUI (Ctrl+R or the palette) and exporting (F9), each to a new file."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.command import CommandPalette

from smtpconsole import cli, locations
from smtpconsole.script import ExitCode
from smtpconsole.tui.app import SmtpConsoleApp, create_app
from smtpconsole.tui.commands import PALETTE_COMMANDS
from tests.tui.tui_helpers import (
    TERMINAL_SIZE,
    console_options,
    pane_lines,
    type_line,
    wait_for,
    wait_for_pane,
    wait_until_ready,
)

pytestmark = pytest.mark.timeout(60)


def _exports(pattern: str) -> list[Path]:
    folder = locations.exports_dir()
    return sorted(folder.glob(pattern)) if folder.exists() else []


def _notices(app: SmtpConsoleApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def _replay(command: str) -> int:
    words = shlex.split(command)
    assert words[:2] == ["smtpconsole", "run"]
    return cli.main(words[1:])


async def test_ctrl_r_saves_scenario_that_replays(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "NOOP")
        await wait_for_pane(pilot, app, "S: 250")
        await pilot.press("ctrl+r")
        await wait_for_pane(pilot, app, "-- replay it with: ")
        lines = pane_lines(app)
    [path] = _exports("scenario-*.yaml")
    assert f"-- scenario written to {path} (1 step)" in lines
    command = next(line for line in lines if line.startswith("-- replay it with: "))
    assert command == (
        f"-- replay it with: smtpconsole run {path} --ca-file {Path(server.ca_file).resolve()}"
    )
    assert yaml.safe_load(path.read_text())["steps"] == [{"send": "NOOP", "expect": 250}]
    assert path.stat().st_mode & 0o777 == 0o600
    code = await asyncio.to_thread(_replay, command.removeprefix("-- replay it with: "))
    assert code == ExitCode.OK


async def test_save_scenario_before_command_writes_nothing(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE, notifications=True) as pilot:
        await wait_until_ready(pilot, app)
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: any("nothing to record yet" in notice for notice in _notices(app)),
            "the nothing-to-record notification",
        )
    assert _exports("scenario-*") == []


async def test_palette_saves_scenario(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "RSET")
        await wait_for_pane(pilot, app, "S: 250")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"session: save as scenario")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for_pane(pilot, app, "-- scenario written to ")
    assert len(_exports("scenario-*.yaml")) == 1
    assert "session: save as scenario" in {command.title for command in PALETTE_COMMANDS}


async def test_repeated_saves_keep_every_file(start_smtp_server: Any) -> None:
    server = start_smtp_server()
    app = create_app(console_options(server.port, ca_file=server.ca_file))
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await wait_until_ready(pilot, app)
        await type_line(pilot, "NOOP")
        await wait_for_pane(pilot, app, "S: 250")
        await pilot.press("ctrl+r", "ctrl+r", "f9", "f9")
        await wait_for(
            pilot,
            lambda: len(_exports("scenario-*.yaml")) == 2 and len(_exports("smtpconsole-*")) == 2,
            "two scenario files and two transcript exports",
        )
        await pilot.pause(0.2)
    assert len(_exports("*")) == 4
