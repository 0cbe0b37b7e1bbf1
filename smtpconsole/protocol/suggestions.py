"""The commands that make sense in the dialogue's current state, for the builder and the completer.

When the transition table in ``dialogue.py`` changes, update these suggestions to match.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.state import DialogueView, Phase


@dataclass(frozen=True)
class Suggestion:
    """A command that makes sense in the current phase, for the builder and the completer."""

    verb: str
    """The command verb, such as ``MAIL FROM``; ``.`` ends DATA and ``*`` cancels AUTH."""
    template: str
    """An example line to edit before sending, such as ``MAIL FROM:<you@example.com>``."""
    reason: str
    """The reason the command makes sense now, in plain words."""
    recommended: bool
    """True for the usual next step; front ends show it first."""
    params: tuple[str, ...] = ()
    """ESMTP parameters the server offers for this command, such as ``SIZE=`` or ``SMTPUTF8``."""
    mechanisms: tuple[str, ...] = ()
    """SASL mechanisms the server offers, for AUTH."""


def suggest_commands(state: DialogueView) -> list[Suggestion]:
    """Return the commands that make sense now, the usual next step marked recommended."""
    if state.phase in (Phase.CONNECTING, Phase.TLS_PENDING, Phase.CLOSED):
        return []
    if state.phase is Phase.AUTH_EXCHANGE:
        return [Suggestion("*", "*", "Cancel the AUTH exchange; the server replies 501.", False)]
    if state.phase is Phase.DATA:
        return [
            Suggestion(".", ".", "A line holding only '.' ends the message and sends it.", True)
        ]
    if state.greeting_rejected:
        return [Suggestion("QUIT", "QUIT", "The server rejected the session; QUIT ends it.", True)]
    if state.phase is Phase.GREETED:
        hello = _hello_suggestions(recommended=True, tls_active=state.tls_active)
        return [*hello, *_common_suggestions(state)]
    return [*_session_suggestions(state), *_common_suggestions(state)]


def _session_suggestions(state: DialogueView) -> list[Suggestion]:
    result = _security_suggestions(state) + _transaction_suggestions(state)
    if state.phase is Phase.READY:
        result += _hello_suggestions(recommended=False, tls_active=state.tls_active)
    return result


def _security_suggestions(state: DialogueView) -> list[Suggestion]:
    """Suggest STARTTLS and AUTH when offered and not done, outside a mail transaction."""
    caps = state.capabilities
    if caps is None or state.phase is not Phase.READY:
        return []
    result: list[Suggestion] = []
    offers_tls = caps.starttls and not state.tls_active
    if offers_tls:
        result.append(
            Suggestion(
                "STARTTLS",
                "STARTTLS",
                "Encrypt the connection before sending a password or a message.",
                True,
            )
        )
    if caps.auth and not state.authenticated:
        first_mechanism = caps.auth_mechanisms[0] if caps.auth_mechanisms else "PLAIN"
        result.append(
            Suggestion(
                "AUTH",
                f"AUTH {first_mechanism}",
                "Log in with one of the mechanisms the server lists.",
                not offers_tls,
                mechanisms=caps.auth_mechanisms,
            )
        )
    return result


def _transaction_suggestions(state: DialogueView) -> list[Suggestion]:
    """Suggest the next envelope step: MAIL FROM, RCPT TO, then DATA or BDAT."""
    caps = state.capabilities
    if state.phase is Phase.READY:
        offers_tls = caps is not None and caps.starttls and not state.tls_active
        waits_for_auth = caps is not None and caps.auth and not state.authenticated
        mail = Suggestion(
            "MAIL FROM",
            "MAIL FROM:<you@example.com>",
            "Start a message with the sender address (<> for a bounce).",
            not offers_tls and not waits_for_auth,
            params=_mail_params(caps),
        )
        return [mail]
    if state.phase not in (Phase.MAIL, Phase.RCPT):
        return []
    dsn = caps is not None and caps.dsn
    result = [
        Suggestion(
            "RCPT TO",
            "RCPT TO:<someone@example.com>",
            "Add a recipient; repeat for each one.",
            state.phase is Phase.MAIL,
            params=("NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;") if dsn else (),
        )
    ]
    if state.bdat_used:
        # RFC 3030 section 3: a transaction that sent BDAT cannot switch to DATA.
        result.append(
            Suggestion(
                "BDAT",
                "BDAT 0 LAST",
                "Send the next chunk of the message; LAST marks the final one. DATA cannot "
                "follow BDAT in the same transaction.",
                state.phase is Phase.RCPT,
            )
        )
        return result
    if state.phase is Phase.RCPT:
        result.append(
            Suggestion("DATA", "DATA", "Send the message text after the server's 354.", True)
        )
    if state.phase is Phase.RCPT and caps is not None and caps.chunking:
        result.append(
            Suggestion(
                "BDAT",
                "BDAT 0 LAST",
                "Send the message in chunks of counted octets (CHUNKING).",
                False,
            )
        )
    return result


def _common_suggestions(state: DialogueView) -> list[Suggestion]:
    result = []
    if state.phase in (Phase.MAIL, Phase.RCPT):
        result.append(
            Suggestion("RSET", "RSET", "Abort the current message and start over.", False)
        )
    result += [
        Suggestion("NOOP", "NOOP", "Check the connection is alive; changes nothing.", False),
        Suggestion("VRFY", "VRFY user", "Ask whether a mailbox exists (often disabled).", False),
        Suggestion("HELP", "HELP", "Ask the server for its list of commands.", False),
        Suggestion("QUIT", "QUIT", "End the session politely.", False),
    ]
    return result


def _hello_suggestions(*, recommended: bool, tls_active: bool) -> list[Suggestion]:
    if not recommended:
        ehlo_reason = "Ask for the extension list again."
    elif tls_active:
        ehlo_reason = "Greet the server again over TLS and get its list of extensions."
    else:
        ehlo_reason = "Introduce yourself and get the server's list of extensions."
    return [
        Suggestion("EHLO", "EHLO client.example.com", ehlo_reason, recommended),
        Suggestion("HELO", "HELO client.example.com", "Old greeting without extensions.", False),
    ]


def _mail_params(caps: Capabilities | None) -> tuple[str, ...]:
    if caps is None:
        return ()
    params: list[str] = []
    if caps.has("SIZE"):
        params.append("SIZE=")
    if caps.eightbitmime:
        params.append("BODY=8BITMIME")
    if caps.smtputf8:
        params.append("SMTPUTF8")
    if caps.dsn:
        params += ["RET=HDRS", "ENVID="]
    return tuple(params)
