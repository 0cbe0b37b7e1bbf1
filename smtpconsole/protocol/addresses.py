"""Envelope addresses taken from what people write: ``Name <addr>``, ``addr (comment)``, lists.

``smtpconsole send --from/--to`` and the line mode's composer (F3, which takes the envelope from
the From, To and Cc headers) both check addresses here, so they accept and refuse the same text.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Final

from smtpconsole.protocol import commands
from smtpconsole.protocol.errors import LocalProtocolError

_TRAILING_COMMENT: Final = re.compile(r"\s*\([^()]*\)\s*$")
_EMPTY_GROUP: Final = re.compile(r"[^:<>\"]*:\s*;")


def bare_address(item: str) -> str | None:
    """Return the address in one list item, or None for an empty group (``name:;``).

    ``<addr>`` and ``Name <addr>`` give the address between the brackets. A bare address keeps
    any stray words, so that the MAIL and RCPT builders reject them, where email.utils would keep
    only the first word.
    """
    item = item.strip()
    if _EMPTY_GROUP.fullmatch(item):
        return None
    if item.startswith("<") and item.endswith(">"):
        return item[1:-1].strip()
    if "<" in item and not item.startswith("<"):
        return parseaddr(item)[1] or item
    return _TRAILING_COMMENT.sub("", item)


def check_envelope_address(address: str, *, sender: bool) -> None:
    """Check ``address`` as the MAIL FROM (``sender``) or RCPT TO builder would.

    Raises:
        LocalProtocolError: the builder rejects it; ``reason`` gives the text without the field.
    """
    if sender:
        commands.mail(address)
    else:
        commands.rcpt(address)


def reason(error: LocalProtocolError) -> str:
    """Return the builder's error without its field name and value, which the caller gives."""
    text = error.message
    if error.field and text.startswith(error.field):
        text = text[len(error.field) :].lstrip()
        if error.value is not None and text.startswith(repr(error.value)):
            text = text[len(repr(error.value)) :].lstrip()
    return text


def split_address_list(value: str) -> list[str]:
    """Split a header value at the commas that separate addresses (RFC 5322 section 3.4).

    Commas inside quotes, angle brackets or comments do not split. Empty items are dropped.
    """
    items: list[str] = []
    current: list[str] = []
    closing = {"<": ">", "(": ")"}
    expected: str | None = None
    quoted = False
    for char in value:
        if quoted:
            quoted = char != '"'
        elif expected is not None:
            expected = None if char == expected else expected
        elif char == '"':
            quoted = True
        elif char in closing:
            expected = closing[char]
        elif char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]
