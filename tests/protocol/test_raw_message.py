"""``prepare_raw_message``: a hand-written message with the MAIL parameters a built one gets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.message import (
    prepare_raw_message,
    prepare_raw_payload,
    undo_dot_stuffing,
)

OFFERS_ALL = Capabilities.from_lines(["mail.test", "SIZE 1000", "8BITMIME"])
OFFERS_NOTHING = Capabilities.from_lines(["mail.test"])


@given(st.binary(max_size=200))
def test_raw_message_payload_matches_prepare_raw_payload(raw: bytes) -> None:
    built = prepare_raw_message(raw, OFFERS_ALL)
    assert built.payload_for_data == prepare_raw_payload(raw)
    assert undo_dot_stuffing(built.payload_for_data) == built.raw


@pytest.mark.parametrize(
    ("raw", "capabilities", "params"),
    [
        (b"Subject: a\n\nplain\n", OFFERS_ALL, [("SIZE", "21")]),
        (b"Subject: a\n\ncaf\xe9", OFFERS_ALL, [("SIZE", "20"), ("BODY", "8BITMIME")]),
        (b"Subject: a\n\ncaf\xe9", OFFERS_NOTHING, []),
        (b"Subject: a\n\ncaf\xe9", None, []),
    ],
)
def test_raw_message_mail_params(
    raw: bytes, capabilities: Capabilities | None, params: list[tuple[str, str]]
) -> None:
    assert list(prepare_raw_message(raw, capabilities).mail_params) == params


def test_raw_message_warns_about_8bit_without_offer() -> None:
    warnings = prepare_raw_message(b"Subject: a\n\ncaf\xe9\n", OFFERS_NOTHING).warnings
    assert [warning.key for warning in warnings] == ["body-8bit"]


def test_raw_message_skips_header_checks() -> None:
    assert prepare_raw_message(b"Subjet: typo\n\nbody\n", OFFERS_ALL).warnings == []


def test_raw_message_over_size_is_an_error() -> None:
    warnings = prepare_raw_message(b"x" * 2000, OFFERS_ALL).warnings
    assert [warning.key for warning in warnings] == ["line-too-long", "message-size"]
