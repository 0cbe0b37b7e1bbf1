"""DATA and BDAT payloads: MIME composition, CRLF line ends, dot-stuffing and header checks.

Messages are built with the standard ``email`` package. ``build_message`` returns the message as
the recipient will see it (``raw``, also the BDAT payload) and as it goes after DATA's 354
(``payload_for_data``: dot-stuffed and ended by ``CRLF.CRLF``, RFC 5321 section 4.5.2). No bare CR
or LF leaves this module, because RFC 5321 section 2.3.8 forbids them and servers differ on what
they do with them. ``prepare_raw_payload`` does the same for a message the user wrote by hand.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Final, Literal

from smtpconsole.protocol import commands
from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.errors import LocalProtocolError

Charset = Literal["utf-8", "iso-2022-jp"]
"""Charset of the subject, display names and text body."""

MAX_LINE_OCTETS: Final = 998
"""Maximum line length in a message in octets, CRLF excluded (RFC 5322 section 2.1.1)."""

DATA_TERMINATOR: Final = b".\r\n"
"""The line that ends DATA; it follows the payload's final CRLF (RFC 5321 section 4.1.1.4)."""

_LINE_END: Final = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class MessageWarning:
    """A problem found in a message; the same fields as the dialogue's ``Advice``."""

    level: Literal["info", "warning", "error"]
    text: str
    key: str
    """Stable identifier of the kind of problem, such as ``header-misspelled``."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message."""

    filename: str
    data: bytes
    content_type: str | None = None
    """MIME type such as ``application/pdf``; guessed from ``filename`` when None."""

    @classmethod
    def from_path(cls, path: str | Path, content_type: str | None = None) -> Attachment:
        """Read a file into an attachment named after the file."""
        file_path = Path(path)
        return cls(file_path.name, file_path.read_bytes(), content_type)

    def mime_type(self) -> tuple[str, str]:
        """Return the main type and subtype; ``application/octet-stream`` when unknown."""
        import mimetypes

        guessed = self.content_type or mimetypes.guess_type(self.filename)[0]
        maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
        return maintype, subtype or "octet-stream"


@dataclass(frozen=True)
class MessageSpec:
    """Fields of a message to compose, which ``build_message`` turns into a MIME message."""

    from_address: str
    """``addr@example.com`` or ``Display Name <addr@example.com>``."""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    attachments: tuple[Attachment, ...] = ()
    charset: Charset = "utf-8"
    """Charset for the subject, display names and body. ISO-2022-JP is sent as 7-bit text."""
    date: str | None = None
    """The Date header; the current local time when None."""
    message_id: str | None = None
    """The Message-ID header; one is made from the sender's domain when None."""
    extra_headers: tuple[tuple[str, str], ...] = ()
    """Further header fields, added after the others in the given order."""


@dataclass(frozen=True)
class BuiltMessage:
    """A message ready to send."""

    raw: bytes
    """The message with CRLF line ends as delivered to the recipient, and the BDAT payload."""
    payload_for_data: bytes
    """``raw`` dot-stuffed and followed by ``.`` CRLF: what is sent after DATA's 354."""
    warnings: list[MessageWarning] = field(default_factory=list)
    mail_params: tuple[commands.Param, ...] = ()
    """MAIL FROM parameters the message needs: SIZE, BODY=8BITMIME, SMTPUTF8."""
    sender: str = ""
    """The From address without display name, the usual MAIL FROM."""
    recipients: tuple[str, ...] = ()
    """The To and Cc addresses without display names, the usual RCPT TO list."""


# --- Line ends and dot-stuffing -----------------------------------------------------------------


def normalize_line_endings(data: bytes) -> bytes:
    """Return ``data`` with every CRLF, bare CR and bare LF turned into CRLF."""
    # Three bytes.replace passes give the same result as _LINE_END.sub in a third of its time on
    # a 20 MB message. The first pass finds CRLF pairs left to right as the regex does, so every
    # CR or LF left after it is bare.
    if b"\r" not in data:
        return data.replace(b"\n", b"\r\n")
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def dot_stuff(data: bytes) -> bytes:
    """Double the leading ``.`` of every line (RFC 5321 section 4.5.2); ``data`` uses CRLF."""
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def terminate_data(stuffed: bytes) -> bytes:
    """Return dot-stuffed ``stuffed`` ending in CRLF, followed by the ``.`` CRLF end line."""
    if stuffed and not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + DATA_TERMINATOR


