"""A form to edit one profile: the fields are checked by the profile validator before saving.

The form builds the profile's YAML data from what was typed and runs it through
``profiles_parse.parse_profile``, the validator behind ``smtpconsole profiles check``, so each
error appears under its field in the validator's own words. Fields the form does not show
(``authzid``, client certificates, ``min_version``, timeouts) are kept from the profile edited.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any, ClassVar

import yaml
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from smtpconsole.errors import ProfileError
from smtpconsole.options import SECURITY_MODES
from smtpconsole.profiles import (
    Profile,
    ProfileIssue,
    SaveResult,
    profile_file_for,
    save_profile,
    will_lose_comments,
)
from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_schema import PASSWORD_KINDS
from smtpconsole.profiles_store import profile_to_data
from smtpconsole.tui.widgets.menu import Menu

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""Profile names accepted for a new file: the name becomes the file name ``NAME.yaml``."""

NO_PASSWORD = "none"
"""Password kind in the form for a profile without an ``auth.password`` field."""

PASSWORD_REFERENCE_HINTS: dict[str, str] = {
    NO_PASSWORD: "no source: the console asks when needed",
    "env": "name of the environment variable, e.g. SMTP_PASSWORD",
    "command": "program and arguments, e.g. pass show smtp/work",
    "keyring": "keyring service name; the user name is the entry",
    "prompt": "typed when needed; nothing to enter here",
}

FIELD_WIDGETS: tuple[tuple[str, str], ...] = (
    ("auth.password", "password-reference"),
    ("auth.mechanism", "mechanism"),
    ("auth.username", "username"),
    ("tls.verify", "verify"),
    ("tls.ca_file", "ca-file"),
    ("tls.sni", "sni"),
    ("envelope.mail_from", "mail-from"),
    ("envelope.rcpt_to", "rcpt-to"),
    ("name", "name"),
    ("host", "host"),
    ("port", "port"),
    ("security", "security"),
    ("ehlo", "ehlo"),
    ("notes", "notes"),
)
"""Validator field paths, by prefix, and the id of the form field where their errors appear."""


def overwrite_warnings(path: Path, own_file: Path | None = None) -> list[str]:
    """Return what saving to ``path`` replaces or loses, for the user to read before saving.

    ``own_file`` is the file the profile was read from, which is expected to be replaced.
    """
    warnings: list[str] = []
    try:
        exists = path.exists()
        lose_comments = will_lose_comments(path)
    except (OSError, ProfileError) as error:
        return [f"cannot read {path}: {error}"]
    if exists and (own_file is None or path.resolve() != own_file.resolve()):
        warnings.append(f"{path} exists: saving replaces it.")
    if lose_comments:
        warnings.append(
            f"{path.name} was written by hand and its comments are not kept; "
            f"the old file is copied to {path.name}.bak first."
        )
    return warnings


