"""Builders for SMTP command lines, validating every field before it reaches the wire.

Each builder returns the line as ``str`` without CRLF. A field holding CR, LF or NUL raises
``LocalProtocolError`` naming the field, so no field can smuggle a second command into the line.
``encode_line`` adds the CRLF. Raw lines typed by the user do not pass through the builders: they go
out verbatim, and the dialogue only advises on them.

The grammar quoted above each regex is from RFC 5321 unless another RFC is named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from smtpconsole.protocol.errors import LocalProtocolError

Param = tuple[str, str | None]
"""One ESMTP parameter of MAIL or RCPT: keyword and value, or ``None`` for a bare keyword."""

# Characters that would end the line early or cut it on the server side.
_LINE_BREAKERS: Final = ("\r", "\n", "\x00")

# RFC 5321 section 4.1.2:
#   esmtp-keyword  = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
_ESMTP_KEYWORD: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

# RFC 5321 section 4.1.2:
#   esmtp-value    = 1*(%d33-60 / %d62-126)
#                  ; any CHAR excluding "=", SP, and control characters.
# RFC 6531 extends it for SMTPUTF8:
#   esmtp-value    =/ UTF8-non-ascii
# We accept any non-ASCII character except the C1 controls (U+0080 to U+009F).
_ESMTP_VALUE: Final = re.compile(r"[\x21-\x3c\x3e-\x7e\u00a0-\U0010ffff]+")

# RFC 3461 section 4:
#   xtext   = *( xchar / hexchar )
#   xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except "+" and "=".
#   hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
_XTEXT: Final = re.compile(r"(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*")

# RFC 1870:
#   size-value ::= 1*20DIGIT
_SIZE_VALUE: Final = re.compile(r"[0-9]{1,20}")

# RFC 3461 section 4.1:
#   notify-esmtp-value  = "NEVER" / 1#notify-list-element
#   notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"
_NOTIFY_VALUE: Final = re.compile(
    r"NEVER|(?:SUCCESS|FAILURE|DELAY)(?:,(?:SUCCESS|FAILURE|DELAY))*", re.IGNORECASE
)

# RFC 3461 section 4.2:
#   orcpt-parameter = "ORCPT=" original-recipient-address
#   original-recipient-address = addr-type ";" xtext
#   addr-type = atom
_ORCPT_VALUE: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+;" + _XTEXT.pattern)

# RFC 4422 section 3.1:
#   sasl-mech    = 1*20mech-char
#   mech-char    = UPPER-ALPHA / DIGIT / HYPHEN / UNDERSCORE
# Lower-case letters are accepted and sent upper-cased.
_SASL_MECHANISM: Final = re.compile(r"[A-Za-z0-9_-]{1,20}")

# RFC 4954 section 4:
#   initial-response = base64 / "="
_INITIAL_RESPONSE: Final = re.compile(
    r"=|(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
)

BODY_TYPES: Final = ("7BIT", "8BITMIME", "BINARYMIME")
"""Values of the MAIL parameter BODY (RFC 6152 section 2, RFC 3030 section 3)."""

RET_VALUES: Final = ("FULL", "HDRS")
"""Values of the MAIL parameter RET (RFC 3461 section 4.3)."""

ENVID_MAX_CHARS: Final = 100
"""Maximum length of the ENVID value, counted after xtext encoding (RFC 3461 section 4.4)."""


def _reject_line_breakers(field: str, value: str) -> None:
    for char in _LINE_BREAKERS:
        if char in value:
            raise LocalProtocolError(
                f"{field} contains {char!r}, which would end the command line early; remove it",
                field=field,
                value=value,
            )


def _check_text(field: str, value: str, *, required: bool = False) -> str:
    """Check a free-text argument: no line breakers, and not empty when required."""
    _reject_line_breakers(field, value)
    if required and not value.strip():
        raise LocalProtocolError(f"{field} is missing", field=field, value=value)
    return value


def _check_token(field: str, value: str) -> str:
    """Check an argument that must be one word: not empty, no whitespace or control characters."""
    _check_text(field, value, required=True)
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise LocalProtocolError(
            f"{field} {value!r} contains whitespace or a control character; give one word",
            field=field,
            value=value,
        )
    return value


def _check_address(field: str, address: str, *, allow_empty: bool) -> str:
    """Validate a mailbox and return it without enclosing angle brackets.

    RFC 5321 section 4.1.2:
        Reverse-path   = Path / "<>"
        Forward-path   = Path
        Path           = "<" [ A-d-l ":" ] Mailbox ">"
    One pair of enclosing angle brackets is accepted and removed, because the builder adds them.
    """
    _reject_line_breakers(field, address)
    if len(address) >= 2 and address.startswith("<") and address.endswith(">"):
        address = address[1:-1]
    if not address and not allow_empty:
        raise LocalProtocolError(
            f"{field} is empty; RCPT needs a recipient address", field=field, value=address
        )
    if "<" in address or ">" in address:
        raise LocalProtocolError(
            f"{field} {address!r} contains '<' or '>'; give the bare address",
            field=field,
            value=address,
        )
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in address):
        raise LocalProtocolError(
            f"{field} {address!r} contains a control character", field=field, value=address
        )
    if address != address.strip() or (" " in address and '"' not in address):
        # A space is legal only inside a quoted local part such as "john smith"@example.com.
        raise LocalProtocolError(
            f"{field} {address!r} contains a space outside a quoted local part",
            field=field,
            value=address,
        )
    return address


def encode_xtext(text: str) -> str:
    """Encode text as RFC 3461 xtext: '+', '=' and characters outside '!'..'~' become +XX.

    Non-ASCII text is encoded as UTF-8 first, one +XX per byte.
    """
    parts: list[str] = []
    for byte in text.encode("utf-8"):
        if 0x21 <= byte <= 0x7E and byte not in (0x2B, 0x3D):
            parts.append(chr(byte))
        else:
            parts.append(f"+{byte:02X}")
    return "".join(parts)


def _check_known_param(keyword: str, value: str | None) -> None:
    """Check the value of a parameter whose syntax an RFC fixes; other keywords pass."""
    field = f"parameter {keyword}"
    rules: dict[str, tuple[re.Pattern[str] | None, str]] = {
        "SIZE": (_SIZE_VALUE, "a byte count of 1 to 20 digits (RFC 1870)"),
        "BODY": (
            re.compile("|".join(BODY_TYPES), re.IGNORECASE),
            "7BIT, 8BITMIME or BINARYMIME",
        ),
        "RET": (re.compile("|".join(RET_VALUES), re.IGNORECASE), "FULL or HDRS (RFC 3461)"),
        "ENVID": (_XTEXT, "xtext (RFC 3461 section 4)"),
        "NOTIFY": (_NOTIFY_VALUE, "NEVER, or a comma list of SUCCESS, FAILURE, DELAY"),
        "ORCPT": (_ORCPT_VALUE, "addr-type;xtext such as rfc822;user@example.com"),
        "AUTH": (re.compile("<>|" + _XTEXT.pattern), "xtext or <> (RFC 4954 section 5)"),
        "SMTPUTF8": (None, "no value (RFC 6531)"),
    }
    if keyword not in rules:
        return
    pattern, expected = rules[keyword]
    if pattern is None:
        if value is not None:
            raise LocalProtocolError(
                f"{keyword} takes no value, got {value!r}", field=field, value=value
            )
        return
    if value is None or not pattern.fullmatch(value):
        raise LocalProtocolError(
            f"invalid {keyword} value {value!r}: expected {expected}", field=field, value=value
        )
    if keyword == "ENVID" and len(value) > ENVID_MAX_CHARS:
        raise LocalProtocolError(
            f"ENVID is {len(value)} characters; RFC 3461 section 4.4 allows {ENVID_MAX_CHARS}",
            field=field,
            value=value,
        )


def format_params(params: Sequence[Param]) -> str:
    """Validate ESMTP parameters and return them as ``" KEY=value KEY"`` (leading space included).

    Keywords are upper-cased. A keyword given twice is rejected, because servers would either
    reject the command or silently keep one of the values.

    Raises:
        LocalProtocolError: a keyword or value breaks the RFC 5321 grammar, a well-known
            parameter (SIZE, BODY, RET, ENVID, NOTIFY, ORCPT, AUTH, SMTPUTF8) has an invalid
            value, or a field contains CR, LF or NUL.
    """
    words: list[str] = []
    seen: set[str] = set()
    for keyword, value in params:
        _reject_line_breakers("parameter keyword", keyword)
        if not _ESMTP_KEYWORD.fullmatch(keyword):
            raise LocalProtocolError(
                f"invalid parameter keyword {keyword!r}: expected letters, digits and '-', "
                "starting with a letter or digit",
                field="parameter keyword",
                value=keyword,
            )
        keyword = keyword.upper()
        if keyword in seen:
            raise LocalProtocolError(
                f"parameter {keyword} is given twice", field="parameter keyword", value=keyword
            )
        seen.add(keyword)
        if value is not None:
            _reject_line_breakers(f"parameter {keyword}", value)
            if not _ESMTP_VALUE.fullmatch(value):
                raise LocalProtocolError(
                    f"invalid value {value!r} for parameter {keyword}: a value must not be empty "
                    "or contain spaces, '=' or control characters",
                    field=f"parameter {keyword}",
                    value=value,
                )
        _check_known_param(keyword, value)
        words.append(keyword if value is None else f"{keyword}={value}")
    return "".join(f" {word}" for word in words)


# --- Parameter helpers -------------------------------------------------------------------------


def size_param(size: int) -> Param:
    """Return the MAIL parameter ``SIZE=<size>``: the message size in octets (RFC 1870)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise LocalProtocolError(
            f"SIZE must be a byte count of 0 or more, got {size!r}",
            field="parameter SIZE",
            value=str(size),
        )
    return ("SIZE", str(size))


