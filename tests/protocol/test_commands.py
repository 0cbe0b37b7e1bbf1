"""Tests of the command builders, parameter validation, verb_of and encode_line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.protocol import commands
from smtpconsole.protocol.errors import LocalProtocolError


def test_simple_commands() -> None:
    assert commands.ehlo("client.example.com") == "EHLO client.example.com"
    assert commands.helo("[192.0.2.1]") == "HELO [192.0.2.1]"
    assert commands.starttls() == "STARTTLS"
    assert commands.data() == "DATA"
    assert commands.rset() == "RSET"
    assert commands.noop() == "NOOP"
    assert commands.noop("ping") == "NOOP ping"
    assert commands.vrfy("alice") == "VRFY alice"
    assert commands.expn("staff") == "EXPN staff"
    assert commands.help() == "HELP"
    assert commands.help("MAIL") == "HELP MAIL"
    assert commands.quit() == "QUIT"


def test_mail_null_reverse_path() -> None:
    assert commands.mail("") == "MAIL FROM:<>"
    assert commands.mail("<>") == "MAIL FROM:<>"


def test_mail_with_params() -> None:
    line = commands.mail(
        "alice@example.com",
        [
            commands.size_param(1234),
            commands.body_param("8bitmime"),
            commands.smtputf8_param(),
            commands.ret_param("hdrs"),
            commands.envid_param("id=1 2"),
            commands.auth_param("alice@example.com"),
        ],
    )

    assert line == (
        "MAIL FROM:<alice@example.com> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS "
        "ENVID=id+3D1+202 AUTH=alice@example.com"
    )


def test_mail_auth_param_empty() -> None:
    assert commands.mail("a@b", [commands.auth_param(None)]) == "MAIL FROM:<a@b> AUTH=<>"


def test_rcpt_with_dsn_params() -> None:
    line = commands.rcpt(
        "<bob@example.com>",
        [commands.notify_param("success", "delay"), commands.orcpt_param("bob+x@example.com")],
    )

    assert line == "RCPT TO:<bob@example.com> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob+2Bx@example.com"


def test_rcpt_empty_rejected() -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.rcpt("")
    assert caught.value.field == "recipient address"


def test_utf8_address_accepted() -> None:
    assert commands.rcpt("jörg@example.de") == "RCPT TO:<jörg@example.de>"


def test_quoted_local_part_with_space() -> None:
    assert commands.mail('"john smith"@example.com') == 'MAIL FROM:<"john smith"@example.com>'


@pytest.mark.parametrize(
    "address",
    ["a@b>", "<a@b", "a<b@c", "a b@c", " a@b", "a@b\t", "a\x01@b", "<<a@b>>"],
)
def test_bad_address_rejected(address: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.mail(address)
    assert caught.value.field == "sender address"


@pytest.mark.parametrize("char", ["\r", "\n", "\x00"])
def test_line_breakers_name_their_field(char: str) -> None:
    cases = [
        (lambda: commands.ehlo(f"a{char}b"), "EHLO name"),
        (lambda: commands.helo(f"a{char}b"), "HELO name"),
        (lambda: commands.auth(f"PLAIN{char}"), "AUTH mechanism"),
        (lambda: commands.auth("PLAIN", f"AA{char}=="), "AUTH initial response"),
        (lambda: commands.mail(f"a{char}@b"), "sender address"),
        (lambda: commands.rcpt(f"a{char}@b"), "recipient address"),
        (lambda: commands.mail("a@b", [(f"X{char}", None)]), "parameter keyword"),
        (lambda: commands.mail("a@b", [("XFOO", f"v{char}")]), "parameter XFOO"),
        (lambda: commands.noop(f"x{char}"), "NOOP argument"),
        (lambda: commands.vrfy(f"x{char}"), "VRFY argument"),
        (lambda: commands.expn(f"x{char}"), "EXPN argument"),
        (lambda: commands.help(f"x{char}"), "HELP topic"),
        (lambda: commands.envid_param(f"x{char}"), "parameter ENVID"),
        (lambda: commands.auth_param(f"x{char}"), "parameter AUTH"),
        (lambda: commands.orcpt_param(f"x{char}"), "parameter ORCPT"),
    ]
    for build, field in cases:
        with pytest.raises(LocalProtocolError) as caught:
            build()
        assert caught.value.field == field
        assert caught.value.value is not None
        assert char in caught.value.value


@pytest.mark.parametrize("keyword", ["", "-X", "X_Y", "X Y", "X=Y", "SÍZE"])
def test_bad_param_keyword(keyword: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.mail("a@b", [(keyword, None)])
    assert caught.value.field == "parameter keyword"


@pytest.mark.parametrize("value", ["", "a b", "a=b", "\x7f", "tab\there"])
def test_bad_param_value(value: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.mail("a@b", [("XFOO", value)])
    assert caught.value.field == "parameter XFOO"


def test_unknown_param_passes_grammar() -> None:
    line = commands.mail("a@b", [("X-Trace", "abc;def"), ("XFLAG", None)])

    assert line == "MAIL FROM:<a@b> X-TRACE=abc;def XFLAG"


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("SIZE", "12a"),
        ("SIZE", None),
        ("SIZE", "1" * 21),
        ("BODY", "9BIT"),
        ("RET", "ALL"),
        ("NOTIFY", "NEVER,SUCCESS"),
        ("NOTIFY", "SOMETIMES"),
        ("ORCPT", "bob@example.com"),
        ("ENVID", "a+zz"),
        ("SMTPUTF8", "yes"),
        ("AUTH", "a+g0"),
    ],
)
def test_known_param_values_checked(keyword: str, value: str | None) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.mail("a@b", [(keyword, value)])
    assert caught.value.field == f"parameter {keyword}"


def test_duplicate_param_rejected() -> None:
    with pytest.raises(LocalProtocolError, match="twice"):
        commands.mail("a@b", [("SIZE", "1"), ("size", "2")])


def test_envid_too_long() -> None:
    with pytest.raises(LocalProtocolError, match="ENVID"):
        commands.envid_param("x" * 101)


@pytest.mark.parametrize("size", [-1, True, 1.5])
def test_bad_size(size: object) -> None:
    with pytest.raises(LocalProtocolError):
        commands.size_param(size)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        commands.bdat(size)  # type: ignore[arg-type]


def test_bdat() -> None:
    assert commands.bdat(0) == "BDAT 0"
    assert commands.bdat(512, last=True) == "BDAT 512 LAST"


def test_auth() -> None:
    assert commands.auth("plain") == "AUTH PLAIN"
    assert commands.auth("PLAIN", "AGFsaWNlAHNlY3JldA==") == "AUTH PLAIN AGFsaWNlAHNlY3JldA=="
    assert commands.auth("EXTERNAL", "=") == "AUTH EXTERNAL ="
    assert commands.auth("SCRAM-SHA-256") == "AUTH SCRAM-SHA-256"


@pytest.mark.parametrize("mechanism", ["", "PLAIN LOGIN", "A" * 21, "PLÄIN", "PL@IN"])
def test_auth_bad_mechanism(mechanism: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.auth(mechanism)
    assert caught.value.field == "AUTH mechanism"


@pytest.mark.parametrize("response", ["", "not base64!", "abc", "AB CD"])
def test_auth_bad_initial_response(response: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.auth("PLAIN", response)
    assert caught.value.field == "AUTH initial response"


@pytest.mark.parametrize("name", ["", " ", "two words", "tab\tname"])
def test_ehlo_bad_name(name: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.ehlo(name)
    assert caught.value.field == "EHLO name"


def test_vrfy_needs_argument() -> None:
    with pytest.raises(LocalProtocolError):
        commands.vrfy("")


def test_encode_xtext() -> None:
    assert commands.encode_xtext("a+b=c d") == "a+2Bb+3Dc+20d"
    assert commands.encode_xtext("é") == "+C3+A9"


@pytest.mark.parametrize(
    ("line", "verb"),
    [
        ("MAIL FROM:<a@b>", "MAIL FROM"),
        ("mail from:<a@b>", "MAIL FROM"),
        ("MAIL  FROM: <a@b>", "MAIL FROM"),
        (b"RCPT TO:<a@b>\r\n", "RCPT TO"),
        ("rcpt to:<a@b>", "RCPT TO"),
        ("MAIL", "MAIL"),
        ("MAIL TO:<a@b>", "MAIL"),
        ("ehlo me", "EHLO"),
        ("  noop", "NOOP"),
        ("", ""),
        (b"", ""),
        ("   ", ""),
        (b"\xff\xfe", "\ufffd\ufffd"),
    ],
)
def test_verb_of(line: str | bytes, verb: str) -> None:
    assert commands.verb_of(line) == verb


def test_encode_line() -> None:
    assert commands.encode_line("EHLO me") == b"EHLO me\r\n"
    assert commands.encode_line("") == b"\r\n"
    assert commands.encode_line("Grüße") == "Grüße\r\n".encode()


@pytest.mark.parametrize("text", ["a\rb", "a\nb", "a\r\n", "\n"])
def test_encode_line_rejects_line_breaks(text: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        commands.encode_line(text)
    assert caught.value.field == "line"


def test_encode_line_rejects_lone_surrogate() -> None:
    with pytest.raises(LocalProtocolError):
        commands.encode_line("a\ud800")


# --- Properties -------------------------------------------------------------------------------

BREAKERS = ("\r", "\n", "\x00")

text_with_breaker = st.builds(
    lambda head, breaker, tail: head + breaker + tail,
    st.text(max_size=10),
    st.sampled_from(BREAKERS),
    st.text(max_size=10),
)

BUILDERS_OF_ONE_FIELD = [
    commands.ehlo,
    commands.helo,
    commands.auth,
    lambda value: commands.auth("PLAIN", value),
    commands.mail,
    commands.rcpt,
    lambda value: commands.mail("a@b", [(value, None)]),
    lambda value: commands.mail("a@b", [("XFOO", value)]),
    lambda value: commands.rcpt("a@b", [("XFOO", value)]),
    commands.noop,
    commands.vrfy,
    commands.expn,
    commands.help,
    commands.envid_param,
    commands.auth_param,
    commands.orcpt_param,
    lambda value: commands.orcpt_param("a@b", value),
    commands.body_param,
    commands.ret_param,
    commands.notify_param,
]


@settings(max_examples=300, deadline=None)
@given(value=text_with_breaker, builder=st.sampled_from(BUILDERS_OF_ONE_FIELD))
def test_any_field_with_breaker_rejected(value: str, builder: object) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        builder(value)  # type: ignore[operator]
    assert caught.value.field


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=30), builder=st.sampled_from(BUILDERS_OF_ONE_FIELD))
def test_built_lines_never_break(value: str, builder: object) -> None:
    """A builder either raises LocalProtocolError or returns text without CR, LF or NUL."""
    try:
        result = builder(value)  # type: ignore[operator]
    except LocalProtocolError:
        return
    text = result if isinstance(result, str) else "".join(part or "" for part in result)
    for char in BREAKERS:
        assert char not in text


@settings(max_examples=200, deadline=None)
@given(
    address=st.text(max_size=20),
    params=st.lists(st.tuples(st.text(max_size=8), st.none() | st.text(max_size=8)), max_size=3),
)
def test_mail_rcpt_lines_single(address: str, params: list[tuple[str, str | None]]) -> None:
    for build in (commands.mail, commands.rcpt):
        try:
            line = build(address, params)
        except LocalProtocolError:
            continue
        assert "\r" not in line
        assert "\n" not in line
        assert "\x00" not in line
        assert commands.encode_line(line).count(b"\r\n") == 1


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_encode_line_one_crlf(text: str) -> None:
    try:
        encoded = commands.encode_line(text)
    except LocalProtocolError:
        assert "\r" in text or "\n" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        return
    assert encoded.endswith(b"\r\n")
    assert encoded.count(b"\r") == 1
    assert encoded.count(b"\n") == 1
    assert encoded[:-2].decode("utf-8") == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_xtext_only_printable_ascii(text: str) -> None:
    encoded = commands.encode_xtext(text)

    assert all(0x21 <= ord(char) <= 0x7E for char in encoded)
    assert "=" not in encoded
