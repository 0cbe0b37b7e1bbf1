"""One small form per SMTP command in the builder; each form builds its line through the core.

A form never formats a command itself: ``protocol.commands`` builds and validates every line, so a
field holding CR, LF or NUL raises ``LocalProtocolError`` naming the field, and the builder shows it.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.widgets import Checkbox, Input, Label, Select

from smtpconsole.protocol import commands, sasl
from smtpconsole.tui.widgets.menu import Menu

if TYPE_CHECKING:
    from smtpconsole.protocol.dialogue import Suggestion

Params = list[tuple[str, str | None]]


class CommandForm(Vertical):
    """Fields of one command; ``lines`` builds the exact lines it would send."""

    VERBS: ClassVar[tuple[str, ...]] = ()

    DEFAULT_CSS = """
    CommandForm {
        height: auto;
        & Input, & Select { margin-bottom: 0; }
        & .field-label { color: $text-muted; }
        & .-hidden { display: none; }
    }
    """

    def __init__(self, suggestion: Suggestion) -> None:
        super().__init__(classes="command-form")
        self.suggestion = suggestion

    @property
    def verb(self) -> str:
        return self.suggestion.verb

    def update_suggestion(self, suggestion: Suggestion) -> None:
        """Take the new suggestion for the same verb, keeping what the user typed."""
        self.suggestion = suggestion

    def lines(self) -> list[str]:
        """Return the command lines, without CRLF.

        Raises:
            LocalProtocolError: a field is invalid; ``field`` names it.
        """
        raise NotImplementedError

    def focus_first(self) -> None:
        """Focus the first field of the form, if it has one."""
        for widget in self.query("Input, Select, Checkbox"):
            if widget.focusable:
                widget.focus()
                return

    def input_value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def offers(self, param: str) -> bool:
        """Return True when the server offers the parameter ``param`` for this command.

        The suggestion lists parameters as templates such as ``SIZE=`` or ``BODY=8BITMIME``;
        only the keyword before ``=`` counts.
        """
        offered = {name.partition("=")[0].upper() for name in self.suggestion.params}
        return param.upper() in offered


def _label(text: str, for_id: str = "") -> Label:
    return Label(text, classes="field-label", id=f"{for_id}-label" if for_id else None)


class NoArgumentForm(CommandForm):
    """STARTTLS, RSET, QUIT and DATA: nothing to fill in."""

    VERBS = ("STARTTLS", "RSET", "QUIT", "DATA")
    _BUILDERS: ClassVar[dict[str, str]] = {
        "STARTTLS": "starttls",
        "RSET": "rset",
        "QUIT": "quit",
        "DATA": "data",
    }

    def compose(self) -> ComposeResult:
        yield Label("No fields: the line is fixed.", classes="field-label")

    def lines(self) -> list[str]:
        builder = getattr(commands, self._BUILDERS[self.verb])
        return [str(builder())]


class NameForm(CommandForm):
    """EHLO and HELO: the client name."""

    VERBS = ("EHLO", "HELO")

    def __init__(self, suggestion: Suggestion, default_name: str | None = None) -> None:
        super().__init__(suggestion)
        self.default_name = default_name or socket.gethostname() or "localhost"

    def compose(self) -> ComposeResult:
        # Escaped, because Textual reads an unescaped "[address]" as a markup tag and drops it.
        yield _label(escape("Client name (a domain or [address] literal)"))
        yield Input(self.default_name, id="name", compact=True)

    def set_default_name(self, name: str) -> None:
        """Replace the offered name with ``name``, unless the user has changed the field."""
        for field in self.query("#name").results(Input):
            if field.value == self.default_name:
                field.value = name
        self.default_name = name

    def lines(self) -> list[str]:
        name = self.input_value("name")
        return [commands.ehlo(name) if self.verb == "EHLO" else commands.helo(name)]


class ArgumentForm(CommandForm):
    """NOOP, VRFY, EXPN and HELP: one argument, optional for NOOP and HELP."""

    VERBS = ("NOOP", "VRFY", "EXPN", "HELP")
    _PROMPTS: ClassVar[dict[str, str]] = {
        "NOOP": "Argument (optional, the server ignores it)",
        "VRFY": "User name or address to verify",
        "EXPN": "Mailing list to expand",
        "HELP": "Topic (optional), e.g. MAIL",
    }

    def compose(self) -> ComposeResult:
        yield _label(self._PROMPTS[self.verb])
        yield Input(id="argument", compact=True)

    def lines(self) -> list[str]:
        argument = self.input_value("argument")
        if self.verb == "NOOP":
            return [commands.noop(argument or None)]
        if self.verb == "HELP":
            return [commands.help(argument or None)]
        if self.verb == "VRFY":
            return [commands.vrfy(argument)]
        return [commands.expn(argument)]


class MailForm(CommandForm):
    """MAIL FROM with the SIZE, BODY, SMTPUTF8 and DSN parameters the server offers."""

    VERBS = ("MAIL FROM", "MAIL")

    def __init__(self, suggestion: Suggestion, default_from: str | None = None) -> None:
        super().__init__(suggestion)
        self.default_from = default_from or ""

    def compose(self) -> ComposeResult:
        yield _label("Sender address (empty for the null sender <>)")
        yield Input(self.default_from, id="address", placeholder="alice@example.com", compact=True)
        yield _label("SIZE: message size in bytes (optional)", "size")
        yield Input(id="size", type="integer", placeholder="e.g. 2048", compact=True)
        yield _label("BODY", "body")
        yield Menu(
            [(value, value) for value in commands.BODY_TYPES],
            id="body",
            prompt="(not sent)",
            compact=True,
        )
        with Horizontal(classes="checks"):
            yield Checkbox("SMTPUTF8", id="smtputf8", compact=True)
        yield _label("DSN RET: what a bounce returns", "ret")
        yield Menu(
            [(value, value) for value in commands.RET_VALUES],
            id="ret",
            prompt="(not sent)",
            compact=True,
        )
        yield _label("DSN ENVID: envelope id", "envid")
        yield Input(id="envid", placeholder="(not sent)", compact=True)

    def on_mount(self) -> None:
        self._show_offered()

    def update_suggestion(self, suggestion: Suggestion) -> None:
        super().update_suggestion(suggestion)
        if self.is_mounted:
            self._show_offered()

    def _show_offered(self) -> None:
        for name, widget_ids in (
            ("SIZE", ("size", "size-label")),
            ("BODY", ("body", "body-label")),
            ("SMTPUTF8", ("smtputf8",)),
            ("RET", ("ret", "ret-label")),
            ("ENVID", ("envid", "envid-label")),
        ):
            for widget_id in widget_ids:
                # query, not query_one: a form removed while its Mount event is queued has no
                # children left, and that must not end the app.
                self.query(f"#{widget_id}").set_class(not self.offers(name), "-hidden")

    def params(self) -> Params:
        """Return the parameters filled in, for the ones the server offers."""
        params: Params = []
        size = self.input_value("size").strip()
        if size and self.offers("SIZE"):
            params.append(("SIZE", size))
        body = self.query_one("#body", Select).value
        if isinstance(body, str) and self.offers("BODY"):
            params.append(commands.body_param(body))
        if self.query_one("#smtputf8", Checkbox).value and self.offers("SMTPUTF8"):
            params.append(commands.smtputf8_param())
        ret = self.query_one("#ret", Select).value
        if isinstance(ret, str) and self.offers("RET"):
            params.append(commands.ret_param(ret))
        envid = self.input_value("envid").strip()
        if envid and self.offers("ENVID"):
            params.append(commands.envid_param(envid))
        return params

    def lines(self) -> list[str]:
        return [commands.mail(self.input_value("address").strip(), self.params())]


class RcptForm(CommandForm):
    """RCPT TO for one or several recipients, with the DSN NOTIFY and ORCPT parameters."""

    VERBS = ("RCPT TO", "RCPT")

    def __init__(self, suggestion: Suggestion, default_to: Sequence[str] = ()) -> None:
        super().__init__(suggestion)
        self.default_to = ", ".join(default_to)

    def compose(self) -> ComposeResult:
        yield _label("Recipient addresses, separated by commas (one RCPT TO each)")
        yield Input(self.default_to, id="addresses", placeholder="bob@example.com", compact=True)
        yield _label("DSN NOTIFY, e.g. SUCCESS,FAILURE or NEVER", "notify")
        yield Input(id="notify", placeholder="(not sent)", compact=True)
        yield _label("DSN ORCPT: original recipient address", "orcpt")
        yield Input(id="orcpt", placeholder="(not sent)", compact=True)

    def on_mount(self) -> None:
        self._show_offered()

    def update_suggestion(self, suggestion: Suggestion) -> None:
        super().update_suggestion(suggestion)
        if self.is_mounted:
            self._show_offered()

    def _show_offered(self) -> None:
        for name in ("NOTIFY", "ORCPT"):
            hidden = not self.offers(name)
            # query, not query_one, for the same reason as in MailForm._show_offered.
            self.query(f"#{name.lower()}").set_class(hidden, "-hidden")
            self.query(f"#{name.lower()}-label").set_class(hidden, "-hidden")

    def lines(self) -> list[str]:
        params: Params = []
        notify = self.input_value("notify").strip()
        if notify and self.offers("NOTIFY"):
            params.append(commands.notify_param(*notify.split(",")))
        orcpt = self.input_value("orcpt").strip()
        if orcpt and self.offers("ORCPT"):
            params.append(commands.orcpt_param(orcpt))
        addresses = [part.strip() for part in self.input_value("addresses").split(",")]
        return [commands.rcpt(address, params) for address in addresses if address]


class AuthForm(CommandForm):
    """AUTH: a mechanism menu, user name and password; the token is built by ``protocol.sasl``."""

    VERBS = ("AUTH",)

    def __init__(
        self,
        suggestion: Suggestion,
        default_user: str | None = None,
        default_mechanism: str | None = None,
    ) -> None:
        super().__init__(suggestion)
        self.default_user = default_user or ""
        self.default_mechanism = default_mechanism.upper() if default_mechanism else None
        """The mechanism of the profile or command line; None chooses the best one offered."""

    def _offered(self) -> tuple[str, ...]:
        return self.suggestion.mechanisms or ("PLAIN", "LOGIN")

    def initial_mechanism(self) -> str:
        """Return the mechanism selected first: the configured one when the server offers it.

        Otherwise the best one offered, by ``sasl.preferred_mechanism``, or the first offered.
        """
        offered = self._offered()
        if self.default_mechanism in offered:
            return self.default_mechanism
        return sasl.preferred_mechanism(offered) or offered[0]

    def compose(self) -> ComposeResult:
        mechanisms = self._offered()
        yield _label("Mechanism (the ones the server offers)")
        yield Menu(
            [(name, name) for name in mechanisms],
            id="mechanism",
            value=self.initial_mechanism(),
            allow_blank=False,
            compact=True,
        )
        yield _label("User name")
        yield Input(self.default_user, id="username", compact=True)
        yield _label("Password or token (masked; empty uses the profile's secret)")
        yield Input(id="secret", password=True, compact=True)

    def update_suggestion(self, suggestion: Suggestion) -> None:
        old_mechanisms = self.suggestion.mechanisms
        super().update_suggestion(suggestion)
        if suggestion.mechanisms != old_mechanisms:
            self._show_mechanisms()

    def _show_mechanisms(self) -> None:
        select: Select[str] = self.query_one("#mechanism", Select)
        if not select.is_mounted:
            # Select.set_options needs the menu's own widgets, which exist once it is mounted.
            self.call_after_refresh(self._show_mechanisms)
            return
        mechanisms = self._offered()
        current = select.value
        select.set_options([(name, name) for name in mechanisms])
        if isinstance(current, str) and current in mechanisms:
            select.value = current
        else:
            select.value = self.initial_mechanism()

    @property
    def mechanism(self) -> str:
        value = self.query_one("#mechanism", Select).value
        return value if isinstance(value, str) else "PLAIN"

    @property
    def username(self) -> str:
        return self.input_value("username")

    @property
    def secret(self) -> str:
        return self.input_value("secret")

    def lines(self) -> list[str]:
        # The AUTH line depends on the secret; the builder builds it through sasl when sending.
        return [commands.auth(self.mechanism)]


class LineForm(CommandForm):
    """Any other suggested command: its template, editable before sending."""

    def compose(self) -> ComposeResult:
        yield _label(self.suggestion.reason)
        yield Input(self.suggestion.template, id="line", compact=True)

    def lines(self) -> list[str]:
        line = self.input_value("line")
        # encode_line rejects CR and LF, the only characters that could split the line in two.
        commands.encode_line(line)
        return [line]


FORMS: tuple[type[CommandForm], ...] = (
    NoArgumentForm,
    NameForm,
    ArgumentForm,
    MailForm,
    RcptForm,
    AuthForm,
)


def form_class(verb: str) -> type[CommandForm]:
    """Return the form class for ``verb``; ``LineForm`` for a verb without its own form."""
    for form in FORMS:
        if verb.upper() in form.VERBS:
            return form
    return LineForm
