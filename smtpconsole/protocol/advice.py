"""Advice for the user, and the rules that advise on a line before it is sent.

``advise_on_line`` contains the rules behind ``Dialogue.check_line`` and their texts. Each rule
reads a ``DialogueView`` snapshot and the line, and only returns ``Advice``, so nothing here
changes state or stops a line from being sent. The advice on replies stays in ``dialogue.py``,
beside the state changes that the replies cause.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.commands import KNOWN_VERBS, verb_of
from smtpconsole.protocol.replies import decode_text
from smtpconsole.protocol.sasl import looks_like_sasl_response
from smtpconsole.protocol.state import DialogueView, Phase

AdviceLevel = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class Advice:
    """A note for the user about a line or a reply, returned only, so it blocks nothing."""

    level: AdviceLevel
    """``info`` explains, ``warning`` predicts a failure, ``error`` reports one."""
    text: str
    """One or two sentences for a learner, in plain words."""
    key: str
    """Stable id such as ``auth.before_starttls``, for tests and for muting a kind of advice."""


# RFC 2920 section 3.1: these commands change state, so each can only be the last in a group.
# HELO, STARTTLS and AUTH change state too, so they are treated the same way.
_ENDS_PIPELINE_GROUP: Final = frozenset(
    {"EHLO", "HELO", "DATA", "VRFY", "EXPN", "TURN", "QUIT", "NOOP", "STARTTLS", "AUTH"}
)

# RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets, CRLF included. Extensions
# such as SIZE and DSN parameters may raise it, so going over is only worth a note.
MAX_COMMAND_LINE_OCTETS: Final = 512

# RFC 5322 section 2.1.1: a message line must be at most 998 characters, CRLF excluded. The check
# counts octets, so a UTF-8 line reaches the limit with fewer characters.
MAX_MESSAGE_LINE_OCTETS: Final = 998

_COMMON_HEADERS: Final = ("Subject", "From", "To", "Date", "Cc", "Reply-To", "Message-ID")

# Correct header names that look like a misspelled common header to difflib.
_VALID_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        *_COMMON_HEADERS, "Bcc", "Sender", "In-Reply-To", "References", "Comments", "Keywords",
        "Received", "Return-Path", "Resent-Date", "Resent-From", "Resent-Sender", "Resent-To",
        "Resent-Cc", "Resent-Bcc", "Resent-Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "Content-ID", "Content-Description",
        "Content-Language", "Importance", "Priority", "Organization", "User-Agent",
    )
)  # fmt: skip

# RFC 5322 section 3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126 (printable, no colon).
HEADER_LINE: Final = re.compile(rb"([\x21-\x39\x3b-\x7e]+):")

# Base64 as a SASL response (RFC 4954 section 4), or "*" to cancel the exchange.
_SASL_RESPONSE: Final = re.compile(rb"\*|[A-Za-z0-9+/]*={0,2}")

# One ESMTP parameter of a MAIL or RCPT line: KEYWORD or KEYWORD=value.
_PARAM: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)(?:=(\S*))?")


# Constructors for each advice level, shared with the dialogue's advice on replies.


def info(text: str, key: str) -> Advice:
    return Advice("info", text, key)


def warning(text: str, key: str) -> Advice:
    return Advice("warning", text, key)


def error(text: str, key: str) -> Advice:
    return Advice("error", text, key)


def advise_on_line(line: bytes, state: DialogueView, *, auth_response: bool) -> list[Advice]:
    """Return advice on ``line`` (without CRLF) before it is sent.

    Args:
        line: The line to send, without its CRLF.
        state: The dialogue's state before the line is sent.
        auth_response: True when the dialogue takes ``line`` as a SASL response, not a command.
    """
    if state.phase is Phase.CLOSED:
        return [warning("The connection is closed; no reply will come.", "closed")]
    if state.phase is Phase.TLS_PENDING:
        return [
            warning(
                "The TLS handshake must come first: this line would go out unencrypted "
                "and break the handshake.",
                "tls.pending",
            )
        ]
    if state.in_data:
        if line == b".":
            return _check_end_of_data(state.headers_seen)
        return _check_data_line(line, in_headers=state.in_headers)
    if auth_response:
        return _check_auth_response(line, in_exchange=state.phase is Phase.AUTH_EXCHANGE)
    return _check_command(state, line)


def advise_on_chunk_line(line: bytes, octets_left: int) -> list[Advice]:
    """Return advice on ``line`` typed as BDAT chunk octets, with ``octets_left`` still owed."""
    size = len(line) + 2
    if size > octets_left:
        return [
            warning(
                f"This line is {size} octets with its CRLF but the chunk has {octets_left} left: "
                f"the server reads the last {size - octets_left} as the start of a command.",
                "bdat.chunk_overrun",
            )
        ]
    if size < octets_left:
        return [
            info(f"{octets_left - size} octets of the chunk remain after this line.", "bdat.chunk")
        ]
    return [
        info("This line completes the chunk; the server replies to the BDAT now.", "bdat.chunk")
    ]


def _check_command(state: DialogueView, line: bytes) -> list[Advice]:
    verb = verb_of(line)
    text = line.decode("utf-8", errors="replace")
    advice: list[Advice] = []
    if state.phase is Phase.CONNECTING:
        advice.append(
            warning(
                "The server has not sent its greeting yet. Servers may reject a client "
                "that talks first (early talker).",
                "greeting.not_yet",
            )
        )
    if state.greeting_rejected and verb != "QUIT":
        advice.append(
            warning(
                "The server rejected the session in its greeting; it replies 503 to everything "
                "except QUIT.",
                "greeting.rejected",
            )
        )
    advice += _check_pipelining(state, verb)
    if len(line) + 2 > MAX_COMMAND_LINE_OCTETS:
        advice.append(
            info(
                f"This line is {len(line) + 2} octets with CRLF; RFC 5321 allows 512 for a "
                "command line unless an extension raises it.",
                "line.too_long",
            )
        )
    check = _COMMAND_CHECKS.get(verb)
    if check is not None:
        advice += check(state, text)
    elif verb == "":
        advice.append(
            warning("Empty line: the server will reply 500 (syntax error).", "line.empty")
        )
    elif looks_like_sasl_response(line):
        # The line is masked as a secret, so the advice must not quote it.
        advice.append(
            warning(
                "This line looks like a base64 SASL response, but no AUTH exchange is waiting "
                "for one, so the server reads it as a command and will likely reply 500. It is "
                "masked as a secret in the transcript and in exports.",
                "auth.response_without_exchange",
            )
        )
    elif verb not in KNOWN_VERBS:
        advice.append(
            info(
                f"{text.split()[0]} is not a standard SMTP command; the server will likely reply"
                " 500 or 502.",
                "command.unknown",
            )
        )
    return advice


def _check_pipelining(state: DialogueView, verb: str) -> list[Advice]:
    last = state.last_pending_verb
    if last is None or state.phase is Phase.CONNECTING:
        return []
    if last in _ENDS_PIPELINE_GROUP:
        return [
            warning(
                f"{last} is still waiting for its reply and must be the last command of a "
                "group: wait for the reply before sending more.",
                "pipelining.after_group_end",
            )
        ]
    if state.capabilities is not None and not state.capabilities.pipelining:
        return [
            info(
                "A reply is still pending and the server did not offer PIPELINING: wait "
                "for the reply before sending more.",
                "pipelining.not_offered",
            )
        ]
    return []


def _check_hello(state: DialogueView, text: str) -> list[Advice]:
    if len(text.split()) < 2:
        return [
            warning(
                "EHLO and HELO need your domain name (or [address]); without it the "
                "server replies 501.",
                "ehlo.missing_domain",
            )
        ]
    return []


def _check_starttls(state: DialogueView, text: str) -> list[Advice]:
    if state.tls_active:
        return [
            warning(
                "TLS is already active; a second STARTTLS gets 503 (RFC 3207).",
                "starttls.already_active",
            )
        ]
    if state.capabilities is None:
        return [
            info(
                "Send EHLO first: it shows whether the server offers STARTTLS.",
                "starttls.before_ehlo",
            )
        ]
    if not state.capabilities.starttls:
        return [
            warning(
                "The server did not offer STARTTLS in its EHLO reply; expect 502 or 500.",
                "starttls.not_offered",
            )
        ]
    return []


def _check_auth(state: DialogueView, text: str) -> list[Advice]:
    words = text.split()
    caps = state.capabilities
    if state.authenticated:
        return [
            warning(
                "Already authenticated: a second AUTH gets 503 (RFC 4954 section 4).",
                "auth.already_authenticated",
            )
        ]
    if state.transaction_open:
        return [
            warning(
                "AUTH is not allowed during a mail transaction; send RSET first "
                "(RFC 4954 section 4).",
                "auth.in_transaction",
            )
        ]
    if caps is None:
        return [warning("Send EHLO before AUTH; expect 503 otherwise.", "auth.before_ehlo")]
    if caps.starttls and not state.tls_active:
        hidden = (
            ""
            if caps.auth
            else " It lists no AUTH yet, as servers that allow AUTH only over TLS do."
        )
        return [
            warning(
                "The server offers STARTTLS and the connection is not encrypted yet. Many "
                "servers reply '530 Must issue a STARTTLS command first', and the "
                "password would cross the network readable: send STARTTLS, then EHLO." + hidden,
                "auth.before_starttls",
            )
        ]
    if not caps.auth:
        return [
            warning(
                "The server did not advertise AUTH in its EHLO reply; expect 502 or 503.",
                "auth.not_advertised",
            )
        ]
    if len(words) < 2:
        return [warning("AUTH needs a mechanism name, such as PLAIN.", "auth.no_mechanism")]
    mechanism = words[1].upper()
    if not caps.offers_mechanism(mechanism):
        offered = ", ".join(caps.auth_mechanisms) or "none"
        return [
            warning(
                f"The server does not offer {mechanism} (offered: {offered}); expect 504.",
                "auth.mechanism_not_offered",
            )
        ]
    return []


def _check_mail(state: DialogueView, text: str) -> list[Advice]:
    advice: list[Advice] = []
    if not state.hello_done:
        advice.append(
            warning(
                "Send EHLO (or HELO) before MAIL FROM; most servers reply 503.",
                "mail.before_ehlo",
            )
        )
    if state.transaction_open:
        advice.append(
            warning(
                "A mail transaction is already open: a second MAIL FROM gets 503. Send "
                "RSET first to start over.",
                "mail.nested",
            )
        )
    caps = state.capabilities
    if caps is not None and caps.auth and not state.authenticated:
        advice.append(
            info(
                "The server advertises AUTH and you have not authenticated; many servers "
                "reply 530 to MAIL FROM until you do.",
                "mail.before_auth",
            )
        )
    address, params = _split_path(text, "FROM")
    if address is None:
        advice.append(_syntax_warning("MAIL FROM:<address>", "mail.syntax"))
    advice += _check_mail_params(caps, params, address or "")
    return advice


def _check_rcpt(state: DialogueView, text: str) -> list[Advice]:
    advice: list[Advice] = []
    if not state.transaction_open:
        advice.append(
            warning(
                "RCPT TO needs an accepted MAIL FROM first; the server will reply 503.",
                "rcpt.before_mail",
            )
        )
    address, params = _split_path(text, "TO")
    if address is None:
        advice.append(_syntax_warning("RCPT TO:<address>", "rcpt.syntax"))
    elif address == "":
        advice.append(warning("RCPT TO needs an address; <> is only for MAIL FROM.", "rcpt.empty"))
    caps = state.capabilities
    for keyword, _ in params:
        if keyword in ("NOTIFY", "ORCPT") and (caps is None or not caps.dsn):
            advice.append(_not_offered(keyword, "DSN"))
    return advice


def _check_data(state: DialogueView, text: str) -> list[Advice]:
    advice: list[Advice] = []
    if len(text.split()) > 1:
        advice.append(warning("DATA takes no argument; expect 501.", "data.argument"))
    if state.bdat_used:
        advice.append(
            warning(
                "This mail transaction already sent BDAT, and RFC 3030 does not allow DATA and "
                "BDAT in one transaction: expect 503. Send the rest as BDAT chunks, the last "
                "with LAST, or RSET to start over.",
                "data.after_bdat",
            )
        )
    elif not state.has_recipient:
        advice.append(
            warning(
                "DATA before an accepted RCPT TO: the server will reply 503 need RCPT.",
                "data.before_rcpt",
            )
        )
    return advice


def _check_bdat(state: DialogueView, text: str) -> list[Advice]:
    advice: list[Advice] = []
    if state.capabilities is None or not state.capabilities.chunking:
        advice.append(_not_offered("BDAT", "CHUNKING"))
    if not state.has_recipient:
        advice.append(warning("BDAT before an accepted RCPT TO: expect 503.", "bdat.before_rcpt"))
    advice.append(
        info(
            "BDAT must be followed at once by exactly the announced number of octets, "
            "CRLF line ends included: the lines you type next count as the chunk until it is "
            "complete, and the server replies once, after the last octet.",
            "bdat.octets_follow",
        )
    )
    return advice


def _check_argument_needed(state: DialogueView, text: str) -> list[Advice]:
    words = text.split()
    if len(words) < 2:
        return [
            warning(
                f"{words[0].upper()} needs an argument; the server will reply 501.",
                "command.missing_argument",
            )
        ]
    return []


def _syntax_warning(form: str, key: str) -> Advice:
    return warning(f"Expected the form {form}; the server will likely reply 501.", key)


def _not_offered(parameter: str, extension: str) -> Advice:
    return warning(
        f"{parameter} needs the {extension} extension, which the server did not offer in its EHLO "
        "reply; expect a 5xx reply (often 555 or 501).",
        f"param.{extension.split()[0].lower()}_not_offered",
    )


def _check_auth_response(line: bytes, *, in_exchange: bool) -> list[Advice]:
    if in_exchange and verb_of(line) in KNOWN_VERBS - {"AUTH"}:
        return [
            warning(
                "The server waits for an AUTH response, so it will read this line as base64, "
                "not as a command. Send '*' to cancel the exchange first.",
                "auth.command_during_exchange",
            )
        ]
    if not _SASL_RESPONSE.fullmatch(line.strip()):
        return [
            warning(
                "The server expects a base64 response (or '*' to cancel); this line is not "
                "base64 and will get 501.",
                "auth.response_not_base64",
            )
        ]
    return []


def _check_end_of_data(headers_seen: frozenset[str]) -> list[Advice]:
    advice = [info("This line ends the message and sends it.", "data.end")]
    # RFC 5322 section 3.6: every message must have a From and a Date header field.
    if "from" not in headers_seen:
        advice.append(
            warning(
                "The message has no From: header. RFC 5322 requires one, and many servers "
                "reject a message without it.",
                "data.missing_from",
            )
        )
    if "date" not in headers_seen:
        advice.append(
            info(
                "The message has no Date: header. RFC 5322 requires one; some submission "
                "servers add it, others reject the message.",
                "data.missing_date",
            )
        )
    return advice


def _check_data_line(line: bytes, *, in_headers: bool) -> list[Advice]:
    advice: list[Advice] = []
    # A line starting with ".." is taken as already doubled: the server keeps one dot.
    if line.startswith(b".") and not line.startswith(b".."):
        advice.append(
            warning(
                "A message line starting with '.' loses that dot: the server removes one "
                "leading dot (RFC 5321 section 4.5.2). Double it ('..'); a line holding only "
                "'.' ends the message.",
                "data.leading_dot",
            )
        )
    if len(line) > MAX_MESSAGE_LINE_OCTETS:
        advice.append(
            warning(
                f"This line is {len(line)} octets; RFC 5322 allows at most 998 per line.",
                "data.line_too_long",
            )
        )
    if in_headers and line:
        advice += _check_header_line(line)
    return advice


def _check_header_line(line: bytes) -> list[Advice]:
    import difflib

    if line[:1] in (b" ", b"\t"):
        return []  # A folded continuation of the previous header.
    match = HEADER_LINE.match(line)
    if match is None:
        return [
            warning(
                "This line is not a 'Name: value' header, yet no empty line has ended the "
                "headers. Send an empty line before the body text.",
                "data.not_a_header",
            )
        ]
    name = decode_text(match.group(1))
    if name.lower() in _VALID_HEADERS or name.lower().startswith("x-"):
        return []
    close = difflib.get_close_matches(
        name.lower(), [header.lower() for header in _COMMON_HEADERS], n=1, cutoff=0.75
    )
    if not close:
        return []
    intended = next(header for header in _COMMON_HEADERS if header.lower() == close[0])
    return [
        warning(
            f"Header '{name}:' looks like a misspelling of '{intended}:'. Mail clients will "
            f"not show it as {intended}.",
            "data.header_misspelled",
        )
    ]


def _split_path(text: str, keyword: str) -> tuple[str | None, list[tuple[str, str | None]]]:
    """Split ``MAIL FROM:<addr> params`` into the address and parameters.

    Returns ``None`` as the address when the line does not have the ``FROM:<...>`` form.
    """
    match = re.match(rf"\s*\S+\s+{keyword}:\s*<([^>]*)>(.*)", text, re.IGNORECASE)
    if match is None:
        return None, []
    params: list[tuple[str, str | None]] = []
    for word in match.group(2).split():
        param = _PARAM.fullmatch(word)
        if param is not None:
            params.append((param.group(1).upper(), param.group(2)))
    return match.group(1), params


def _check_mail_params(
    caps: Capabilities | None, params: list[tuple[str, str | None]], address: str
) -> list[Advice]:
    advice: list[Advice] = []
    keywords = {keyword for keyword, _ in params}
    required = {
        "SIZE": "SIZE",
        "SMTPUTF8": "SMTPUTF8",
        "RET": "DSN",
        "ENVID": "DSN",
        "AUTH": "AUTH",
    }
    for keyword, value in params:
        extension = required.get(keyword)
        if extension is not None and (caps is None or not caps.has(extension)):
            advice.append(_not_offered(keyword, extension))
        if keyword == "BODY" and value is not None:
            advice += _check_body(caps, value.upper())
        if keyword == "SIZE" and caps is not None and caps.size and value and value.isdigit():
            if int(value) > caps.size:
                advice.append(
                    warning(
                        f"SIZE={value} is over the server's limit of {caps.size} octets; "
                        "expect 552.",
                        "mail.size_over_limit",
                    )
                )
    if not address.isascii() and "SMTPUTF8" not in keywords:
        advice.append(
            warning(
                "The address is not ASCII: add the SMTPUTF8 parameter (RFC 6531), or the "
                "server will reject it.",
                "mail.utf8_address",
            )
        )
    return advice


def _check_body(caps: Capabilities | None, body: str) -> list[Advice]:
    if body == "8BITMIME" and (caps is None or not caps.eightbitmime):
        return [_not_offered("BODY=8BITMIME", "8BITMIME")]
    if body == "BINARYMIME" and (caps is None or not caps.binarymime or not caps.chunking):
        return [_not_offered("BODY=BINARYMIME", "BINARYMIME and CHUNKING")]
    return []


_COMMAND_CHECKS: Final[dict[str, Callable[[DialogueView, str], list[Advice]]]] = {
    "EHLO": _check_hello,
    "HELO": _check_hello,
    "STARTTLS": _check_starttls,
    "AUTH": _check_auth,
    "MAIL FROM": _check_mail,
    "RCPT TO": _check_rcpt,
    "DATA": _check_data,
    "BDAT": _check_bdat,
    "MAIL": _check_mail,
    "RCPT": _check_rcpt,
    "VRFY": _check_argument_needed,
    "EXPN": _check_argument_needed,
}
