"""Read the fields a user checks by eye from a DER X.509 certificate, with the standard library only.

Importing the cryptography package took 30 to 40 ms on a 2-CPU VM with Python 3.11, a quarter of
a whole ``smtpconsole send``, so the common certificates are read here. This module reads names in
UTF8String, PrintableString, IA5String, NumericString or VisibleString, validity in UTCTime or
GeneralizedTime, and DNS and IP subject alternative names. The output matches cryptography's
``rfc4514_string()`` and its other fields. Anything else raises ``UnsupportedCertificate``, and
the caller parses the certificate with cryptography instead.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Final, NamedTuple


class UnsupportedCertificate(ValueError):
    """The certificate uses an encoding this reader does not handle, or is malformed."""


class CertificateFields(NamedTuple):
    """The displayed fields, as ``tls.CertificateInfo`` stores them (without the fingerprint)."""

    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    serial: str


_SEQUENCE: Final = 0x30
_SET: Final = 0x31
_INTEGER: Final = 0x02
_OID: Final = 0x06
_OCTET_STRING: Final = 0x04
_BOOLEAN: Final = 0x01
_UTC_TIME: Final = 0x17
_GENERALIZED_TIME: Final = 0x18
_VERSION_TAG: Final = 0xA0
_EXTENSIONS_TAG: Final = 0xA3
_DNS_NAME_TAG: Final = 0x82
_IP_ADDRESS_TAG: Final = 0x87

# UTF8String, PrintableString, IA5String, NumericString, VisibleString: the string types that
# decode as UTF-8 or ASCII, which covers certificates issued under the CA/Browser Forum rules.
_TEXT_TYPES: Final = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x12: "ascii", 0x1A: "ascii"}

# Short names that RFC 4514 section 3 defines, as cryptography prints them.
_SHORT_NAMES: Final = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
_SUBJECT_ALT_NAME_OID: Final = "2.5.29.17"


def read_certificate(der: bytes) -> CertificateFields:
    """Read the displayed fields of a DER certificate.

    Raises:
        UnsupportedCertificate: the certificate is malformed or uses an encoding not handled here.
    """
    try:
        return _read(der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnsupportedCertificate):
            raise
        raise UnsupportedCertificate(f"cannot read the certificate: {exc}") from exc


def _read(der: bytes) -> CertificateFields:
    certificate = _expect(der, 0, _SEQUENCE)
    tbs = _expect(der, certificate[0], _SEQUENCE)
    position, end = tbs
    if der[position] == _VERSION_TAG:
        position = _next(der, position)
    serial_start, serial_end = _expect(der, position, _INTEGER)
    serial = int.from_bytes(der[serial_start:serial_end], "big", signed=True)
    position = _next(der, _next(der, position))  # the serial, then the signature algorithm
    issuer = _read_name(der, position)
    position = _next(der, position)
    validity_start, _ = _expect(der, position, _SEQUENCE)
    not_before = _read_time(der, validity_start)
    not_after = _read_time(der, _next(der, validity_start))
    position = _next(der, position)
    subject = _read_name(der, position)
    position = _next(der, _next(der, position))  # the subject, then the public key
    sans: tuple[str, ...] = ()
    while position < end:
        if der[position] == _EXTENSIONS_TAG:
            sans = _read_alt_names(der, _expect(der, position, _EXTENSIONS_TAG)[0])
        position = _next(der, position)
    return CertificateFields(subject, issuer, sans, not_before, not_after, format(serial, "X"))


def _header(der: bytes, position: int) -> tuple[int, int, int]:
    """Return the tag, the start and the end of the contents of the element at ``position``."""
    tag = der[position]
    if tag & 0x1F == 0x1F:
        raise UnsupportedCertificate("multi-byte tags are not handled")
    length = der[position + 1]
    start = position + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise UnsupportedCertificate("indefinite or oversized length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    end = start + length
    if end > len(der):
        raise UnsupportedCertificate("an element runs past the end of the certificate")
    return tag, start, end


def _expect(der: bytes, position: int, tag: int) -> tuple[int, int]:
    found, start, end = _header(der, position)
    if found != tag:
        raise UnsupportedCertificate(f"expected tag {tag:#x} at {position}, found {found:#x}")
    return start, end


def _next(der: bytes, position: int) -> int:
    return _header(der, position)[2]


def _read_oid(der: bytes, position: int) -> str:
    start, end = _expect(der, position, _OID)
    first = der[start]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in der[start + 1 : end]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if first & 0x80:
        raise UnsupportedCertificate("multi-byte first OID arc")
    return ".".join(str(part) for part in parts)


def _read_name(der: bytes, position: int) -> str:
    """Return a Name in RFC 4514 form: RDNs in reverse order, as cryptography writes them."""
    start, end = _expect(der, position, _SEQUENCE)
    rdns: list[str] = []
    while start < end:
        set_start, set_end = _expect(der, start, _SET)
        attributes: list[str] = []
        while set_start < set_end:
            attribute_start, _ = _expect(der, set_start, _SEQUENCE)
            oid = _read_oid(der, attribute_start)
            tag, value_start, value_end = _header(der, _next(der, attribute_start))
            encoding = _TEXT_TYPES.get(tag)
            if encoding is None:
                raise UnsupportedCertificate(f"name attribute with string tag {tag:#x}")
            value = der[value_start:value_end].decode(encoding)
            attributes.append(f"{_SHORT_NAMES.get(oid, oid)}={_escape_value(value)}")
            set_start = _next(der, set_start)
        rdns.append("+".join(attributes))
        start = set_end
    return ",".join(reversed(rdns))


def _escape_value(value: str) -> str:
    """Escape a name value for RFC 4514 section 2.4, character for character as cryptography."""
    if not value:
        return ""
    for special in ("\\", '"', "+", ",", ";", "<", ">"):
        value = value.replace(special, "\\" + special)
    value = value.replace("\0", "\\00")
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def _read_time(der: bytes, position: int) -> datetime:
    tag, start, end = _header(der, position)
    text = der[start:end].decode("ascii")
    if tag == _UTC_TIME and len(text) == 13 and text.endswith("Z"):
        year = int(text[:2])
        # RFC 5280 section 4.1.2.5.1: two-digit years from 50 are 19xx, below 50 are 20xx.
        text = ("19" if year >= 50 else "20") + text
    elif not (tag == _GENERALIZED_TIME and len(text) == 15 and text.endswith("Z")):
        raise UnsupportedCertificate(f"time {text!r} is not in the RFC 5280 form")
    if not text[:14].isdigit():
        raise UnsupportedCertificate(f"time {text!r} is not in the RFC 5280 form")
    # YYYYMMDDHHMMSSZ; datetime.strptime would import _strptime and locale, about 2 ms.
    year, month, day, hour, minute, second = (
        int(text[start:end]) for start, end in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14))
    )
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _read_alt_names(der: bytes, position: int) -> tuple[str, ...]:
    start, end = _expect(der, position, _SEQUENCE)
    while start < end:
        extension_start, extension_end = _expect(der, start, _SEQUENCE)
        if _read_oid(der, extension_start) == _SUBJECT_ALT_NAME_OID:
            value = _next(der, extension_start)
            if der[value] == _BOOLEAN:  # the critical flag
                value = _next(der, value)
            octets_start, _ = _expect(der, value, _OCTET_STRING)
            return _general_names(der, octets_start)
        start = extension_end
    return ()


def _general_names(der: bytes, position: int) -> tuple[str, ...]:
    """Return the DNS names, then the IP addresses, as cryptography lists them."""
    start, end = _expect(der, position, _SEQUENCE)
    dns: list[str] = []
    addresses: list[str] = []
    while start < end:
        tag, value_start, value_end = _header(der, start)
        value = der[value_start:value_end]
        if tag == _DNS_NAME_TAG:
            dns.append(f"DNS:{value.decode('ascii')}")
        elif tag == _IP_ADDRESS_TAG:
            if len(value) not in (4, 16):
                raise UnsupportedCertificate("an IP address name is not 4 or 16 octets")
            addresses.append(f"IP:{ipaddress.ip_address(value)}")
        start = value_end
    return tuple(dns + addresses)
