"""Message composition, DATA payloads and header checks."""

from __future__ import annotations

import email
import re
from email import policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.protocol.message import (
    Attachment,
    MessageSpec,
    MessageWarning,
    build_message,
    check_headers,
    check_message,
    dot_stuff,
    normalize_line_endings,
    prepare_raw_payload,
    undo_dot_stuffing,
)

FULL_SERVER = Capabilities.from_lines(["mx.test", "8BITMIME", "SMTPUTF8", "SIZE 10485760"])
SEVEN_BIT_SERVER = Capabilities.from_lines(["mx.test", "SIZE 1000"])


def parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def text_content(raw: bytes) -> str:
    """Return the text body of ``raw`` with LF line ends, as a mail reader shows it."""
    content = parse(raw).get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def keys(warnings: list[MessageWarning]) -> list[str]:
    return [warning.key for warning in warnings]


# --- Payload framing ------------------------------------------------------------------------------


def test_dot_stuffing_first_and_inner_lines() -> None:
    assert dot_stuff(b".first\r\nmid\r\n.\r\n..two\r\n") == b"..first\r\nmid\r\n..\r\n...two\r\n"


def test_raw_payload_normalises_and_terminates() -> None:
    payload = prepare_raw_payload(b"Subject: x\n\nline1\rline2\r\n.\nlast")
    assert payload == b"Subject: x\r\n\r\nline1\r\nline2\r\n..\r\nlast\r\n.\r\n"


def test_raw_payload_empty_message() -> None:
    assert prepare_raw_payload(b"") == b".\r\n"
    assert undo_dot_stuffing(b".\r\n") == b""


def test_undo_dot_stuffing_round_trip() -> None:
    raw = b".a\r\n..b\r\nc\r\n"
    assert undo_dot_stuffing(prepare_raw_payload(raw)) == raw


def test_normalize_line_endings_mixed() -> None:
    assert normalize_line_endings(b"a\rb\nc\r\nd\n\re") == b"a\r\nb\r\nc\r\nd\r\n\r\ne"


body_text = st.lists(
    st.sampled_from(["a", "Z", " ", ".", "..", "\r", "\n", "\r\n", "é", "日", "\t", "From "]),
    max_size=80,
).map("".join)


def body_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@given(body_text)
def test_raw_payload_round_trip_property(text: str) -> None:
    payload = prepare_raw_payload(text.encode("utf-8"))
    message = undo_dot_stuffing(payload)
    lines = message.split(b"\r\n")
    assert lines[-1] == b""
    assert [line.decode("utf-8") for line in lines[:-1]] == body_lines(text)


@given(body_text)
def test_payload_has_no_lone_cr_or_lf(text: str) -> None:
    payload = prepare_raw_payload(text.encode("utf-8"))
    assert b"\r" not in payload.replace(b"\r\n", b"")
    assert b"\n" not in payload.replace(b"\r\n", b"")


@given(body_text)
def test_dot_line_never_ends_message_early(text: str) -> None:
    payload = prepare_raw_payload(text.encode("utf-8"))
    assert payload.endswith(b".\r\n")
    end = payload.find(b"\r\n.\r\n")
    first_line_end = payload.startswith(b".\r\n")
    assert first_line_end == (payload == b".\r\n")
    assert end in (-1, len(payload) - 5)


@given(body_text)
def test_built_message_body_round_trip(text: str) -> None:
    built = build_message(
        MessageSpec("a@example.com", ("b@example.com",), subject="s", body=text), FULL_SERVER
    )
    assert b"\r" not in built.payload_for_data.replace(b"\r\n", b"")
    assert b"\n" not in built.payload_for_data.replace(b"\r\n", b"")
    assert undo_dot_stuffing(built.payload_for_data) == built.raw
    # The email package ends an empty body with one line end.
    assert body_lines(text_content(built.raw)) == (body_lines(text) or [""])


# --- Composition ----------------------------------------------------------------------------------


def test_build_adds_date_and_message_id() -> None:
    built = build_message(
        MessageSpec("Alice <alice@example.com>", ("bob@example.com",), subject="Hi", body="x")
    )
    message = parse(built.raw)
    assert message["Date"]
    assert str(message["Message-ID"]).endswith("@example.com>")
    assert built.sender == "alice@example.com"
    assert built.recipients == ("bob@example.com",)
    assert built.payload_for_data.endswith(b"\r\n.\r\n")


