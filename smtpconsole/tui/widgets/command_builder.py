"""The guided command builder: the commands that make sense now, a form, and the exact line.

The list comes from ``Dialogue.suggestions()`` and the advice from ``Dialogue.check_line``; the
builder only renders them. Lines are built by ``protocol.commands`` and, for AUTH, by
``protocol.sasl``; the preview of an AUTH line is masked by ``transcript.redact``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Button, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from smtpconsole.tui import help_text

if TYPE_CHECKING:
    from smtpconsole.protocol.dialogue import Dialogue, Suggestion
    from smtpconsole.tui.widgets.builder_forms import AuthForm, CommandForm

WAITING_TEXT = "Waiting for the server: the commands that make sense will show here."


@dataclass(frozen=True)
class BuilderDefaults:
    """Values the forms start with, from the command line or the profile."""

    ehlo_name: str | None = None
    mail_from: str | None = None
    rcpt_to: tuple[str, ...] = ()
    username: str | None = None
    mechanism: str | None = None
    """SASL mechanism selected first in the AUTH form, when the server offers it."""


class CommandBuilder(Vertical):
    """List of suggested commands, a form for the highlighted one, its preview and advice."""

    HELP = help_text.BUILDER_HELP

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+enter,ctrl+j",
            "send",
            "Send command",
            id="builder.send",
            tooltip="Send the command shown in the preview through the session",
        ),
    ]

    class LinesRequested(Message):
        """The user asked to send ``lines`` in order, each awaiting its reply."""

        def __init__(self, lines: list[str]) -> None:
            super().__init__()
            self.lines = lines

    class AuthRequested(Message):
        """The user asked to authenticate; an empty ``secret`` means the profile's secret."""

        def __init__(self, mechanism: str, username: str, secret: str) -> None:
            super().__init__()
            self.mechanism = mechanism
            self.username = username
            self.secret = secret

    class ComposerRequested(Message):
        """The user asked for the message composer (MAIL, RCPT and DATA in one go)."""

    def __init__(self, defaults: BuilderDefaults | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.defaults = defaults or BuilderDefaults()
        self.dialogue: Dialogue | None = None
        """The dialogue whose suggestions are shown; None until a session exists."""
        self._suggestions: list[Suggestion] = []
        self._form: CommandForm | None = None
        self._forms: dict[str, CommandForm] = {}
        self._built = False
        self._form_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        # The list, form and buttons are mounted with the first dialogue, so they cost nothing
        # before the first screen is shown.
        yield Static(WAITING_TEXT, id="builder-waiting")

    def on_mount(self) -> None:
        self.border_title = "Guided commands"

    async def _build(self) -> None:
        await self.query_one("#builder-waiting").remove()
        form_area = VerticalScroll(
            Static("The connection is closed: press F5 to connect again.", id="form-closed"),
            id="form-area",
        )
        preview = Static("", id="preview")
        preview.border_title = "Exact line"
        buttons = Horizontal(
            Button("Send", id="send", variant="primary", disabled=True, compact=True),
            Button("Compose message", id="compose", compact=True),
            id="builder-buttons",
        )
        await self.mount_all(
            [
                OptionList(id="suggestions"),
                Static("", id="suggestion-reason"),
                form_area,
                preview,
                Static("", id="builder-advice"),
                buttons,
            ]
        )
        self._built = True

    # Suggestions

    def set_ehlo_name(self, name: str) -> None:
        """Offer ``name`` in the EHLO and HELO forms, unless the user has typed another name."""
        from smtpconsole.tui.widgets.builder_forms import NameForm

        if name == self.defaults.ehlo_name:
            return
        self.defaults = replace(self.defaults, ehlo_name=name)
        for form in self._forms.values():
            if isinstance(form, NameForm):
                form.set_default_name(name)

    async def show_dialogue(self, dialogue: Dialogue | None) -> None:
        """Show the suggestions of ``dialogue`` now; call again after each batch of replies."""
        self.dialogue = dialogue
        if not self._built:
            if dialogue is None:
                return
            await self._build()
        suggestions = dialogue.suggestions() if dialogue is not None else []
        if [(s.verb, s.recommended, s.params, s.mechanisms) for s in suggestions] == [
            (s.verb, s.recommended, s.params, s.mechanisms) for s in self._suggestions
        ]:
            self._suggestions = suggestions
            self.update_preview()
            return
        previous_recommended = next((s.verb for s in self._suggestions if s.recommended), None)
        self._suggestions = suggestions
        option_list = self.query_one("#suggestions", OptionList)
        highlighted = self._form.verb if self._form is not None else None
        option_list.clear_options()
        option_list.add_options([self._option(s) for s in suggestions])
        if not suggestions:
            await self._set_form(None)
            return
        verbs = [s.verb for s in suggestions]
        recommended = next((i for i, s in enumerate(suggestions) if s.recommended), None)
        # A verb the user picked stays highlighted. One the builder picked because it was
        # recommended gives way to the new recommendation, e.g. EHLO to AUTH after its reply.
        if highlighted in verbs and (highlighted != previous_recommended or recommended is None):
            index = verbs.index(highlighted)
        else:
            index = recommended if recommended is not None else 0
        option_list.highlighted = index
        await self._set_form(suggestions[index])

    @staticmethod
    def _option(suggestion: Suggestion) -> Option:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("★ " if suggestion.recommended else "  ", style="bold yellow")
        text.append(suggestion.verb, style="bold")
        text.append(f"  {suggestion.reason}", style="dim")
        return Option(text, id=suggestion.verb)

    @on(OptionList.OptionHighlighted, "#suggestions")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if 0 <= event.option_index < len(self._suggestions):
            await self._set_form(self._suggestions[event.option_index])

    @on(OptionList.OptionSelected, "#suggestions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self._form is not None:
            self._form.focus_first()

    # Forms

    async def _set_form(self, suggestion: Suggestion | None) -> None:
        # The lock serialises the screen's updates and the user's highlight changes, so one
        # verb never gets two forms.
        async with self._form_lock:
            await self._show_form(suggestion)

    async def _show_form(self, suggestion: Suggestion | None) -> None:
        """Show the form for ``suggestion``, creating it on first use.

        Forms stay mounted and are hidden when not in use, because removing a form while its
        menus are still mounting fails inside Textual, and a hidden form keeps what was typed.
        """
        reason = self.query_one("#suggestion-reason", Static)
        reason.update(Text(suggestion.reason, style="italic") if suggestion is not None else "")
        form = self._forms.get(suggestion.verb) if suggestion is not None else None
        if suggestion is not None and form is None:
            form = self._create_form(suggestion)
            self._forms[suggestion.verb] = form
            await self.query_one("#form-area", VerticalScroll).mount(form)
        elif suggestion is not None and form is not None:
            form.update_suggestion(suggestion)
        for other in self._forms.values():
            other.display = other is form
        self.query_one("#form-closed", Static).display = form is None
        self._form = form
        self.update_preview()

    def _create_form(self, suggestion: Suggestion) -> CommandForm:
        from smtpconsole.tui.widgets.builder_forms import (
            AuthForm,
            MailForm,
            NameForm,
            RcptForm,
            form_class,
        )

        cls = form_class(suggestion.verb)
        defaults = self.defaults
        if cls is NameForm:
            return NameForm(suggestion, defaults.ehlo_name)
        if cls is MailForm:
            return MailForm(suggestion, defaults.mail_from)
        if cls is RcptForm:
            return RcptForm(suggestion, defaults.rcpt_to)
        if cls is AuthForm:
            return AuthForm(suggestion, defaults.username, defaults.mechanism)
        return cls(suggestion)

    @on(Input.Changed)
    @on(Select.Changed)
    def _field_changed(self) -> None:
        self.update_preview()

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    # Preview and sending

    def preview_lines(self) -> list[str]:
        """Return the lines the Send button would send, masked where they hold a secret.

        Raises:
            LocalProtocolError: a field is invalid.
        """
        from smtpconsole.tui.widgets.builder_forms import AuthForm

        form = self._form
        if form is None:
            return []
        if isinstance(form, AuthForm):
            return [self._auth_preview(form)]
        return form.lines()

    def _auth_preview(self, form: AuthForm) -> str:
        from smtpconsole.protocol import sasl

        if not form.secret:
            return f"AUTH {form.mechanism} (token built from the profile's secret when sent)"
        mechanism = sasl.create_mechanism(
            form.mechanism, username=form.username, secret=form.secret
        )
        line, _included = sasl.auth_line(mechanism)
        return mask_line(line)

    def update_preview(self) -> None:
        """Rebuild the preview and the advice from the current form."""
        from smtpconsole.protocol.errors import LocalProtocolError

        if not self._built:
            return
        preview = self.query_one("#preview", Static)
        advice = self.query_one("#builder-advice", Static)
        send = self.query_one("#send", Button)
        self.query_one("#compose", Button).display = self._form is not None and (
            self._form.verb in ("DATA", "MAIL FROM", "MAIL", "RCPT TO", "RCPT")
        )
        try:
            lines = self.preview_lines()
        except NoMatches:
            # The form's fields are not composed yet; _replace_form refreshes the preview after mounting.
            return
        except (LocalProtocolError, ValueError) as error:
            preview.update(Text(f"Cannot build the line: {error}", style="bold red"))
            advice.update("")
            send.disabled = True
            return
        preview.update(Text("\n".join(lines) or "(nothing to send)", style="bold"))
        send.disabled = not lines or self.dialogue is None
        advice.update(self._advice_text(lines))

    def _advice_text(self, lines: list[str]) -> Text:
        from smtpconsole.tui.advice import advice_text

        if self.dialogue is None or self._form is None or self._form.verb == "AUTH":
            return Text()
        dialogue = self.dialogue
        return advice_text(
            item for line in lines for item in dialogue.check_line(line.encode("utf-8"))
        )

    @on(Button.Pressed, "#send")
    def _send_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_send()

    @on(Button.Pressed, "#compose")
    def _compose_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.ComposerRequested())

    def action_send(self) -> None:
        from smtpconsole.protocol.errors import LocalProtocolError
        from smtpconsole.tui.widgets.builder_forms import AuthForm

        form = self._form
        if form is None or not self._built or self.query_one("#send", Button).disabled:
            return
        if isinstance(form, AuthForm):
            self.post_message(self.AuthRequested(form.mechanism, form.username, form.secret))
            form.query_one("#secret", Input).value = ""
            return
        try:
            lines = form.lines()
        except LocalProtocolError as error:
            self.notify(str(error), title="Invalid field", severity="error")
            return
        self.post_message(self.LinesRequested(lines))


def mask_line(line: str) -> str:
    """Return ``line`` as the transcript shows it when secret, through ``transcript.redact``."""
    from smtpconsole import transcript

    event = transcript.LineSent(
        raw=line.encode("utf-8") + b"\r\n", source="builder", secret=True, at=0.0
    )
    masked = transcript.redact(event)
    if not isinstance(masked, transcript.LineSent):
        raise TypeError(f"redact returned {type(masked).__name__} for a LineSent")
    return masked.raw.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