def prepare_raw_payload(raw: bytes) -> bytes:
    """Turn a hand-written message into a DATA payload: CRLF line ends, dot-stuffed, terminated."""
    return terminate_data(dot_stuff(normalize_line_endings(raw)))


def prepare_raw_message(raw: bytes, capabilities: Capabilities | None = None) -> BuiltMessage:
    """Prepare a hand-written message, sent as it is, for a server with ``capabilities``.

    The line ends become CRLF and a last line gets its CRLF. The MAIL parameters are those a built
    message gets: SIZE when the server offers it, and BODY=8BITMIME for 8-bit content when the
    server offers 8BITMIME. The warnings cover the line length, 8-bit content the server does not
    accept, and the SIZE limit, but not the headers, which the user wrote on purpose.
    """
    message = normalize_line_endings(raw)
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    offers = _ServerOffers.of(capabilities)
    eight_bit = not message.isascii()
    return BuiltMessage(
        raw=message,
        payload_for_data=terminate_data(dot_stuff(message)),
        warnings=_check_transfer(message, capabilities),
        mail_params=_mail_params(len(message), eight_bit and offers.eightbitmime, False, offers),
    )


def undo_dot_stuffing(payload: bytes) -> bytes:
    """Return the message inside a DATA payload: the end line removed and leading dots un-doubled.

    This is what a receiving server does (RFC 5321 section 4.5.2); tests and the practice server
    use it to check what a payload delivers.
    """
    if payload == DATA_TERMINATOR:
        return b""
    if payload.endswith(b"\r\n" + DATA_TERMINATOR):
        payload = payload[: -len(DATA_TERMINATOR)]
    unstuffed = payload.replace(b"\r\n.", b"\r\n")
    return unstuffed[1:] if unstuffed.startswith(b".") else unstuffed


# --- Composition --------------------------------------------------------------------------------


def build_message(spec: MessageSpec, capabilities: Capabilities | None = None) -> BuiltMessage:
    """Compose the MIME message described by ``spec`` for a server with ``capabilities``.

    An 8-bit UTF-8 body is sent as 8bit when the server offers 8BITMIME and as quoted-printable
    otherwise. Addresses with non-ASCII characters need SMTPUTF8 (RFC 6531): the headers are then
    written in raw UTF-8, and a warning is given when the server does not offer it. Without
    ``capabilities`` the message is built for a server that offers nothing.

    Raises:
        LocalProtocolError: a field contains CR, LF or NUL, an address is invalid, or the text
            cannot be encoded in the chosen charset.
    """
    sender = parse_header_address("From", spec.from_address)
    to = [parse_header_address("To", text) for text in spec.to]
    cc = [parse_header_address("Cc", text) for text in spec.cc]
    all_addresses = [sender, *to, *cc]
    needs_smtputf8 = any(not address.isascii() for _, address in all_addresses)
    offers = _ServerOffers.of(capabilities)

    policy = email_policy.SMTPUTF8 if needs_smtputf8 else email_policy.SMTP
    message = EmailMessage(policy=policy.clone(refold_source="none"))
    _set_address_headers(message, spec.charset, sender, to, cc, raw_utf8=needs_smtputf8)
    _set_subject(message, spec.subject, spec.charset)
    message["Date"] = spec.date or email.utils.formatdate(localtime=True)
    message["Message-ID"] = spec.message_id or _make_message_id(sender[1])
    for name, value in spec.extra_headers:
        _check_field(f"header {name}", name)
        _check_field(f"header {name}", value)
        message[name] = value

    eight_bit = _set_body(message, spec.body, spec.charset, offers.eightbitmime)
    for attachment in spec.attachments:
        maintype, subtype = attachment.mime_type()
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )

    raw = normalize_line_endings(message.as_bytes())
    warnings = check_message(raw, capabilities, smtputf8=needs_smtputf8)
    if needs_smtputf8 and not offers.smtputf8:
        warnings.append(
            MessageWarning(
                "error",
                "an address contains non-ASCII characters, which needs SMTPUTF8, but the server"
                " does not offer it; the server will likely reject the message",
                "smtputf8-missing",
            )
        )
    return BuiltMessage(
        raw=raw,
        payload_for_data=terminate_data(dot_stuff(raw)),
        warnings=warnings,
        mail_params=_mail_params(len(raw), eight_bit, needs_smtputf8, offers),
        sender=sender[1],
        recipients=tuple(address for _, address in [*to, *cc]),
    )


