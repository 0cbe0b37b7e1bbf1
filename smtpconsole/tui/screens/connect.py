"""The connect screen, shown when no TARGET was given: saved profiles and a form for the server.

Choosing a profile fills the form with its fields and keeps its authentication and envelope
defaults, and the form may still be changed before connecting. Invalid profile files are listed with
their errors and cannot be chosen.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from smtpconsole.errors import UsageError
from smtpconsole.options import (
    DEFAULT_PORTS,
    SECURITY_MODES,
    ConsoleOptions,
    Security,
    format_target,
    parse_port,
    parse_target,
)
from smtpconsole.tui.widgets.menu import Menu

if TYPE_CHECKING:
    from smtpconsole.profiles import Profile, ProfileEntry, SaveResult

SECURITY_LABELS: dict[Security, str] = {
    "plain": "plain (no TLS; port 25)",
    "starttls": "STARTTLS (upgrade after EHLO; port 587)",
    "tls": "implicit TLS (from the first byte; port 465)",
}


class ConnectScreen(Screen[ConsoleOptions]):
    """Profile list and form for the server to connect to, which dismisses with the options."""

    DEFAULT_CSS = """
    ConnectScreen #connect-dialog {
        width: 100;
        max-width: 100%;
        max-height: 100%;
        overflow-y: auto;
    }
    ConnectScreen #profiles {
        height: auto;
        max-height: 8;
        border: round $primary-muted;
        &:focus {
            border: round $primary;
        }
    }
    ConnectScreen #profile-detail {
        height: auto;
        max-height: 6;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", "Quit", id="connect.quit", tooltip="Leave smtpconsole"),
        Binding(
            "f2",
            "edit_profile",
            "Edit profile",
            id="connect.edit_profile",
            tooltip="Edit the highlighted profile in a form and save it",
        ),
        Binding(
            "f3",
            "new_profile",
            "New profile",
            id="connect.new_profile",
            tooltip="Write a new profile from the host, port and security in the form",
        ),
    ]

    def __init__(self, base: ConsoleOptions) -> None:
        super().__init__()
        self.base = base
        """Options from the command line; the form fills in the rest."""
        self.profile: Profile | None = None
        """The profile chosen in the list, whose authentication and envelope are kept."""
        self._entries: list[ProfileEntry] = []

    def compose(self) -> ComposeResult:
        base = self.base.connect
        with Vertical(id="connect-dialog", classes="dialog"):
            yield OptionList(id="profiles")
            yield Static("", id="profile-detail")
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
                yield Menu(
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
        self.load_profiles()
        self.query_one("#host", Input).focus()

    # Profiles

    def load_profiles(self) -> None:
        """Read the profiles of every search folder again and list them."""
        from smtpconsole.profiles import list_profiles, search_folders

        self._entries = list_profiles()
        option_list = self.query_one("#profiles", OptionList)
        option_list.clear_options()
        option_list.add_options(
            [_profile_option(index, entry) for index, entry in enumerate(self._entries)]
        )
        folders = ", ".join(str(folder.path) for folder in search_folders())
        option_list.border_title = "Profiles (Enter fills the form, F2 edits)"
        if not self._entries:
            option_list.display = False
            self._show_detail(f"No profiles found in {folders}. F3 writes one.")
        else:
            option_list.display = True
            self._show_detail(f"Profiles from {folders}.")

    def _show_detail(self, text: str) -> None:
        self.query_one("#profile-detail", Static).update(Text(text))

    def _entry(self, option_id: str | None) -> ProfileEntry | None:
        if option_id is None or not option_id.startswith("profile-"):
            return None
        index = int(option_id.removeprefix("profile-"))
        return self._entries[index] if index < len(self._entries) else None

    def _highlighted_entry(self) -> ProfileEntry | None:
        option_list = self.query_one("#profiles", OptionList)
        if option_list.highlighted is None:
            return None
        return self._entry(option_list.get_option_at_index(option_list.highlighted).id)

    @on(OptionList.OptionHighlighted, "#profiles")
    def _profile_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = self._entry(event.option.id)
        if entry is not None:
            self._show_detail(_describe_entry(entry))

    @on(OptionList.OptionSelected, "#profiles")
    def _profile_selected(self, event: OptionList.OptionSelected) -> None:
        entry = self._entry(event.option.id)
        if entry is None:
            return
        if entry.profile is None:
            self._show_error(
                f"{entry.file.name} is invalid, so it cannot be used: fix the errors shown above."
            )
            return
        self.choose_profile(entry.profile)
        self.query_one("#connect", Button).focus()

    def choose_profile(self, profile: Profile) -> None:
        """Fill the form from ``profile`` and keep its authentication and envelope defaults."""
        self.profile = profile
        connect = profile.to_console_options().connect
        self.query_one("#host", Input).value = connect.host
        self.query_one("#port", Input).value = str(connect.port)
        self.query_one("#security", Select).value = connect.security
        self.query_one("#ehlo", Input).value = connect.ehlo_name or ""
        self.query_one("#ca-file", Input).value = connect.tls.ca_file or ""
        self._show_error("")

    def _show_error(self, text: str) -> None:
        self.query_one("#connect-error", Static).update(Text(text))

    def action_edit_profile(self) -> None:
        entry = self._highlighted_entry()
        if entry is None:
            self.notify("Highlight a profile in the list first.", severity="warning")
            return
        if entry.profile is None:
            self.notify(f"{entry.file} is invalid; fix it in an editor first.", severity="warning")
            return
        self._open_form(entry.profile)

    def action_new_profile(self) -> None:
        from smtpconsole.profiles import Profile

        host = self.query_one("#host", Input).value.strip()
        self._open_form(Profile(name="", host=host) if host else None)

    def _open_form(self, profile: Profile | None) -> None:
        from smtpconsole.tui.screens.profile_form import ProfileFormScreen

        def saved(result: SaveResult | None) -> None:
            if result is not None:
                self.notify(result.describe(), title="Profile saved")
                self.load_profiles()

        self.app.push_screen(ProfileFormScreen(profile), saved)

    # Connecting

    @on(Input.Submitted)
    @on(Button.Pressed, "#connect")
    def _connect(self) -> None:
        try:
            options = self.options()
        except UsageError as error:
            self._show_error(str(error))
            return
        self.dismiss(options)

    def options(self) -> ConsoleOptions:
        """Return the options from the form, with the chosen profile's other settings.

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
        # NOTE: a chosen profile replaces the command-line options other than the form's fields,
        # because the command line's own choices are not kept apart from its defaults here.
        base = self.profile.to_console_options() if self.profile is not None else self.base
        connect = replace(
            base.connect,
            host=target.host,
            port=port,
            security=security,
            ehlo_name=self.query_one("#ehlo", Input).value.strip() or None,
            tls=replace(base.connect.tls, ca_file=ca_file),
            manual=self.query_one("#manual", Checkbox).value,
        )
        return replace(base, connect=connect)


def _profile_option(index: int, entry: ProfileEntry) -> Option:
    profile = entry.profile
    if profile is None:
        count = len(entry.issues)
        first = entry.issues[0].message if entry.issues else "invalid"
        more = f" (+{count - 1} more)" if count > 1 else ""
        prompt = Text.assemble(
            (f"{entry.file.stem:<20} ", "bold"), (f"invalid: {first}{more}", "red")
        )
        return Option(prompt, id=f"profile-{index}")
    address = format_target(profile.host, profile.effective_port)
    shadowed = "  (shadowed)" if entry.shadowed else ""
    prompt = Text.assemble(
        (f"{profile.name:<20} ", "bold"), f"{address:<36} {profile.security}{shadowed}"
    )
    return Option(prompt, id=f"profile-{index}")


def _describe_entry(entry: ProfileEntry) -> str:
    profile = entry.profile
    if profile is None:
        return "\n".join(issue.format() for issue in entry.issues)
    lines = [str(entry.file)]
    auth = profile.auth
    if auth.username:
        source = auth.password.describe() if auth.password is not None else "prompt"
        lines.append(f"user {auth.username}, password from {source}")
    if profile.notes:
        lines.append(profile.notes.strip())
    return "\n".join(lines)