class ProfileFormScreen(ModalScreen[SaveResult | None]):
    """Form for every common field of a profile, which dismisses with the ``SaveResult`` saved."""

    DEFAULT_CSS = """
    ProfileFormScreen {
        align: center middle;
    }
    ProfileFormScreen #profile-form {
        width: 100;
        height: 90%;
    }
    ProfileFormScreen #profile-fields {
        height: 1fr;
    }
    ProfileFormScreen .form-row {
        height: auto;
    }
    ProfileFormScreen .form-row Label {
        width: 18;
        padding: 1 1 0 0;
    }
    ProfileFormScreen .form-row Input, ProfileFormScreen .form-row Select {
        width: 1fr;
    }
    ProfileFormScreen #password-kind {
        width: 16;
    }
    ProfileFormScreen #notes {
        height: 5;
        width: 1fr;
    }
    ProfileFormScreen .field-error {
        color: $text-error;
        height: auto;
        padding-left: 18;
    }
    ProfileFormScreen #form-warnings {
        color: $text-warning;
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="profile_form.cancel", tooltip="Close unsaved"),
        Binding(
            "ctrl+s", "save", "Save", id="profile_form.save", tooltip="Check the fields and save"
        ),
    ]

    def __init__(self, profile: Profile | None = None, path: Path | None = None) -> None:
        super().__init__()
        self.profile = profile
        """The profile edited; None for a new one."""
        if path is None and profile is not None:
            path = profile.path
        self.path = path
        """File written. When None, the file follows the name typed (see ``profile_file_for``)."""
        self.errors: dict[str, list[str]] = {}
        """Error lines shown, by the id of the Static under the field they belong to."""

    def compose(self) -> ComposeResult:
        profile = self.profile
        auth = profile.auth if profile is not None else None
        tls = profile.tls if profile is not None else None
        envelope = profile.envelope if profile is not None else None
        source = auth.password if auth is not None else None
        kind = source.kind if source is not None else NO_PASSWORD
        with Vertical(id="profile-form", classes="dialog"):
            with VerticalScroll(id="profile-fields"):
                yield from _row("Name", Input(profile.name if profile else "", id="name"))
                yield from _row("Host", Input(profile.host if profile else "", id="host"))
                port = str(profile.port) if profile and profile.port is not None else ""
                yield from _row("Port", Input(port, id="port", placeholder="default"))
                security = profile.security if profile is not None else "starttls"
                yield from _row(
                    "Security",
                    Menu(
                        [(mode, mode) for mode in SECURITY_MODES],
                        value=security,
                        allow_blank=False,
                        id="security",
                    ),
                )
                ehlo = profile.ehlo if profile and profile.ehlo else ""
                yield from _row("EHLO name", Input(ehlo, id="ehlo", placeholder="this host"))
                mechanism = auth.mechanism if auth and auth.mechanism else ""
                yield from _row(
                    "AUTH mechanism",
                    Input(mechanism, id="mechanism", placeholder="best offered, e.g. PLAIN"),
                )
                username = auth.username if auth and auth.username else ""
                yield from _row("User name", Input(username, id="username"))
                yield from _password_row(kind, _reference_text(source))
                verify = tls.verify if tls is not None else True
                yield from _row("TLS", Checkbox("verify the certificate", verify, id="verify"))
                ca_file = tls.ca_file if tls and tls.ca_file else ""
                yield from _row("CA file", Input(ca_file, id="ca-file", placeholder="system"))
                sni = tls.sni if tls and tls.sni else ""
                yield from _row("TLS name (SNI)", Input(sni, id="sni", placeholder="the host"))
                mail_from = envelope.mail_from if envelope and envelope.mail_from else ""
                yield from _row("MAIL FROM", Input(mail_from, id="mail-from"))
                rcpt_to = ", ".join(envelope.rcpt_to) if envelope else ""
                yield from _row(
                    "RCPT TO", Input(rcpt_to, id="rcpt-to", placeholder="a@x.test, b@y.test")
                )
                notes = profile.notes if profile and profile.notes else ""
                yield from _row("Notes", TextArea(notes, id="notes"))
            yield Static("", id="form-error", classes="field-error")
            yield Static("", id="form-warnings")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        title = (
            f"Profile {self.profile.name}" if self.profile and self.profile.name else "New profile"
        )
        self.query_one("#profile-form").border_title = title
        self.query_one("#form-error").display = False
        self._update_reference_hint()
        self._update_warnings()
        self.query_one("#name" if not self.profile or not self.profile.name else "#host").focus()

    # Live hints

    @on(Select.Changed, "#password-kind")
    def _kind_changed(self) -> None:
        self._update_reference_hint()

    def _update_reference_hint(self) -> None:
        kind = str(self.query_one("#password-kind", Select).value)
        reference = self.query_one("#password-reference", Input)
        reference.placeholder = PASSWORD_REFERENCE_HINTS.get(kind, "")
        reference.disabled = kind in (NO_PASSWORD, "prompt")

    @on(Input.Changed, "#name")
    def _name_changed(self) -> None:
        self._update_warnings()

    def target_file(self) -> Path | None:
        """Return the file the form saves to, or None while a new profile has no valid name."""
        if self.path is not None:
            return self.path
        name = self.query_one("#name", Input).value.strip()
        return profile_file_for(name) if SAFE_NAME.match(name) else None

    def _update_warnings(self) -> None:
        path = self.target_file()
        own_file = self.profile.path if self.profile is not None else None
        warnings = overwrite_warnings(path, own_file) if path is not None else []
        lines = [f"Saves to {path}"] if path is not None else []
        self.query_one("#form-warnings", Static).update(Text("\n".join(lines + warnings)))
        button = self.query_one("#save", Button)
        button.label = "Overwrite" if warnings else "Save"

    # Saving

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self._clear_errors()
        issues = self._local_issues()
        path = self.target_file()
        if issues or path is None:
            self._show_issues(issues)
            return
        try:
            data = self.form_data()
        except ValueError as error:
            self._show_issues([ProfileIssue(None, None, None, "auth.password", str(error))])
            return
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        profile, issues = parse_profile(text, path)
        if profile is None:
            self._show_issues(issues)
            return
        try:
            result = save_profile(profile, path)
        except ProfileError as error:
            self._show_error("form-error", str(error))
            return
        self.dismiss(result)

    def _local_issues(self) -> list[ProfileIssue]:
        name = self.query_one("#name", Input).value.strip()
        if self.path is None and not SAFE_NAME.match(name):
            message = (
                f"invalid name {name!r}: use letters, digits, '.', '-' and '_' (it names the file)"
                if name
                else "missing name: it names the file NAME.yaml"
            )
            return [ProfileIssue(None, None, None, "name", message)]
        return []

    def form_data(self) -> dict[str, Any]:
        """Return the profile's YAML data from the form, on top of the fields the form omits.

        Raises:
            ValueError: the command of a ``command`` password source has unbalanced quotes.
        """
        data: dict[str, Any] = profile_to_data(self.profile) if self.profile is not None else {}
        auth = data.setdefault("auth", {})
        tls = data.setdefault("tls", {})
        envelope = data.setdefault("envelope", {})
        _put(data, "name", self._text("name"))
        _put(data, "host", self._text("host"))
        _put(data, "port", _number_or_text(self._text("port")))
        _put(data, "security", str(self.query_one("#security", Select).value))
        _put(data, "ehlo", self._text("ehlo"))
        _put(auth, "mechanism", self._text("mechanism"))
        _put(auth, "username", self._text("username"))
        _put(auth, "password", self._password_data())
        tls["verify"] = self.query_one("#verify", Checkbox).value
        _put(tls, "ca_file", self._text("ca-file"))
        _put(tls, "sni", self._text("sni"))
        _put(envelope, "mail_from", self._text("mail-from"))
        recipients = [part.strip() for part in self.query_one("#rcpt-to", Input).value.split(",")]
        _put(envelope, "rcpt_to", [address for address in recipients if address] or None)
        _put(data, "notes", self.query_one("#notes", TextArea).text.strip() or None)
        return {key: value for key, value in data.items() if value != {}}

    def _text(self, widget_id: str) -> str | None:
        return self.query_one(f"#{widget_id}", Input).value.strip() or None

    def _password_data(self) -> object:
        kind = str(self.query_one("#password-kind", Select).value)
        reference = self.query_one("#password-reference", Input).value.strip()
        if kind == NO_PASSWORD:
            return None
        if kind == "prompt":
            return "prompt"
        if kind == "command":
            return {"command": shlex.split(reference)}
        return {kind: reference}

    # Errors under their fields

    def _clear_errors(self) -> None:
        self.errors = {}
        for error in self.query(".field-error"):
            if isinstance(error, Static):
                error.update("")
                error.display = False

    def _show_issues(self, issues: list[ProfileIssue]) -> None:
        for issue in issues:
            text = f"{issue.field}: {issue.message}" if issue.field else issue.message
            if issue.hint:
                text += f" (hint: {issue.hint})"
            self._show_error(_error_id_for(issue.field), text)

    def _show_error(self, error_id: str, text: str) -> None:
        lines = self.errors.setdefault(error_id, [])
        lines.append(text)
        error = self.query_one(f"#{error_id}", Static)
        error.update(Text("\n".join(lines)))
        error.display = True


def _row(label: str, widget: Input | Select[str] | Checkbox | TextArea) -> ComposeResult:
    with Horizontal(classes="form-row"):
        yield Label(label)
        yield widget
    error = Static("", id=f"error-{widget.id}", classes="field-error")
    error.display = False
    yield error


def _password_row(kind: str, reference: str) -> ComposeResult:
    with Horizontal(classes="form-row"):
        yield Label("Password from")
        yield Menu(
            [(NO_PASSWORD, NO_PASSWORD), *[(name, name) for name in PASSWORD_KINDS]],
            value=kind,
            allow_blank=False,
            id="password-kind",
        )
        yield Input(reference, id="password-reference")
    error = Static("", id="error-password-reference", classes="field-error")
    error.display = False
    yield error


def _reference_text(source: object) -> str:
    from smtpconsole.profiles import PasswordSource

    if not isinstance(source, PasswordSource):
        return ""
    if source.kind == "command":
        return shlex.join(source.command or ())
    if source.kind == "env":
        return source.env or ""
    if source.kind == "keyring":
        return source.keyring or ""
    return ""


def _error_id_for(field: str) -> str:
    for prefix, widget_id in FIELD_WIDGETS:
        if field == prefix or field.startswith(prefix + "."):
            return f"error-{widget_id}"
    return "form-error"


def _put(section: dict[str, Any], key: str, value: object) -> None:
    if value is None:
        section.pop(key, None)
    else:
        section[key] = value


def _number_or_text(text: str | None) -> int | str | None:
    # The validator reports a wrong type or range with the value as typed, so text stays text.
    if text is not None and re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    return text