@dataclass(frozen=True)
class _ServerOffers:
    eightbitmime: bool = False
    smtputf8: bool = False
    size: int | None = None

    @classmethod
    def of(cls, capabilities: Capabilities | None) -> _ServerOffers:
        if capabilities is None:
            return cls()
        return cls(capabilities.eightbitmime, capabilities.smtputf8, capabilities.size)


def _mail_params(
    size: int, eight_bit: bool, smtputf8: bool, offers: _ServerOffers
) -> tuple[commands.Param, ...]:
    params: list[commands.Param] = []
    if offers.size is not None:
        params.append(commands.size_param(size))
    if eight_bit:
        params.append(commands.body_param("8BITMIME"))
    if smtputf8:
        params.append(commands.smtputf8_param())
    return tuple(params)


def _check_field(field: str, value: str) -> None:
    for char, label in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if char in value:
            raise LocalProtocolError(f"invalid {field}: contains {label}", field=field, value=value)


def parse_header_address(field: str, text: str) -> tuple[str, str]:
    """Return the display name and address of one From, To or Cc value.

    Raises:
        LocalProtocolError: the value contains CR, LF or NUL, or is not ``addr@domain`` or
            ``Name <addr@domain>``.
    """
    _check_field(field, text)
    name, address = email.utils.parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise LocalProtocolError(
            f"invalid {field} address {text!r}: expected addr@domain or Name <addr@domain>",
            field=field,
            value=text,
        )
    return name, address


def _set_address_headers(
    message: EmailMessage,
    charset: Charset,
    sender: tuple[str, str],
    to: Sequence[tuple[str, str]],
    cc: Sequence[tuple[str, str]],
    *,
    raw_utf8: bool,
) -> None:
    for name, addresses in (("From", [sender]), ("To", to), ("Cc", cc)):
        if not addresses:
            continue
        if charset == "iso-2022-jp" and not raw_utf8:
            # set_raw keeps the ISO-2022-JP encoded words; the header registry would re-encode
            # them as UTF-8.
            folded = ",\n ".join(_format_jis_address(n, a) for n, a in addresses)
            message.set_raw(name, folded)
        else:
            message[name] = [_address_object(name, n, a) for n, a in addresses]


def _address_object(field: str, display_name: str, address: str) -> Address:
    local, _, domain = address.rpartition("@")
    try:
        return Address(display_name=display_name, username=local, domain=domain)
    except (ValueError, IndexError) as error:
        raise LocalProtocolError(
            f"invalid {field} address {address!r}: {error}", field=field, value=address
        ) from None


def _format_jis_address(display_name: str, address: str) -> str:
    if not display_name or display_name.isascii():
        return email.utils.formataddr((display_name, address))
    return f"{_encode_jis(display_name, 'display name')} <{address}>"


def _encode_jis(text: str, field: str, header_name: str | None = None) -> str:
    try:
        text.encode("iso-2022-jp")
    except UnicodeEncodeError as error:
        raise LocalProtocolError(
            f"invalid {field}: {text[error.start : error.end]!r} cannot be encoded in"
            " ISO-2022-JP; use UTF-8",
            field=field,
            value=text,
        ) from None
    return Header(text, "iso-2022-jp", header_name=header_name).encode()


def _set_subject(message: EmailMessage, subject: str, charset: Charset) -> None:
    _check_field("subject", subject)
    if charset == "iso-2022-jp" and not subject.isascii():
        message.set_raw("Subject", _encode_jis(subject, "subject", "Subject"))
    else:
        message["Subject"] = subject


def _make_message_id(address: str) -> str:
    domain = address.rpartition("@")[2]
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = "localhost"
    # make_msgid looks up the local host name unless it is given a domain.
    return email.utils.make_msgid(domain=ascii_domain)


def _set_body(message: EmailMessage, body: str, charset: Charset, eightbitmime: bool) -> bool:
    """Set the text body and return whether it went out as 8bit (BODY=8BITMIME needed)."""
    encoded = _encode_body(body, charset)
    longest = max((len(line) for line in encoded.splitlines()), default=0)
    if longest > MAX_LINE_OCTETS:
        # 7bit and 8bit keep lines as they are, and no line may exceed 998 octets.
        cte = "base64" if charset == "iso-2022-jp" else "quoted-printable"
    elif encoded.isascii():
        cte = "7bit"
    elif eightbitmime:
        cte = "8bit"
    else:
        cte = "quoted-printable"
    message.set_content(body, subtype="plain", charset=charset, cte=cte)
    return cte == "8bit"


