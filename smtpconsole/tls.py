"""SSL contexts from the TLS options, verification failure reasons, and peer certificate details.

Verification is on by default, against the system store or a given CA file, and checks the host
name (RFC 6125). A context that does not verify is made only when the caller asks for it.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from smtpconsole.errors import TlsError
from smtpconsole.options import TlsOptions
from smtpconsole.x509_fields import UnsupportedCertificate, read_certificate

if TYPE_CHECKING:
    from cryptography import x509

TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}
"""Values accepted for ``TlsOptions.min_version``."""


@dataclass(frozen=True)
class CertificateInfo:
    """The fields of one X.509 certificate that a user checks by eye."""

    subject: str
    """Subject distinguished name in RFC 4514 form, such as ``CN=mail.example.com``."""
    issuer: str
    """Issuer distinguished name in RFC 4514 form."""
    sans: tuple[str, ...]
    """Subject alternative names as ``DNS:name`` or ``IP:address``."""
    not_before: datetime
    """Start of the validity period, in UTC."""
    not_after: datetime
    """End of the validity period, in UTC."""
    sha256_fingerprint: str
    """SHA-256 of the DER encoding, as colon-separated upper-case hex pairs."""
    serial: str
    """Serial number in hex."""

    @property
    def self_signed(self) -> bool:
        """True when the subject and the issuer are the same name."""
        return self.subject == self.issuer

    def expired(self, now: datetime) -> bool:
        """Return True when ``now`` (timezone-aware) is outside the validity period."""
        return not self.not_before <= now <= self.not_after

    def describe(self) -> list[str]:
        """Return the certificate as display lines."""
        return [
            f"subject: {self.subject}",
            f"issuer:  {self.issuer}",
            f"names:   {', '.join(self.sans) if self.sans else '(no subject alternative names)'}",
            f"valid:   {self.not_before:%Y-%m-%d %H:%M} to {self.not_after:%Y-%m-%d %H:%M} UTC",
            f"serial:  {self.serial}",
            f"SHA-256: {self.sha256_fingerprint}",
        ]


@dataclass(frozen=True)
class TlsInfo:
    """The result of one TLS handshake, or of a failed one when ``verified`` is False."""

    version: str | None
    """Protocol version such as ``TLSv1.3``; None when the handshake failed."""
    cipher: str | None
    """Cipher suite name; None when the handshake failed."""
    verified: bool
    """True when the certificate chain and the host name were verified."""
    verify_error: str | None
    """Reason verification failed, such as ``Hostname mismatch``; None when verified or not checked."""
    server_name: str | None
    """Name sent as SNI and checked against the certificate."""
    chain: tuple[CertificateInfo, ...] = ()
    """Peer certificates, leaf first; only the leaf unless ``chain_complete``."""
    chain_complete: bool = False
    """True when ``chain`` contains every certificate the server sent, not only the leaf."""

    @property
    def leaf(self) -> CertificateInfo | None:
        """The server's own certificate, if one was received."""
        return self.chain[0] if self.chain else None


def create_context(opts: TlsOptions, *, verify: bool | None = None) -> ssl.SSLContext:
    """Build a client SSL context from ``opts``.

    Args:
        opts: CA file, client certificate and minimum version.
        verify: overrides ``opts.verify`` when not None.

    Raises:
        TlsError: a CA file, client certificate or key cannot be loaded, or the minimum version
            is not one of ``TLS_VERSIONS``.
    """
    verify = opts.verify if verify is None else verify
    if verify and opts.ca_file:
        # With a CA file the system store is not loaded: the file is the only trust anchor, and
        # loading the store takes about 25 ms.
        context = _context_with_ca_file(opts.ca_file)
    elif verify:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if opts.min_version:
        context.minimum_version = _parse_min_version(opts.min_version)
    if opts.client_cert:
        _load_client_cert(context, opts.client_cert, opts.client_key)
    return context


