"""The line-mode history masks AUTH arguments and 334 responses before they reach the file."""

from __future__ import annotations

from pathlib import Path

from smtpconsole.line.history import MaskedFileHistory, mask_history_line


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
    text = path.read_text()
    assert "AGFsaWNl" not in text
    assert "c2VjcmV0" not in text
    assert "+AUTH PLAIN ********" in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(history.get_strings())[-1] == "********"
