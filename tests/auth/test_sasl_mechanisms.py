"""SASL mechanisms: RFC known-answer tests, odd server challenges, and the AUTH line."""

from __future__ import annotations

import base64
import json

import pytest

from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError
from smtpconsole.protocol.sasl import (
    CANCEL_LINE,
    CramMd5Mechanism,
    LoginMechanism,
    PlainMechanism,
    ScramSha1Mechanism,
    ScramSha256Mechanism,
    XOAuth2Mechanism,
    auth_line,
    create_mechanism,
    decode_challenge,
    encode_response,
    preferred_mechanism,
    saslprep,
)

# --- Known-answer tests -------------------------------------------------------------------------


def test_plain_rfc4616_without_authzid() -> None:
    # RFC 4616 section 4: "\0tim\0tanstaaftanstaaf".
    mechanism = PlainMechanism("tim", "tanstaaftanstaaf")
    assert mechanism.initial_response() == b"\0tim\0tanstaaftanstaaf"


def test_plain_rfc4616_with_authzid() -> None:
    # RFC 4616 section 4: "Ursel\0Kurt\0xipj3plmq" acts as Ursel after authenticating as Kurt.
    mechanism = PlainMechanism("Kurt", "xipj3plmq", authzid="Ursel")
    assert mechanism.initial_response() == b"Ursel\0Kurt\0xipj3plmq"


def test_plain_authzid_same_as_user() -> None:
    mechanism = create_mechanism("plain", username="user", secret="pw", authzid="user")
    assert mechanism.initial_response() == b"user\0user\0pw"


def test_plain_auth_line_base64() -> None:
    line, included = auth_line(PlainMechanism("tim", "tanstaaftanstaaf"))
    assert line == "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    assert included


def test_cram_md5_rfc2195_example() -> None:
    # RFC 2195 section 2.
    mechanism = CramMd5Mechanism("tim", "tanstaaftanstaaf")
    challenge = decode_challenge("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+")
    assert challenge == b"<1896.697170952@postoffice.reston.mci.net>"
    response = mechanism.respond(challenge)
    assert response == b"tim b913a602c7eda7a495b4e6e7334d3890"
    assert encode_response(response) == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"


