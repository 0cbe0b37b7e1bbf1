"""The service extensions a server lists in its EHLO reply, with their parameters.

RFC 5321 section 4.1.1.1::

    ehlo-ok-rsp    = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
                     / ( "250-" Domain [ SP ehlo-greet ] CRLF
                     *( "250-" ehlo-line CRLF )
                     "250" SP ehlo-line CRLF )
    ehlo-line      = ehlo-keyword *( SP ehlo-param )
    ehlo-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    ehlo-param     = 1*(%d33-126)

What we accept beyond the grammar, because real servers send it: keywords in any case (stored
upper-cased), runs of spaces or tabs between words, and the pre-RFC 2554 form ``AUTH=PLAIN LOGIN``,
which some older servers still send beside ``AUTH PLAIN LOGIN``. A line that is not a
keyword line is kept in ``unparsed`` and reported in ``problems``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from smtpconsole.protocol.replies import Reply

# RFC 5321 section 4.1.1.1:
#   ehlo-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
_EHLO_KEYWORD: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")

# The old form of the AUTH line, from drafts before RFC 2554: "AUTH=PLAIN LOGIN".
_OLD_AUTH: Final = re.compile(r"AUTH=(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Capabilities:
    """The EHLO reply of one server, parsed. Build it with ``from_reply``."""

    domain: str
    """The server's name: the first word of the first reply line."""
    greeting: str = ""
    """The rest of the first reply line, after the domain."""
    keywords: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Upper-case keyword to its parameters, in the order the server listed them."""
    auth_mechanisms: tuple[str, ...] = ()
    """SASL mechanisms from ``AUTH x y`` and ``AUTH=x y`` lines: upper-cased, no duplicates."""
    size: int | None = None
    """The SIZE limit in octets; 0 means the server declares no fixed limit (RFC 1870).

    ``None`` when SIZE is absent, has no parameter, or has a parameter that is not a number, in
    which case ``size_invalid`` is True.
    """
    size_invalid: bool = False
    """True when SIZE has a parameter that is not a decimal number."""
    unparsed: tuple[str, ...] = ()
    """Reply lines that are not ``keyword *(SP param)`` lines."""
    problems: tuple[str, ...] = ()
    """Descriptions of what did not parse, for the user to see."""

    @classmethod
    def from_reply(cls, reply: Reply) -> Capabilities:
        """Parse an EHLO reply; the caller checks that its code is 250.

        The first line is the server's domain and greeting; every later line is one extension.
        """
        return cls.from_lines(reply.lines)

    @classmethod
    def from_lines(cls, lines: tuple[str, ...] | list[str]) -> Capabilities:
        """Parse the text of EHLO reply lines (reply codes already removed)."""
        first = lines[0].split(None, 1) if lines else []
        domain = first[0] if first else ""
        greeting = first[1] if len(first) > 1 else ""

        keywords: dict[str, tuple[str, ...]] = {}
        mechanisms: list[str] = []
        unparsed: list[str] = []
        for line in lines[1:]:
            words = line.split()
            if not words:
                unparsed.append(line)
                continue
            old_auth = _OLD_AUTH.fullmatch(words[0])
            if old_auth is not None:
                _add_mechanisms(mechanisms, [old_auth.group(1), *words[1:]])
                keywords.setdefault("AUTH", ())
                continue
            if not _EHLO_KEYWORD.fullmatch(words[0]):
                unparsed.append(line)
                continue
            keyword = words[0].upper()
            if keyword == "AUTH":
                _add_mechanisms(mechanisms, words[1:])
            # A keyword listed twice keeps its first parameters.
            keywords.setdefault(keyword, tuple(words[1:]))
        if "AUTH" in keywords:
            keywords["AUTH"] = tuple(mechanisms)

        size, size_invalid = _parse_size(keywords.get("SIZE"))
        problems = [f"not an extension line: {line!r}" for line in unparsed]
        if size_invalid:
            problems.append(f"SIZE parameter is not a number: {' '.join(keywords['SIZE'])!r}")
        return cls(
            domain=domain,
            greeting=greeting,
            keywords=keywords,
            auth_mechanisms=tuple(mechanisms),
            size=size,
            size_invalid=size_invalid,
            unparsed=tuple(unparsed),
            problems=tuple(problems),
        )

    def has(self, keyword: str) -> bool:
        """Return whether the server listed ``keyword`` (any case)."""
        return keyword.upper() in self.keywords

    def params(self, keyword: str) -> tuple[str, ...]:
        """Return the parameters of ``keyword``, empty when it is absent or has none."""
        return self.keywords.get(keyword.upper(), ())

    def offers_mechanism(self, mechanism: str) -> bool:
        """Return whether AUTH lists ``mechanism`` (any case)."""
        return mechanism.upper() in self.auth_mechanisms

    @property
    def auth(self) -> bool:
        """True when the server lists AUTH, in either form."""
        return "AUTH" in self.keywords

    @property
    def starttls(self) -> bool:
        return "STARTTLS" in self.keywords

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.keywords

    @property
    def smtputf8(self) -> bool:
        return "SMTPUTF8" in self.keywords

    @property
    def eightbitmime(self) -> bool:
        return "8BITMIME" in self.keywords

    @property
    def binarymime(self) -> bool:
        return "BINARYMIME" in self.keywords

    @property
    def chunking(self) -> bool:
        return "CHUNKING" in self.keywords

    @property
    def dsn(self) -> bool:
        return "DSN" in self.keywords

    @property
    def enhanced_status_codes(self) -> bool:
        return "ENHANCEDSTATUSCODES" in self.keywords


def _add_mechanisms(mechanisms: list[str], names: list[str]) -> None:
    for name in names:
        upper = name.upper()
        if upper and upper not in mechanisms:
            mechanisms.append(upper)


def _parse_size(params: tuple[str, ...] | None) -> tuple[int | None, bool]:
    """Return the SIZE limit and whether its parameter was invalid.

    RFC 1870: ``size-param ::= [1*DIGIT]``; 0 means no fixed maximum.
    """
    if not params:
        return None, False
    value = params[0]
    if not value.isascii() or not value.isdigit():
        return None, True
    return int(value), False