def body_param(body: str) -> Param:
    """Return the MAIL parameter ``BODY=7BIT``, ``8BITMIME`` or ``BINARYMIME``."""
    _check_known_param("BODY", body)
    return ("BODY", body.upper())


def smtputf8_param() -> Param:
    """Return the MAIL parameter ``SMTPUTF8`` (RFC 6531): addresses or headers use UTF-8."""
    return ("SMTPUTF8", None)


def ret_param(ret: str) -> Param:
    """Return the MAIL parameter ``RET=FULL`` or ``RET=HDRS``: what a DSN returns (RFC 3461)."""
    _check_known_param("RET", ret)
    return ("RET", ret.upper())


def envid_param(envelope_id: str) -> Param:
    """Return the MAIL parameter ``ENVID``, xtext-encoding ``envelope_id`` (RFC 3461)."""
    _reject_line_breakers("parameter ENVID", envelope_id)
    value = encode_xtext(envelope_id)
    _check_known_param("ENVID", value)
    return ("ENVID", value)


def auth_param(mailbox: str | None) -> Param:
    """Return the MAIL parameter ``AUTH=`` (RFC 4954 section 5); ``None`` gives ``AUTH=<>``."""
    if mailbox is None:
        return ("AUTH", "<>")
    _reject_line_breakers("parameter AUTH", mailbox)
    return ("AUTH", encode_xtext(mailbox))