def test_scram_sha1_rfc5802_example() -> None:
    # RFC 5802 section 5.
    mechanism = ScramSha1Mechanism("user", "pencil", nonce="fyko+d2lbbFgONRv9qkxdawL")
    assert mechanism.initial_response() == b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    client_final = mechanism.respond(
        b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
    )
    assert client_final == (
        b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    )
    assert mechanism.respond(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=") == b""
    mechanism.finish(None)
    assert mechanism.server_verified


def test_scram_sha256_rfc7677_example() -> None:
    # RFC 7677 section 3.
    mechanism = ScramSha256Mechanism("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert mechanism.initial_response() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    client_final = mechanism.respond(
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )
    assert client_final == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    # The server signature may also arrive with the success reply.
    mechanism.finish(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert mechanism.server_verified


def test_scram_wrong_server_signature_rejected() -> None:
    mechanism = ScramSha1Mechanism("user", "pencil", nonce="fyko+d2lbbFgONRv9qkxdawL")
    mechanism.respond(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    forged = base64.b64encode(b"\0" * 20).decode()
    with pytest.raises(RemoteProtocolError, match="server signature is wrong"):
        mechanism.respond(f"v={forged}".encode())
    assert not mechanism.server_verified


def test_scram_235_without_signature_fails_finish() -> None:
    mechanism = ScramSha1Mechanism("user", "pencil", nonce="fyko+d2lbbFgONRv9qkxdawL")
    mechanism.respond(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
    with pytest.raises(RemoteProtocolError, match="without proving"):
        mechanism.finish(None)


def test_scram_nonce_not_extended_rejected() -> None:
    mechanism = ScramSha256Mechanism("user", "pencil", nonce="abc")
    with pytest.raises(RemoteProtocolError, match="nonce"):
        mechanism.respond(b"r=xyz123,s=QSXCR+Q6sek8bf92,i=4096")


def test_scram_server_error_attribute() -> None:
    mechanism = ScramSha256Mechanism("user", "pencil", nonce="abc")
    mechanism.respond(b"r=abcdef,s=QSXCR+Q6sek8bf92,i=4096")
    with pytest.raises(RemoteProtocolError, match="invalid-proof"):
        mechanism.respond(b"e=invalid-proof")


def test_scram_random_nonce_differs() -> None:
    first = ScramSha256Mechanism("user", "pencil").initial_response()
    second = ScramSha256Mechanism("user", "pencil").initial_response()
    assert first != second
    assert first.startswith(b"n,,n=user,r=")


def test_scram_username_escaped() -> None:
    mechanism = ScramSha256Mechanism("a=b,c", "pencil", authzid="z", nonce="n0nce")
    assert mechanism.initial_response() == b"n,a=z,n=a=3Db=2Cc,r=n0nce"


def test_saslprep_maps_and_rejects() -> None:
    # RFC 4013 section 3 examples: soft hyphen removed, U+00AA mapped to "a", U+2168 to "IX".
    assert saslprep("I\u00adX") == "IX"
    assert saslprep("\u00aa") == "a"
    assert saslprep("\u2168") == "IX"
    with pytest.raises(LocalProtocolError):
        saslprep("\u0007")
    with pytest.raises(LocalProtocolError):
        saslprep("\u0627\u0031")


def test_xoauth2_initial_response() -> None:
    mechanism = XOAuth2Mechanism(
        "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
    )
    assert mechanism.initial_response() == (
        b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
        b"\x01\x01"
    )


def test_xoauth2_json_error_gets_empty_reply() -> None:
    mechanism = XOAuth2Mechanism("someuser@example.com", "expired")
    auth_line(mechanism)
    error = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}
    challenge = decode_challenge(base64.b64encode(json.dumps(error).encode()).decode())
    assert mechanism.respond(challenge) == b""
    assert mechanism.error == error
    assert encode_response(b"") == ""


def test_xoauth2_non_json_error_kept_as_text() -> None:
    mechanism = XOAuth2Mechanism("u@example.com", "token")
    auth_line(mechanism)
    assert mechanism.respond(b"not json") == b""
    assert mechanism.error is None
    assert mechanism.error_text == "not json"


# --- LOGIN prompts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username_prompt, password_prompt",
    [
        (b"Username:", b"Password:"),
        (b"username:", b"password:"),
        (b"User Name\0", b"Password\0"),
        (b"USERNAME:", b"PASSWORD:"),
        (b"", b""),
        (b"Who are you?", b"Prove it"),
    ],
)
def test_login_answers_prompt_variants(username_prompt: bytes, password_prompt: bytes) -> None:
    mechanism = LoginMechanism("alice", "s3cret")
    line, included = auth_line(mechanism)
    assert (line, included) == ("AUTH LOGIN", False)
    assert mechanism.respond(username_prompt) == b"alice"
    assert mechanism.respond(password_prompt) == b"s3cret"


def test_login_password_prompt_first_gets_password() -> None:
    mechanism = LoginMechanism("alice", "s3cret")
    assert mechanism.respond(b"Password:") == b"s3cret"


def test_login_initial_response_form() -> None:
    mechanism = create_mechanism(
        "LOGIN", username="alice", secret="s3cret", login_initial_response=True
    )
    line, included = auth_line(mechanism)
    assert line == "AUTH LOGIN YWxpY2U="
    assert included
    assert mechanism.respond(b"Password:") == b"s3cret"


def test_login_third_prompt_rejected() -> None:
    mechanism = LoginMechanism("alice", "s3cret")
    mechanism.respond(b"Username:")
    mechanism.respond(b"Password:")
    with pytest.raises(RemoteProtocolError, match="no further step"):
        mechanism.respond(b"Password:")


# --- Odd challenges -------------------------------------------------------------------------------


def test_empty_334_gets_initial_response() -> None:
    mechanism = PlainMechanism("tim", "tanstaaftanstaaf")
    # After a typed "AUTH PLAIN" without the response, the server requests it with an empty 334.
    assert mechanism.respond(decode_challenge("")) == b"\0tim\0tanstaaftanstaaf"
    assert mechanism.initial_response_sent


def test_plain_second_challenge_rejected() -> None:
    mechanism = PlainMechanism("tim", "pw")
    auth_line(mechanism)
    with pytest.raises(RemoteProtocolError, match="PLAIN"):
        mechanism.respond(b"again?")


def test_cram_md5_empty_challenge_rejected() -> None:
    with pytest.raises(RemoteProtocolError, match="empty CRAM-MD5 challenge"):
        CramMd5Mechanism("tim", "pw").respond(b"")


def test_decode_challenge_non_base64_shows_text() -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        decode_challenge("Username:")
    assert "'Username:'" in caught.value.message
    assert caught.value.raw == b"Username:"


def test_decode_challenge_missing_padding() -> None:
    assert decode_challenge("VXNlcm5hbWU") == b"Username"


def test_decode_challenge_strips_spaces() -> None:
    assert decode_challenge("  VXNlcm5hbWU6 ") == b"Username:"


def test_cancel_returns_star() -> None:
    mechanism = LoginMechanism("alice", "pw")
    assert mechanism.cancel() == CANCEL_LINE == "*"
    assert mechanism.cancelled
    with pytest.raises(LocalProtocolError, match="cancelled"):
        mechanism.respond(b"Password:")


# --- AUTH line, encoding and choice ---------------------------------------------------------------


def test_auth_line_long_initial_response_deferred() -> None:
    mechanism = XOAuth2Mechanism("user@example.com", "t" * 600)
    line, included = auth_line(mechanism)
    assert line == "AUTH XOAUTH2"
    assert not included
    assert not mechanism.initial_response_sent
    assert mechanism.respond(b"") == mechanism.initial_response()


def test_auth_line_at_512_octet_limit() -> None:
    # "AUTH PLAIN " takes 11 octets and CRLF 2, so at most 499 base64 characters fit. 372 raw
    # octets give 496 characters and fit, and 375 give 500, which do not.
    fits = PlainMechanism("u", "p" * (372 - 3))
    too_long = PlainMechanism("u", "p" * (375 - 3))
    assert auth_line(fits)[1]
    assert len(auth_line(fits)[0]) + 2 <= 512
    assert not auth_line(too_long)[1]


def test_encode_empty_initial_response_is_equals() -> None:
    assert encode_response(b"", initial=True) == "="
    assert encode_response(b"") == ""


def test_create_mechanism_unknown_lists_supported() -> None:
    with pytest.raises(LocalProtocolError, match="supported: PLAIN, LOGIN") as caught:
        create_mechanism("NTLM", username="u", secret="p")
    assert caught.value.field == "mechanism"


@pytest.mark.parametrize("field, username, secret, authzid", [
    ("username", "a\nb", "p", None),
    ("password", "a", "p\rq", None),
    ("authzid", "a", "p", "x\0y"),
])  # fmt: skip
def test_plain_rejects_line_breakers(
    field: str, username: str, secret: str, authzid: str | None
) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        create_mechanism("PLAIN", username=username, secret=secret, authzid=authzid)
    assert caught.value.field == field


def test_preferred_mechanism_order() -> None:
    assert preferred_mechanism(["LOGIN", "PLAIN", "CRAM-MD5"]) == "PLAIN"
    assert preferred_mechanism(["login", "scram-sha-256", "plain"]) == "SCRAM-SHA-256"
    assert preferred_mechanism(["GSSAPI"]) is None
    assert preferred_mechanism(["PLAIN", "XOAUTH2"], oauth=True) == "XOAUTH2"
