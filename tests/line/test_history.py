"""The line-mode history masks AUTH arguments and 334 responses, and leaves out lines that look
like a SASL response, before they reach the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole.line.history import MaskedFileHistory, mask_history_line
from smtpconsole.protocol.sasl import looks_like_sasl_response


def test_auth_initial_response_is_masked() -> None:
    assert mask_history_line("AUTH PLAIN AGFsaWNlAHNlY3JldA==", secret=False) == (
        "AUTH PLAIN ********"
    )
    assert mask_history_line("auth login", secret=False) == "auth login"


def test_secret_response_is_masked_whole() -> None:
    assert mask_history_line("c2VjcmV0", secret=True) == "********"


def test_plain_command_is_kept_verbatim() -> None:
    assert mask_history_line("rcpt to:<x@example.com>", secret=False) == "rcpt to:<x@example.com>"


def test_history_file_holds_no_secret(tmp_path: Path) -> None:
    secret = {"now": False}
    path = tmp_path / "sub" / "history"
    history = MaskedFileHistory(path, lambda: secret["now"])
    history.append_string("EHLO client.example.com")
    history.append_string("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
    secret["now"] = True
    history.append_string("c2VjcmV0")
    history.append_string("not base64")
    text = path.read_text()
    assert "AGFsaWNl" not in text
    assert "c2VjcmV0" not in text
    assert "not base64" not in text
    assert "+AUTH PLAIN ********" in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(history.get_strings())[-2:] == ["AUTH PLAIN ********", "********"]


def test_sasl_like_word_left_out_when_not_secret(tmp_path: Path) -> None:
    path = tmp_path / "history"
    history = MaskedFileHistory(path, lambda: False)
    history.append_string("Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==")
    history.append_string("STARTTLS")
    history.append_string("NOOP")
    text = path.read_text()
    assert "Y29ycmVjdCBob3Jz" not in text
    assert "+STARTTLS" in text
    assert "+NOOP" in text
    assert list(history.get_strings()) == ["STARTTLS", "NOOP"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("YWxpY2U=", True),
        ("AGFsaWNlAHB3", True),
        ("STARTTLS", False),
        ("starttls", False),
        ("c2VjcmV", False),
        ("NOOP", False),
        ("QUIT", False),
        ("two words==", False),
        ("not_base64!", False),
        ("YWxpY2U", False),
        ("RCPT TO:<bob@example.com>", False),
    ],
)
def test_looks_like_sasl_response(line: str, expected: bool) -> None:
    assert looks_like_sasl_response(line) is expected
    assert looks_like_sasl_response(line.encode()) is expected
