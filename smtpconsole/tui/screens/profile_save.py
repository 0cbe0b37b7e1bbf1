"""The dialog that saves the current connection as a profile, after asking for its name.

The password is written only as its source (``env``, ``command``, ``keyring`` or ``prompt``),
which comes from the connection's ``AuthOptions``. A password typed in the AUTH form is never
saved, because the options do not contain it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from smtpconsole.errors import ProfileError
from smtpconsole.options import ConsoleOptions
from smtpconsole.profiles import (
    Profile,
    SaveResult,
    check_profile_file,
    password_source_of,
    profile_file_for,
    profile_from_options,
    save_profile,
)
from smtpconsole.tui.screens.profile_form import SAFE_NAME, ProfileFormScreen, overwrite_warnings


def suggested_name(options: ConsoleOptions) -> str:
    """Return a profile name for ``options``: the profile used, or one made from the host."""
    if options.profile_name and SAFE_NAME.match(options.profile_name):
        return options.profile_name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", options.connect.host).strip("-.") or "server"
    return name[:64]


class SaveProfileScreen(ModalScreen[SaveResult | None]):
    """Ask for a profile name and save the connection's options under it."""

    DEFAULT_CSS = """
    SaveProfileScreen {
        align: center middle;
    }
    SaveProfileScreen #save-dialog {
        width: 90;
        height: auto;
    }
    SaveProfileScreen #save-summary {
        height: auto;
        margin-top: 1;
    }
    SaveProfileScreen #save-warnings {
        color: $text-warning;
        height: auto;
    }
    SaveProfileScreen #save-error {
        color: $text-error;
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="profile_save.cancel", tooltip="Close unsaved"),
    ]

    def __init__(self, options: ConsoleOptions) -> None:
        super().__init__()
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="save-dialog", classes="dialog"):
            yield Label("Profile name (names the file NAME.yaml)")
            yield Input(suggested_name(self.options), id="profile-name")
            yield Static("", id="save-summary")
            yield Static("", id="save-warnings")
            yield Static("", id="save-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Edit all fields", id="edit")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save-dialog").border_title = "Save this connection as a profile"
        self._update()
        self.query_one("#profile-name", Input).focus()

    def target_file(self) -> Path | None:
        """Return the file the profile is saved to, or None while the name is invalid."""
        name = self.query_one("#profile-name", Input).value.strip()
        return profile_file_for(name) if SAFE_NAME.match(name) else None

    @on(Input.Changed, "#profile-name")
    def _update(self) -> None:
        path = self.target_file()
        error = self.query_one("#save-error", Static)
        if path is None:
            name = self.query_one("#profile-name", Input).value.strip()
            error.update(Text(f"invalid name {name!r}: use letters, digits, '.', '-' and '_'"))
            self.query_one("#save-summary", Static).update("")
            self.query_one("#save-warnings", Static).update("")
            return
        error.update("")
        source = password_source_of(self.options)
        password = (
            f"password from {source.describe()} (the password itself is not written)"
            if source is not None
            else "no password source"
        )
        connect = self.options.connect
        summary = f"{connect.address}, {connect.security}, {password}\nSaves to {path}"
        self.query_one("#save-summary", Static).update(Text(summary))
        warnings = overwrite_warnings(path)
        self.query_one("#save-warnings", Static).update(Text("\n".join(warnings)))
        self.query_one("#save", Button).label = "Overwrite" if warnings else "Save"

    def profile(self, name: str, path: Path) -> Profile:
        """Return the profile to write: the connection's options over the file's other fields."""
        existing, _ = check_profile_file(path) if path.exists() else (None, [])
        return profile_from_options(self.options, name, base=existing)

    @on(Input.Submitted, "#profile-name")
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        path = self.target_file()
        if path is None:
            return
        name = self.query_one("#profile-name", Input).value.strip()
        try:
            result = save_profile(self.profile(name, path), path)
        except ProfileError as error:
            self.query_one("#save-error", Static).update(Text(str(error)))
            return
        self.dismiss(result)

    @on(Button.Pressed, "#edit")
    def _edit(self) -> None:
        path = self.target_file()
        if path is None:
            return
        name = self.query_one("#profile-name", Input).value.strip()

        def edited(result: SaveResult | None) -> None:
            if result is not None:
                self.dismiss(result)

        self.app.push_screen(ProfileFormScreen(self.profile(name, path), path), edited)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