def _encode_body(body: str, charset: Charset) -> bytes:
    try:
        return body.encode(charset)
    except UnicodeEncodeError as error:
        raise LocalProtocolError(
            f"invalid body: {body[error.start : error.end]!r} cannot be encoded in"
            f" {charset.upper()}; use UTF-8",
            field="body",
        ) from None


# --- Checks -------------------------------------------------------------------------------------

KNOWN_HEADERS: Final = frozenset(
    name.lower()
    for name in (
        # RFC 5322 section 3.6 and RFC 2045 (MIME).
        "Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To",
        "References", "Subject", "Comments", "Keywords", "Resent-Date", "Resent-From",
        "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-Message-ID",
        "Return-Path", "Received", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        "Content-Disposition", "Content-ID", "Content-Description", "Content-Language",
        # Common in the field: mailing lists (RFC 2369, 2919, 8058), authentication results,
        # DKIM and ARC signatures, receipts and client headers.
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Help", "List-Post",
        "List-Owner", "List-Archive", "List-Subscribe", "Precedence", "Auto-Submitted",
        "Authentication-Results", "Received-SPF", "DKIM-Signature", "ARC-Seal",
        "ARC-Message-Signature", "ARC-Authentication-Results", "Feedback-ID",
        "Disposition-Notification-To", "Return-Receipt-To", "Errors-To", "Delivered-To",
        "Envelope-To", "User-Agent", "Organization", "Importance", "Priority", "Sensitivity",
        "Expires", "Thread-Topic", "Thread-Index", "Accept-Language", "Mail-Followup-To",
        "Mail-Reply-To", "Autocrypt", "Archived-At", "TLS-Required",
    )
)  # fmt: skip
"""Header names, lower-cased, that are never reported as misspellings."""

SINGLE_HEADERS: Final = (
    "Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To",
    "References", "Subject",
)  # fmt: skip
"""Headers that RFC 5322 section 3.6 allows at most once; ``check_headers`` warns on repeats."""

# RFC 5322 section 3.6.8:  field-name = 1*ftext ; ftext = %d33-57 / %d59-126
_FIELD_NAME: Final = re.compile(rb"[\x21-\x39\x3b-\x7e]+")


@dataclass(frozen=True)
class _HeaderField:
    name: str
    value: bytes
    line_number: int


def check_headers(message: bytes | str, *, smtputf8: bool = False) -> list[MessageWarning]:
    """Return warnings about the header section of ``message``.

    The warnings cover a name that looks like a misspelled common header (``Subjet:``), a missing
    or repeated From or Date, and other repeated single-use headers. They also cover a line in the
    header section that is not a header field, and raw non-ASCII bytes in a header unless
    ``smtputf8`` is True.
    """
    data = (
        message.encode("utf-8", errors="surrogateescape") if isinstance(message, str) else message
    )
    fields, warnings = _parse_header_section(data)
    warnings.extend(_check_names(fields))
    warnings.extend(_check_counts(fields))
    if not smtputf8:
        warnings.extend(_check_non_ascii(fields))
    return warnings


def check_message(
    raw: bytes, capabilities: Capabilities | None = None, *, smtputf8: bool = False
) -> list[MessageWarning]:
    """Return the header warnings plus those about line length, 8-bit data and the SIZE limit.

    ``raw`` is the message before dot-stuffing, with CRLF line ends.
    """
    return check_headers(raw, smtputf8=smtputf8) + _check_transfer(raw, capabilities)


def _check_transfer(raw: bytes, capabilities: Capabilities | None) -> list[MessageWarning]:
    """Return the warnings about line length, 8-bit data and the SIZE limit."""
    warnings: list[MessageWarning] = []
    for number, line in enumerate(raw.split(b"\r\n"), start=1):
        if len(line) > MAX_LINE_OCTETS:
            warnings.append(
                MessageWarning(
                    "warning",
                    f"line {number} is {len(line)} octets long, over the limit of"
                    f" {MAX_LINE_OCTETS} (RFC 5322 section 2.1.1); servers may cut or reject it",
                    "line-too-long",
                )
            )
            break
    offers = _ServerOffers.of(capabilities)
    if capabilities is not None and not raw.isascii() and not offers.eightbitmime:
        warnings.append(
            MessageWarning(
                "warning",
                "the message contains 8-bit data but the server does not offer 8BITMIME;"
                " encode the body as quoted-printable or base64",
                "body-8bit",
            )
        )
    if offers.size and len(raw) > offers.size:
        warnings.append(
            MessageWarning(
                "error",
                f"the message is {len(raw)} octets, over the server's SIZE limit of"
                f" {offers.size} octets; the server will likely reject it with 552",
                "message-size",
            )
        )
    return warnings