def _context_with_ca_file(path: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(
            f"cannot load CA file {path!r}: {_error_text(exc)}",
            "give a PEM file holding one or more CA certificates (--ca-file)",
        ) from exc


def _load_client_cert(context: ssl.SSLContext, cert: str, key: str | None) -> None:
    try:
        context.load_cert_chain(certfile=cert, keyfile=key)
    except (OSError, ssl.SSLError) as exc:
        files = f"{cert!r} and key {key!r}" if key else repr(cert)
        raise TlsError(
            f"cannot load client certificate {files}: {_error_text(exc)}",
            "give PEM files; put the key beside the certificate or name it with client_key",
        ) from exc


def _parse_min_version(text: str) -> ssl.TLSVersion:
    version = TLS_VERSIONS.get(text.strip().removeprefix("TLSv").removeprefix("tls"))
    if version is None:
        raise TlsError(
            f"invalid minimum TLS version {text!r}",
            f"use one of {', '.join(TLS_VERSIONS)}",
        )
    return version


def _error_text(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    return exc.strerror or str(exc)


def parse_certificate(der: bytes) -> CertificateInfo:
    """Parse a DER-encoded certificate into the fields shown to the user.

    ``x509_fields`` reads common certificates without importing cryptography; the others are
    parsed with cryptography, which gives the same fields.
    """
    fingerprint = hashlib.sha256(der).hexdigest().upper()
    try:
        fields = read_certificate(der)
    except UnsupportedCertificate:
        return _parse_with_cryptography(der, fingerprint)
    return CertificateInfo(
        subject=fields.subject,
        issuer=fields.issuer,
        sans=fields.sans,
        not_before=fields.not_before,
        not_after=fields.not_after,
        sha256_fingerprint=_colon_pairs(fingerprint),
        serial=fields.serial,
    )


def _parse_with_cryptography(der: bytes, fingerprint: str) -> CertificateInfo:
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=_subject_alt_names(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256_fingerprint=_colon_pairs(fingerprint),
        serial=format(cert.serial_number, "X"),
    )


def _colon_pairs(hex_text: str) -> str:
    return ":".join(hex_text[i : i + 2] for i in range(0, len(hex_text), 2))


def _subject_alt_names(cert: x509.Certificate) -> tuple[str, ...]:
    from cryptography import x509

    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    names = [f"DNS:{name}" for name in extension.value.get_values_for_type(x509.DNSName)]
    names += [f"IP:{ip}" for ip in extension.value.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def tls_info_from(
    ssl_object: ssl.SSLObject | ssl.SSLSocket,
    *,
    verified: bool,
    server_name: str | None,
    verify_error: str | None = None,
) -> TlsInfo:
    """Describe a completed handshake: version, cipher and the peer certificates."""
    chain, complete = peer_chain(ssl_object)
    cipher = ssl_object.cipher()
    return TlsInfo(
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        verified=verified,
        verify_error=verify_error,
        server_name=server_name,
        chain=chain,
        chain_complete=complete,
    )


def peer_chain(
    ssl_object: ssl.SSLObject | ssl.SSLSocket,
) -> tuple[tuple[CertificateInfo, ...], bool]:
    """Return the peer certificates (leaf first) and whether that is the whole chain sent.

    NOTE: Python 3.13 added ``get_unverified_chain()``; before it the ssl module gives only the
    leaf certificate (``getpeercert(binary_form=True)``), so on 3.11 and 3.12 the chain contains one
    certificate and the second value is False.
    """
    get_chain = getattr(ssl_object, "get_unverified_chain", None)
    if get_chain is not None:
        certificates = get_chain() or []
        # Python 3.13 returns the chain as DER bytes, leaf first.
        return tuple(parse_certificate(bytes(der)) for der in certificates), True
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return (), False
    return (parse_certificate(der),), False


def failure_reason(exc: ssl.SSLError) -> str:
    """Return the short reason of a failed handshake, such as ``Hostname mismatch``."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return str(exc.verify_message)
    if exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    return str(exc)


def failure_hint(reason: str, server_name: str | None) -> str:
    """Return what a user can do about a failed verification with ``reason``."""
    lowered = reason.lower()
    if "hostname mismatch" in lowered or "ip address mismatch" in lowered:
        return (
            f"the certificate is not valid for {server_name!r}: connect by one of the names it "
            "lists, or set the name to check with --sni"
        )
    if "local issuer" in lowered or "self-signed" in lowered or "self signed" in lowered:
        return (
            "the certificate's CA is not trusted here: give the CA's PEM file with --ca-file, "
            "or continue without verification only if you trust this network (--insecure)"
        )
    if "expired" in lowered or "not yet valid" in lowered:
        return "the certificate is outside its validity period: check the server, and this clock"
    return "check the server's certificate and the TLS options (--ca-file, --sni, --insecure)"
