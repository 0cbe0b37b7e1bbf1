"""``x509_fields`` reads the same fields as cryptography, and hands the rest back to it."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from smtpconsole.tls import _parse_with_cryptography, parse_certificate
from smtpconsole.x509_fields import UnsupportedCertificate, read_certificate

KEY = ec.generate_private_key(ec.SECP256R1())

NAME_OIDS = [
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.STREET_ADDRESS,
    NameOID.DOMAIN_COMPONENT,
    NameOID.USER_ID,
    NameOID.EMAIL_ADDRESS,
]


def build_certificate(
    subject: x509.Name,
    *,
    serial: int = 1234,
    not_before: datetime.datetime | None = None,
    sans: list[x509.GeneralName] | None = None,
    critical_sans: bool = False,
) -> bytes:
    start = not_before or datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA, Inc.")]))
        .public_key(KEY.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=20000))
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=critical_sans)
    certificate = builder.sign(KEY, hashes.SHA256())
    return certificate.public_bytes(serialization.Encoding.DER)


def cryptography_view(der: bytes) -> object:
    info = _parse_with_cryptography(der, "00")
    return (info.subject, info.issuer, info.sans, info.not_before, info.not_after, info.serial)


def fast_view(der: bytes) -> object:
    return tuple(read_certificate(der))


def test_trustme_leaf_matches(tls_ca: trustme.CA) -> None:
    leaf = tls_ca.issue_cert("localhost", "127.0.0.1", "::1", "mail.example.com")
    der = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(
        serialization.Encoding.DER
    )
    assert fast_view(der) == cryptography_view(der)
    assert read_certificate(der).sans == (
        "DNS:localhost",
        "DNS:mail.example.com",
        "IP:127.0.0.1",
        "IP:::1",
    )


def test_trustme_ca_matches(tls_ca: trustme.CA) -> None:
    der = x509.load_pem_x509_certificate(tls_ca.cert_pem.bytes()).public_bytes(
        serialization.Encoding.DER
    )
    assert fast_view(der) == cryptography_view(der)


def test_fingerprint_matches_cryptography(tls_ca: trustme.CA) -> None:
    cert = x509.load_pem_x509_certificate(tls_ca.cert_pem.bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    expected = cert.fingerprint(hashes.SHA256()).hex().upper()
    assert parse_certificate(der).sha256_fingerprint.replace(":", "") == expected


values = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    attributes=st.lists(
        st.tuples(st.sampled_from(NAME_OIDS), values),
        min_size=1,
        max_size=4,
        unique_by=lambda a: a[0],
    ),
    multi_valued=st.booleans(),
    serial=st.integers(min_value=1, max_value=2**158),
    year=st.sampled_from([1960, 1999, 2020, 2049, 2050, 2100]),
)
def test_random_names_match(
    attributes: list[tuple[x509.ObjectIdentifier, str]],
    multi_valued: bool,
    serial: int,
    year: int,
) -> None:
    name_attributes = [x509.NameAttribute(oid, value) for oid, value in attributes]
    if multi_valued:
        subject = x509.Name([x509.RelativeDistinguishedName(name_attributes)])
    else:
        subject = x509.Name(name_attributes)
    start = datetime.datetime(year, 6, 1, tzinfo=datetime.UTC)
    der = build_certificate(subject, serial=serial, not_before=start)
    try:
        expected = cryptography_view(der)
    except ValueError:
        # cryptography rejects what it wrote itself, such as non-ASCII in an IA5String.
        assume(False)
    try:
        found = fast_view(der)
    except UnsupportedCertificate:
        assert parse_certificate(der).subject == expected[0]  # type: ignore[index]
        return
    assert found == expected


def test_special_characters_escaped() -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ' #a,b+c"d\\e;<f> ')])
    der = build_certificate(subject)
    assert fast_view(der) == cryptography_view(der)
    assert read_certificate(der).subject == 'CN=\\ #a\\,b\\+c\\"d\\\\e\\;\\<f\\>\\ '


def test_critical_alt_names_read() -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("2001:db8::5")),
        x509.DNSName("a.example"),
    ]
    der = build_certificate(subject, sans=sans, critical_sans=True)
    assert fast_view(der) == cryptography_view(der)


def test_bmp_string_falls_back() -> None:
    attribute = x509.NameAttribute(NameOID.COMMON_NAME, "bmp", _type=x509.name._ASN1Type.BMPString)
    der = build_certificate(x509.Name([attribute]))
    with pytest.raises(UnsupportedCertificate):
        read_certificate(der)
    assert parse_certificate(der).subject == "CN=bmp"


def test_garbage_is_unsupported() -> None:
    with pytest.raises(UnsupportedCertificate):
        read_certificate(b"\x30\x82\xff\xff\x00")


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corrupted_certificate_unsupported(tls_ca: trustme.CA, data: st.DataObject) -> None:
    # A server can send any bytes as its certificate: reading them raises only
    # UnsupportedCertificate, whatever byte is changed or wherever the data is cut.
    der = bytearray(
        x509.load_pem_x509_certificate(tls_ca.cert_pem.bytes()).public_bytes(
            serialization.Encoding.DER
        )
    )
    position = data.draw(st.integers(min_value=0, max_value=len(der) - 1))
    der[position] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(der)))
    try:
        read_certificate(bytes(der[:cut]))
    except UnsupportedCertificate:
        pass
