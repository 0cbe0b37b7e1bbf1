"""SSL contexts from TlsOptions, certificate parsing and failure reasons."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
import trustme

from smtpconsole.errors import TlsError
from smtpconsole.options import TlsOptions
from smtpconsole.tls import create_context, failure_hint, parse_certificate


def test_default_context_verifies():
    context = create_context(TlsOptions())

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_verify_false_context():
    context = create_context(TlsOptions(verify=False))

    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


def test_verify_override_wins():
    assert create_context(TlsOptions(verify=True), verify=False).verify_mode == ssl.CERT_NONE
    assert create_context(TlsOptions(verify=False), verify=True).check_hostname


@pytest.mark.parametrize(
    ("text", "version"), [("1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)]
)
def test_min_version(text: str, version: ssl.TLSVersion):
    assert create_context(TlsOptions(min_version=text)).minimum_version == version


def test_invalid_min_version():
    with pytest.raises(TlsError, match="invalid minimum TLS version '1.1'"):
        create_context(TlsOptions(min_version="1.1"))


def test_missing_ca_file(tmp_path):
    missing = tmp_path / "nope.pem"

    with pytest.raises(TlsError) as caught:
        create_context(TlsOptions(ca_file=str(missing)))

    assert str(missing) in caught.value.message
    assert "--ca-file" in (caught.value.hint or "")


def test_client_certificate_loaded(tls_ca: trustme.CA, tmp_path):
    cert = tls_ca.issue_cert("client.test")
    pem = tmp_path / "client.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))

    context = create_context(TlsOptions(client_cert=str(pem)))

    assert context.verify_mode == ssl.CERT_REQUIRED


def test_bad_client_certificate(tmp_path):
    pem = tmp_path / "bad.pem"
    pem.write_text("not a certificate")

    with pytest.raises(TlsError, match="cannot load client certificate"):
        create_context(TlsOptions(client_cert=str(pem)))


def test_parse_certificate_fields(tls_ca: trustme.CA):
    cert = tls_ca.issue_cert("mail.example.test", "127.0.0.1")
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())

    info = parse_certificate(der)

    assert info.sans == ("DNS:mail.example.test", "IP:127.0.0.1")
    assert "trustme" in info.issuer
    assert not info.self_signed
    assert info.not_before < datetime.now(UTC) < info.not_after
    assert not info.expired(datetime.now(UTC))
    assert len(info.sha256_fingerprint) == 32 * 3 - 1
    assert int(info.serial, 16) > 0
    assert any(line.startswith("SHA-256: ") for line in info.describe())


def test_parse_self_signed_ca(tls_ca: trustme.CA):
    der = ssl.PEM_cert_to_DER_cert(tls_ca.cert_pem.bytes().decode())

    info = parse_certificate(der)

    assert info.self_signed
    assert info.sans == ()


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("Hostname mismatch, certificate is not valid for 'x'.", "--sni"),
        ("unable to get local issuer certificate", "--ca-file"),
        ("self-signed certificate", "--ca-file"),
        ("certificate has expired", "validity"),
        ("something else", "--insecure"),
    ],
)
def test_failure_hint(reason: str, expected: str):
    assert expected in failure_hint(reason, "mail.test")