def notify_param(*conditions: str) -> Param:
    """Return the RCPT parameter ``NOTIFY``: ``NEVER`` or some of SUCCESS, FAILURE, DELAY."""
    value = ",".join(condition.upper() for condition in conditions)
    _reject_line_breakers("parameter NOTIFY", value)
    _check_known_param("NOTIFY", value)
    return ("NOTIFY", value)


def orcpt_param(address: str, addr_type: str = "rfc822") -> Param:
    """Return the RCPT parameter ``ORCPT=<addr_type>;<xtext address>`` (RFC 3461 section 4.2)."""
    _reject_line_breakers("parameter ORCPT", address)
    _reject_line_breakers("parameter ORCPT", addr_type)
    value = f"{addr_type};{encode_xtext(address)}"
    _check_known_param("ORCPT", value)
    return ("ORCPT", value)


# --- Command builders --------------------------------------------------------------------------


def ehlo(name: str) -> str:
    """Build ``EHLO <name>``; ``name`` is the client's domain or an address literal."""
    return f"EHLO {_check_token('EHLO name', name)}"


def helo(name: str) -> str:
    """Build ``HELO <name>``, the pre-ESMTP greeting that gets no capability list."""
    return f"HELO {_check_token('HELO name', name)}"


def starttls() -> str:
    """Build ``STARTTLS`` (RFC 3207)."""
    return "STARTTLS"