def test_build_keeps_given_date_and_message_id() -> None:
    spec = MessageSpec(
        "a@example.com",
        ("b@example.com",),
        date="Mon, 01 Jan 2024 00:00:00 +0000",
        message_id="<fixed@example.com>",
    )
    message = parse(build_message(spec).raw)
    assert message["Date"] == "Mon, 01 Jan 2024 00:00:00 +0000"
    assert message["Message-ID"] == "<fixed@example.com>"


def test_utf8_subject_and_names_encoded_words() -> None:
    spec = MessageSpec(
        "山田 太郎 <taro@example.jp>",
        ("Zoë <zoe@example.com>",),
        subject="日本語の件名",
        body="ok",
    )
    built = build_message(spec, FULL_SERVER)
    header_section = built.raw.split(b"\r\n\r\n", 1)[0]
    assert header_section.isascii()
    assert b"=?utf-8?" in header_section
    message = parse(built.raw)
    assert message["Subject"] == "日本語の件名"
    assert message["From"].addresses[0].display_name == "山田 太郎"
    assert message["To"].addresses[0].display_name == "Zoë"
    assert "header-non-ascii" not in keys(check_headers(built.raw))


def test_iso_2022_jp_subject_name_and_body() -> None:
    spec = MessageSpec(
        "山田 <taro@example.jp>",
        ("bob@example.com",),
        subject="会議の件",
        body="明日の会議は10時からです。\n",
        charset="iso-2022-jp",
    )
    built = build_message(spec, FULL_SERVER)
    assert built.raw.isascii()
    assert b"=?iso-2022-jp?b?" in built.raw
    assert b'charset="iso-2022-jp"' in built.raw
    assert ("BODY", "8BITMIME") not in built.mail_params
    message = parse(built.raw)
    assert message["Subject"] == "会議の件"
    assert message["From"].addresses[0].display_name == "山田"
    assert text_content(built.raw) == "明日の会議は10時からです。\n"


def test_iso_2022_jp_unencodable_rejected() -> None:
    spec = MessageSpec("a@example.com", subject="emoji 😀", charset="iso-2022-jp")
    with pytest.raises(LocalProtocolError, match="ISO-2022-JP") as caught:
        build_message(spec)
    assert caught.value.field == "subject"


def test_8bit_body_with_8bitmime() -> None:
    built = build_message(
        MessageSpec("a@example.com", ("b@example.com",), body="café"), FULL_SERVER
    )
    assert b"Content-Transfer-Encoding: 8bit" in built.raw
    assert "café".encode() in built.raw
    assert ("BODY", "8BITMIME") in built.mail_params
    assert ("SIZE", str(len(built.raw))) in built.mail_params


def test_8bit_body_without_8bitmime_quoted_printable() -> None:
    built = build_message(
        MessageSpec("a@example.com", ("b@example.com",), body="café"), SEVEN_BIT_SERVER
    )
    assert b"Content-Transfer-Encoding: quoted-printable" in built.raw
    assert built.raw.isascii()
    assert ("BODY", "8BITMIME") not in built.mail_params
    assert text_content(built.raw) == "café\n"


def test_no_capabilities_is_7bit_safe() -> None:
    built = build_message(MessageSpec("a@example.com", ("b@example.com",), body="日本"))
    assert built.raw.isascii()
    assert built.mail_params == ()


def test_long_line_body_not_sent_8bit() -> None:
    built = build_message(
        MessageSpec("a@example.com", ("b@example.com",), body="x" * 2000), FULL_SERVER
    )
    assert max(len(line) for line in built.raw.split(b"\r\n")) <= 998
    assert "line-too-long" not in keys(built.warnings)


def test_attachment_type_guessed() -> None:
    spec = MessageSpec(
        "a@example.com",
        ("b@example.com",),
        body="see attached",
        attachments=(Attachment("report.pdf", b"%PDF-1.4 test"), Attachment("資料.bin", b"\0\1")),
    )
    message = parse(build_message(spec).raw)
    parts = list(message.iter_attachments())
    assert [part.get_content_type() for part in parts] == [
        "application/pdf",
        "application/octet-stream",
    ]
    assert parts[0].get_content() == b"%PDF-1.4 test"
    assert parts[1].get_filename() == "資料.bin"


