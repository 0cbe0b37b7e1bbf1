"""Envelope addresses from what people write, shared by ``send`` and the line-mode composer."""

from __future__ import annotations

import pytest

from smtpconsole.protocol.addresses import (
    bare_address,
    check_envelope_address,
    reason,
    split_address_list,
)
from smtpconsole.protocol.errors import LocalProtocolError


@pytest.mark.parametrize(
    ("item", "address"),
    [
        ("a@example.com", "a@example.com"),
        ("<a@example.com>", "a@example.com"),
        ("Alice Example <a@example.com>", "a@example.com"),
        ('"Example, Alice" <a@example.com>', "a@example.com"),
        ("a@example.com (Alice)", "a@example.com"),
        ("a b c", "a b c"),
        ("undisclosed-recipients:;", None),
        ("<>", ""),
    ],
)
def test_bare_address(item: str, address: str | None) -> None:
    assert bare_address(item) == address


def test_split_keeps_commas_in_quotes_brackets_and_comments() -> None:
    value = '"Doe, Jane" <j@example.com>, b@example.com (B, team), <c,d@example.com>'
    assert split_address_list(value) == [
        '"Doe, Jane" <j@example.com>',
        "b@example.com (B, team)",
        "<c,d@example.com>",
    ]


def test_stray_words_rejected() -> None:
    with pytest.raises(LocalProtocolError) as caught:
        check_envelope_address("a b c", sender=True)
    assert "a b c" not in reason(caught.value)
    assert reason(caught.value)


def test_null_sender_is_a_valid_sender_only() -> None:
    check_envelope_address("", sender=True)
    with pytest.raises(LocalProtocolError):
        check_envelope_address("", sender=False)