def auth(mechanism: str, initial_response: str | None = None) -> str:
    """Build ``AUTH <mechanism> [initial-response]`` (RFC 4954 section 4).

    Args:
        mechanism: a SASL mechanism name such as PLAIN; it is sent upper-cased.
        initial_response: base64 text, or ``"="`` for an empty initial response. The 512-octet
            line limit for the initial response is left to the caller.
    """
    _check_token("AUTH mechanism", mechanism)
    if not _SASL_MECHANISM.fullmatch(mechanism):
        raise LocalProtocolError(
            f"invalid SASL mechanism name {mechanism!r}: expected 1 to 20 letters, digits, "
            "'-' or '_'",
            field="AUTH mechanism",
            value=mechanism,
        )
    line = f"AUTH {mechanism.upper()}"
    if initial_response is None:
        return line
    _reject_line_breakers("AUTH initial response", initial_response)
    if not initial_response or not _INITIAL_RESPONSE.fullmatch(initial_response):
        raise LocalProtocolError(
            "the AUTH initial response must be base64, or '=' for an empty response",
            field="AUTH initial response",
            value=initial_response,
        )
    return f"{line} {initial_response}"


def mail(address: str, params: Sequence[Param] = ()) -> str:
    """Build ``MAIL FROM:<address> [params]``; an empty address gives the null path ``<>``."""
    mailbox = _check_address("sender address", address, allow_empty=True)
    return f"MAIL FROM:<{mailbox}>{format_params(params)}"


def rcpt(address: str, params: Sequence[Param] = ()) -> str:
    """Build ``RCPT TO:<address> [params]``."""
    mailbox = _check_address("recipient address", address, allow_empty=False)
    return f"RCPT TO:<{mailbox}>{format_params(params)}"


def data() -> str:
    """Build ``DATA``."""
    return "DATA"


def bdat(size: int, last: bool = False) -> str:
    """Build ``BDAT <size> [LAST]`` (RFC 3030 section 2); ``size`` octets must follow the line."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise LocalProtocolError(
            f"BDAT chunk size must be 0 or more octets, got {size!r}",
            field="BDAT size",
            value=str(size),
        )
    return f"BDAT {size} LAST" if last else f"BDAT {size}"


def rset() -> str:
    """Build ``RSET``."""
    return "RSET"


def noop(argument: str | None = None) -> str:
    """Build ``NOOP [argument]``; servers ignore the argument."""
    if argument is None:
        return "NOOP"
    return f"NOOP {_check_text('NOOP argument', argument, required=True)}"


def vrfy(argument: str) -> str:
    """Build ``VRFY <argument>``: a user name or mailbox to verify."""
    return f"VRFY {_check_text('VRFY argument', argument, required=True)}"


def expn(argument: str) -> str:
    """Build ``EXPN <argument>``: a mailing list to expand."""
    return f"EXPN {_check_text('EXPN argument', argument, required=True)}"


def help(topic: str | None = None) -> str:  # noqa: A001 - the SMTP verb is HELP
    """Build ``HELP [topic]``."""
    if topic is None:
        return "HELP"
    return f"HELP {_check_text('HELP topic', topic, required=True)}"


def quit() -> str:  # noqa: A001 - the SMTP verb is QUIT
    """Build ``QUIT``."""
    return "QUIT"


# --- Lines -------------------------------------------------------------------------------------

_TWO_WORD_VERBS: Final = {"MAIL": "FROM", "RCPT": "TO"}

# Command verbs of RFC 5321 and of the extensions this console recognizes (STARTTLS, AUTH, BDAT).
KNOWN_VERBS: Final = frozenset(
    {
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT TO", "DATA", "BDAT", "RSET",
        "NOOP", "VRFY", "EXPN", "HELP", "QUIT",
    }
)  # fmt: skip


def verb_of(line: str | bytes) -> str:
    """Return the upper-cased verb of a command line, ``""`` for an empty line.

    ``MAIL FROM`` and ``RCPT TO`` are kept as two words, also when written ``mail from:<x>`` or
    ``MAIL FROM:<x>``. A trailing CRLF and leading whitespace are ignored.
    """
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    words = text.split(None, 1)
    if not words:
        return ""
    verb = words[0].upper()
    second = _TWO_WORD_VERBS.get(verb)
    if second is not None and len(words) > 1 and words[1].upper().startswith(second):
        return f"{verb} {second}"
    return verb


def encode_line(text: str) -> bytes:
    """Encode one line for the wire: its UTF-8 bytes plus CRLF.

    Raises:
        LocalProtocolError: ``text`` contains CR or LF (it would become two lines), or a lone
            surrogate that UTF-8 cannot encode.
    """
    if "\r" in text or "\n" in text:
        raise LocalProtocolError(
            "a line must not contain CR or LF; send each line separately",
            field="line",
            value=text,
        )
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise LocalProtocolError(
            f"the line cannot be encoded as UTF-8: {error.reason}", field="line", value=text
        ) from None
    return encoded + b"\r\n"
