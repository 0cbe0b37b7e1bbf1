"""Self-signed certificate for the practice server, made fresh at every start.

The certificate is its own issuer, so the CA file a client trusts is the certificate itself: a client
that trusts it trusts this one server and nothing else. It names ``localhost`` and the IP addresses
``127.0.0.1`` and ``::1`` in its subject alternative names, so host name checks pass for each.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERTIFICATE_NAME: Final = "localhost"
"""DNS name in the certificate; clients connect to 127.0.0.1 and check this name or the IP SAN."""

VALIDITY: Final = datetime.timedelta(days=7)
"""How long the certificate stays valid; the server makes a new one at every start."""

CLOCK_SKEW: Final = datetime.timedelta(minutes=5)
"""How far back ``not_valid_before`` is set, so a client clock slightly behind still accepts it."""


@dataclass(frozen=True)
class CertificateFiles:
    """PEM files of the practice certificate."""

    cert_file: Path
    """The certificate, which is also the file clients pass as their CA file."""
    key_file: Path
    """The private key, readable by the owner only; the server deletes it once it has loaded it."""
    sha256_fingerprint: str
    """SHA-256 fingerprint of the certificate, as colon-separated hex pairs."""

    @property
    def ca_file(self) -> Path:
        """File that clients trust: the self-signed certificate itself."""
        return self.cert_file

    def server_context(self) -> ssl.SSLContext:
        """Return a server-side TLS context that presents this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _extensions(public_key: ec.EllipticCurvePublicKey) -> list[tuple[x509.ExtensionType, bool]]:
    """Return the certificate's extensions, each with its critical flag.

    They satisfy OpenSSL's strict X.509 checks (Python 3.13 turns them on by default): a
    self-signed trust anchor needs key identifiers and a key usage that allows certificate signing.
    """
    key_usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    names = [
        x509.DNSName(CERTIFICATE_NAME),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    return [
        (x509.SubjectAlternativeName(names), False),
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (key_usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), False),
    ]


def _build_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CERTIFICATE_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smtpconsole practice server"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + VALIDITY)
    )
    for extension, critical in _extensions(key.public_key()):
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())


def create_certificate(folder: Path) -> CertificateFiles:
    """Create a key and a self-signed certificate for ``localhost`` in ``folder``.

    Returns:
        The paths of ``practice-cert.pem`` (also the CA file) and ``practice-key.pem``.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _build_certificate(key)

    cert_file = folder / "practice-cert.pem"
    key_file = folder / "practice-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    digest = certificate.fingerprint(hashes.SHA256()).hex().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return CertificateFiles(cert_file, key_file, fingerprint)