def _parse_header_section(data: bytes) -> tuple[list[_HeaderField], list[MessageWarning]]:
    fields: list[_HeaderField] = []
    warnings: list[MessageWarning] = []
    for number, line in enumerate(_LINE_END.split(data), start=1):
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if fields:
                last = fields[-1]
                fields[-1] = _HeaderField(
                    last.name, last.value + b" " + line.strip(), last.line_number
                )
                continue
        name, colon, value = line.partition(b":")
        if colon and _FIELD_NAME.fullmatch(name.rstrip(b" \t")):
            if name != name.rstrip(b" \t"):
                warnings.append(
                    _warning(
                        f"line {number}: space before ':' in header {name.strip().decode()!r}",
                        "header-space",
                    )
                )
            fields.append(_HeaderField(name.strip().decode("ascii"), value.strip(), number))
            continue
        line_start = line[:60].decode("utf-8", errors="backslashreplace")
        warnings.append(
            _warning(
                f"line {number} ({line_start!r}) is not a header field, so the headers end there;"
                " put an empty line between the headers and the body",
                "header-not-a-field",
            )
        )
        break
    return fields, warnings


def _warning(
    text: str, key: str, level: Literal["info", "warning", "error"] = "warning"
) -> MessageWarning:
    return MessageWarning(level, text, key)


def _check_names(fields: Iterable[_HeaderField]) -> list[MessageWarning]:
    warnings = []
    for header in fields:
        lower = header.name.lower()
        if lower in KNOWN_HEADERS or lower.startswith("x-"):
            continue
        match = _likely_intended(lower)
        if match is not None:
            warnings.append(
                _warning(
                    f"line {header.line_number}: header {header.name!r} looks like a"
                    f" misspelling of {match!r}",
                    "header-misspelled",
                )
            )
    return warnings


_CANONICAL_NAMES: Final = {
    name.lower(): name
    for name in ("Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID",
                 "In-Reply-To", "References", "Subject", "MIME-Version", "Content-Type",
                 "Content-Transfer-Encoding", "Content-Disposition", "Return-Path", "Received")
}  # fmt: skip


def _likely_intended(lower: str) -> str | None:
    # Letters swapped ("Form") keep the same letters; other typos are close by difflib's ratio.
    import difflib

    for candidate, canonical in _CANONICAL_NAMES.items():
        if sorted(candidate) == sorted(lower):
            return canonical
    close = difflib.get_close_matches(lower, list(_CANONICAL_NAMES), n=1, cutoff=0.75)
    return _CANONICAL_NAMES[close[0]] if close else None


def _check_counts(fields: Sequence[_HeaderField]) -> list[MessageWarning]:
    counts: dict[str, int] = {}
    for header in fields:
        counts[header.name.lower()] = counts.get(header.name.lower(), 0) + 1
    warnings = []
    for name in ("From", "Date"):
        if counts.get(name.lower(), 0) == 0:
            warnings.append(
                _warning(
                    f"missing {name} header; RFC 5322 section 3.6 requires one",
                    f"header-missing-{name.lower()}",
                )
            )
    for name in SINGLE_HEADERS:
        count = counts.get(name.lower(), 0)
        if count > 1:
            warnings.append(
                _warning(
                    f"{name} appears {count} times; RFC 5322 section 3.6 allows it once",
                    "header-duplicate",
                )
            )
    if "message-id" not in counts:
        warnings.append(
            _warning(
                "no Message-ID header; many servers add one", "header-missing-message-id", "info"
            )
        )
    return warnings


def _check_non_ascii(fields: Iterable[_HeaderField]) -> list[MessageWarning]:
    warnings = []
    for header in fields:
        if not header.value.isascii():
            warnings.append(
                _warning(
                    f"line {header.line_number}: header {header.name!r} contains raw non-ASCII"
                    " bytes; encode it as an RFC 2047 encoded word, or send with SMTPUTF8",
                    "header-non-ascii",
                )
            )
    return warnings
