"""Secret lookup: environment, command, keyring and prompt; and the AUTH reply hints."""

from __future__ import annotations

import io
import sys
import types

import pytest

from smtpconsole.credentials import read_secret, resolve_secret
from smtpconsole.errors import CredentialError
from smtpconsole.options import AuthOptions
from smtpconsole.protocol.auth_hints import AUTH_REPLY_HINTS, provider_hint


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_env_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "from-env")
    assert (
        resolve_secret(AuthOptions(password_env="TEST_SMTP_PASSWORD"), prompt=False) == "from-env"
    )


def test_env_variable_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "")
    with pytest.raises(CredentialError, match="TEST_SMTP_PASSWORD is empty"):
        resolve_secret(AuthOptions(password_env="TEST_SMTP_PASSWORD"), prompt=False)


def test_command_output_trimmed() -> None:
    command = (sys.executable, "-c", "print(' pass word ')")
    assert resolve_secret(AuthOptions(password_command=command), prompt=False) == " pass word "


def test_command_runs_without_shell() -> None:
    # A shell would expand $HOME; without one the argument arrives as written.
    command = (sys.executable, "-c", "import sys; print(sys.argv[1])", "$HOME;echo x")
    assert resolve_secret(AuthOptions(password_command=command), prompt=False) == "$HOME;echo x"


def test_command_failure_reports_status() -> None:
    script = "import sys; sys.stderr.write('vault locked\\n'); sys.exit(3)"
    with pytest.raises(CredentialError) as caught:
        resolve_secret(AuthOptions(password_command=(sys.executable, "-c", script)), prompt=False)
    assert "exit status 3" in caught.value.message
    assert "vault locked" in caught.value.message


def test_command_not_found() -> None:
    command = ("smtpconsole-no-such-program",)
    with pytest.raises(CredentialError, match="not found: smtpconsole-no-such-program"):
        resolve_secret(AuthOptions(password_command=command), prompt=False)


def test_command_empty_output() -> None:
    with pytest.raises(CredentialError, match="printed nothing"):
        resolve_secret(AuthOptions(password_command=(sys.executable, "-c", "")), prompt=False)


def test_keyring_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(CredentialError) as caught:
        resolve_secret(AuthOptions(username="u", keyring_service="smtp"), prompt=False)
    assert caught.value.message == "keyring support is not installed"
    assert caught.value.hint is not None
    assert "smtpconsole[keyring]" in caught.value.hint


def fake_keyring(monkeypatch: pytest.MonkeyPatch, get_password: object) -> None:
    errors = types.ModuleType("keyring.errors")

    class KeyringError(Exception):
        pass

    class NoKeyringError(KeyringError):
        pass

    errors.KeyringError = KeyringError  # type: ignore[attr-defined]
    errors.NoKeyringError = NoKeyringError  # type: ignore[attr-defined]
    module = types.ModuleType("keyring")
    module.errors = errors  # type: ignore[attr-defined]
    module.get_password = get_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)


def test_keyring_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    stored = {("smtp", "u"): "from-keyring"}
    fake_keyring(monkeypatch, lambda service, user: stored.get((service, user)))
    options = AuthOptions(username="u", keyring_service="smtp")
    assert resolve_secret(options, prompt=False) == "from-keyring"
    with pytest.raises(CredentialError, match="no password in the keyring"):
        resolve_secret(AuthOptions(username="other", keyring_service="smtp"), prompt=False)


def test_keyring_without_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_backend(service: str, user: str) -> str:
        raise sys.modules["keyring.errors"].NoKeyringError("none")

    fake_keyring(monkeypatch, no_backend)
    with pytest.raises(CredentialError, match="no system keyring backend"):
        resolve_secret(AuthOptions(username="u", keyring_service="smtp"), prompt=False)


def test_prompt_only_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed")
    monkeypatch.setattr("sys.stdin", io.StringIO("piped\n"))
    assert resolve_secret(AuthOptions(username="u"), prompt=True) is None
    monkeypatch.setattr("sys.stdin", Terminal())
    assert resolve_secret(AuthOptions(username="u"), prompt=True) == "typed"
    assert resolve_secret(AuthOptions(username="u"), prompt=False) is None


def test_read_secret_first_line() -> None:
    assert read_secret("x: ", io.StringIO("first\r\nsecond\n")) == "first"


# --- AUTH reply hints -----------------------------------------------------------------------------


def test_auth_reply_hints_cover_codes() -> None:
    assert sorted(AUTH_REPLY_HINTS) == [235, 334, 454, 530, 534, 535, 538]


@pytest.mark.parametrize("host, code, provider", [
    ("email-smtp.us-east-1.amazonaws.com", 535, "Amazon SES"),
    ("smtp.gmail.com", 534, "Gmail"),
    ("smtp.office365.com", 535, "Microsoft 365"),
    ("SMTP.GMAIL.COM.", 535, "Gmail"),
])  # fmt: skip
def test_provider_hint_matches(host: str, code: int, provider: str) -> None:
    hint = provider_hint(code, host)
    assert hint is not None
    assert hint.provider == provider


def test_provider_hint_no_match() -> None:
    assert provider_hint(535, "mail.example.com") is None
    assert provider_hint(235, "smtp.gmail.com") is None
    assert provider_hint(535, "notgmail.com") is None
    assert provider_hint(535, None) is None


def test_prompt_end_of_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", end_of_input)
    monkeypatch.setattr("sys.stdin", Terminal())
    with pytest.raises(CredentialError, match=r"no password entered \(end of input\)"):
        resolve_secret(AuthOptions(username="u"), prompt=True)
    with pytest.raises(CredentialError, match="end of input"):
        read_secret("x: ", Terminal())


def test_command_several_lines_rejected() -> None:
    command = (sys.executable, "-c", "print('first'); print('second')")
    with pytest.raises(CredentialError, match="printed several lines") as caught:
        resolve_secret(AuthOptions(password_command=command), prompt=False)
    assert "head -1" in (caught.value.hint or "")