def test_attachment_from_path(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    attachment = Attachment.from_path(path)
    assert attachment.filename == "notes.txt"
    assert attachment.mime_type() == ("text", "plain")


def test_non_ascii_address_needs_smtputf8() -> None:
    spec = MessageSpec("用户@例子.广告", ("b@example.com",), body="hi")
    built = build_message(spec, FULL_SERVER)
    assert ("SMTPUTF8", None) in built.mail_params
    assert "用户@例子.广告".encode() in built.raw
    assert "smtputf8-missing" not in keys(built.warnings)
    without = build_message(spec, SEVEN_BIT_SERVER)
    assert "smtputf8-missing" in keys(without.warnings)


@pytest.mark.parametrize("field", ["subject", "to", "from", "extra"])
def test_header_injection_rejected(field: str) -> None:
    values = {"from_address": "a@example.com", "to": ("b@example.com",), "subject": "s"}
    if field == "subject":
        values["subject"] = "hi\r\nBcc: victim@example.com"
    elif field == "to":
        values["to"] = ("b@example.com\nBcc: victim@example.com",)
    elif field == "from":
        values["from_address"] = "a@example.com\r\nX: y"
    spec = MessageSpec(**values)  # type: ignore[arg-type]
    if field == "extra":
        spec = MessageSpec("a@example.com", extra_headers=(("X-Test", "a\r\nBcc: v@example.com"),))
    with pytest.raises(LocalProtocolError, match="contains"):
        build_message(spec)


def test_invalid_address_rejected() -> None:
    with pytest.raises(LocalProtocolError, match="invalid To address"):
        build_message(MessageSpec("a@example.com", ("not an address",)))


def test_size_over_server_limit_warns() -> None:
    built = build_message(
        MessageSpec("a@example.com", ("b@example.com",), body="y" * 2000), SEVEN_BIT_SERVER
    )
    assert "message-size" in keys(built.warnings)


def test_extra_header_misspelling_reported() -> None:
    built = build_message(MessageSpec("a@example.com", extra_headers=(("Subjet", "oops"),)))
    assert "header-misspelled" in keys(built.warnings)


# --- Header checks --------------------------------------------------------------------------------


def test_check_headers_clean_message() -> None:
    raw = (
        "From: a@example.com\r\nTo: b@example.com\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
        "Message-ID: <1@example.com>\r\nSubject: hi\r\nX-Custom: 1\r\n\r\nbody\r\n"
    )
    assert check_headers(raw) == []


@pytest.mark.parametrize("name, intended", [
    ("Subjet", "Subject"),
    ("Form", "From"),
    ("Data", "Date"),
    ("Reply-to-", "Reply-To"),
    ("Content-Tpye", "Content-Type"),
])  # fmt: skip
def test_check_headers_misspelling(name: str, intended: str) -> None:
    raw = f"From: a@example.com\nDate: x\n{name}: value\n\nbody"
    warnings = check_headers(raw)
    assert keys(warnings) == ["header-misspelled", "header-missing-message-id"]
    assert f"misspelling of {intended!r}" in warnings[0].text


def test_check_headers_missing_from_and_date() -> None:
    found = keys(check_headers("Subject: hi\n\nbody"))
    assert "header-missing-from" in found
    assert "header-missing-date" in found


def test_check_headers_duplicate_from() -> None:
    warnings = check_headers("From: a@x.test\nFrom: b@x.test\nDate: d\nDate: e\n\nbody")
    texts = [w.text for w in warnings if w.key == "header-duplicate"]
    assert texts == [
        "Date appears 2 times; RFC 5322 section 3.6 allows it once",
        "From appears 2 times; RFC 5322 section 3.6 allows it once",
    ]


def test_check_headers_raw_non_ascii() -> None:
    raw = "From: a@x.test\nDate: d\nSubject: café\n\nbody".encode()
    assert "header-non-ascii" in keys(check_headers(raw))
    assert "header-non-ascii" not in keys(check_headers(raw, smtputf8=True))


def test_check_headers_body_without_blank_line() -> None:
    warnings = check_headers("From: a@x.test\nDate: d\nHello Bob,\nhow are you\n")
    assert warnings[0].key == "header-not-a-field"
    assert "line 3" in warnings[0].text


def test_check_headers_folded_value() -> None:
    raw = "From: a@x.test\nDate: d\nSubject: a\n long\n\tsubject\n\nbody"
    assert keys(check_headers(raw)) == ["header-missing-message-id"]


def test_check_message_8bit_without_8bitmime() -> None:
    raw = "From: a@x.test\r\nDate: d\r\n\r\ncafé\r\n".encode()
    assert "body-8bit" in keys(check_message(raw, SEVEN_BIT_SERVER))
    assert "body-8bit" not in keys(check_message(raw, FULL_SERVER))


def test_check_message_long_line() -> None:
    raw = b"From: a@x.test\r\nDate: d\r\n\r\n" + b"x" * 1200 + b"\r\n"
    assert "line-too-long" in keys(check_message(raw))
