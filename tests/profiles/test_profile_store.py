"""Writing profiles: no secrets, mode 0600, atomic replace, backups of hand-written files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smtpconsole.errors import ProfileError
from smtpconsole.profiles import (
    AuthSettings,
    EnvelopeSettings,
    PasswordSource,
    Profile,
    TimeoutSettings,
    TlsSettings,
    has_comments,
    load_profile_file,
    save_profile,
    will_lose_comments,
)
from smtpconsole.profiles_store import HEADER
from smtpconsole.profiles_yaml import ProfileValidationError

from .conftest import REPO_PROFILES

FULL_PROFILE = Profile(
    name="work",
    host="mail.example.com",
    port=2525,
    security="tls",
    ehlo="client.example.com",
    auth=AuthSettings(
        mechanism="LOGIN",
        username="bob",
        password=PasswordSource("command", command=("pass", "show", "smtp/work")),
    ),
    tls=TlsSettings(verify=False, ca_file="ca.pem", sni="mx.example.com", min_version="1.3"),
    envelope=EnvelopeSettings(mail_from="bob@example.com", rcpt_to=("a@example.com",)),
    timeouts=TimeoutSettings(connect=5.0, read=2.5),
    notes="first line\nsecond line\n",
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own, so a test can list every file left in it."""
    path = tmp_path / "profiles"
    path.mkdir()
    return path


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "work.yaml"

    save_profile(FULL_PROFILE, path)
    loaded = load_profile_file(path)

    assert loaded == FULL_PROFILE
    assert loaded.path == path


def test_written_text(tmp_path: Path) -> None:
    path = tmp_path / "work.yaml"

    save_profile(FULL_PROFILE, path)
    text = path.read_text()

    assert text.startswith(HEADER)
    assert "command:\n    - pass\n    - show\n    - smtp/work\n" in text
    assert "connect: 5\n" in text
    assert "notes: |\n  first line\n  second line\n" in text
    assert "path" not in text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            PasswordSource("env", env="SES_SMTP_PASSWORD"),
            "  password:\n    env: SES_SMTP_PASSWORD\n",
        ),
        (
            PasswordSource("keyring", keyring="smtpconsole"),
            "  password:\n    keyring: smtpconsole\n",
        ),
        (PasswordSource("prompt"), "  password: prompt\n"),
    ],
)
def test_password_written_as_reference(
    tmp_path: Path, source: PasswordSource, expected: str
) -> None:
    path = tmp_path / "p.yaml"
    profile = Profile(name="p", host="h", auth=AuthSettings(username="u", password=source))

    save_profile(profile, path)

    assert expected in path.read_text()
    assert load_profile_file(path).auth.password == source


def test_saved_file_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    old_umask = os.umask(0)
    try:
        save_profile(Profile(name="p", host="h"), path)
    finally:
        os.umask(old_umask)

    assert mode_of(path) == 0o600


def test_save_replaces_loose_mode(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEADER + "host: old\n")
    path.chmod(0o644)

    save_profile(Profile(name="p", host="new"), path)

    assert mode_of(path) == 0o600
    assert load_profile_file(path).host == "new"


def test_save_creates_private_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "p.yaml"

    save_profile(Profile(name="p", host="h"), path)

    assert mode_of(tmp_path / "new") == 0o700
    assert mode_of(tmp_path / "new" / "folder") == 0o700


def test_interrupted_replace_keeps_old_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder / "p.yaml"
    original = HEADER + "host: old.example.com\n"
    path.write_text(original)

    def failing_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)

    with pytest.raises(ProfileError, match="cannot write profile .*No space left on device"):
        save_profile(Profile(name="p", host="new.example.com"), path)

    assert path.read_text() == original
    assert sorted(entry.name for entry in folder.iterdir()) == ["p.yaml"]


def test_interrupted_write_keeps_old_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder / "p.yaml"
    original = HEADER + "host: old.example.com\n"
    path.write_text(original)
    real_fsync = os.fsync
    calls = 0

    def failing_fsync(descriptor: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError(5, "Input/output error")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", failing_fsync)

    with pytest.raises(ProfileError, match="Input/output error"):
        save_profile(Profile(name="p", host="new.example.com"), path)

    assert path.read_text() == original
    assert [entry.name for entry in folder.iterdir()] == ["p.yaml"]


def test_interrupt_mid_write_keeps_old_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = folder / "p.yaml"
    original = HEADER + "host: old.example.com\n"
    path.write_text(original)

    def interrupted_replace(source: str, target: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted_replace)

    with pytest.raises(KeyboardInterrupt):
        save_profile(Profile(name="p", host="new.example.com"), path)

    assert path.read_text() == original
    assert [entry.name for entry in folder.iterdir()] == ["p.yaml"]


def test_backup_of_commented_hand_written_file(tmp_path: Path) -> None:
    path = tmp_path / "gmail.yaml"
    original = (REPO_PROFILES / "gmail.yaml").read_text()
    path.write_text(original)
    profile = load_profile_file(path)

    result = save_profile(profile, path)

    backup = tmp_path / "gmail.yaml.bak"
    assert result.backup == backup
    assert result.comments_lost is True
    assert backup.read_text() == original
    assert mode_of(backup) == 0o600
    assert "comments of the old file are not kept" in result.describe()
    assert str(backup) in result.describe()
    assert load_profile_file(path) == profile


def test_will_lose_comments(tmp_path: Path) -> None:
    commented = tmp_path / "commented.yaml"
    commented.write_text("# mine\nhost: h\n")
    plain = tmp_path / "plain.yaml"
    plain.write_text("host: h\n")
    own = tmp_path / "own.yaml"
    save_profile(Profile(name="own", host="h"), own)

    assert will_lose_comments(commented) is True
    assert will_lose_comments(plain) is False
    assert will_lose_comments(own) is False
    assert will_lose_comments(tmp_path / "new.yaml") is False


def test_invalid_profile_not_written(folder: Path) -> None:
    path = folder / "p.yaml"
    path.write_text(HEADER + "host: old.example.com\n")

    with pytest.raises(ProfileValidationError) as caught:
        save_profile(Profile(name="p", host="bad host", port=0), path)

    assert [issue.field for issue in caught.value.issues] == ["host", "port"]
    assert path.read_text() == HEADER + "host: old.example.com\n"
    assert [entry.name for entry in folder.iterdir()] == ["p.yaml"]


def test_backup_of_uncommented_hand_written_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("host: h\nnotes: 'a # inside quotes'\n")

    result = save_profile(Profile(name="p", host="h2"), path)

    assert result.backup == tmp_path / "p.yaml.bak"
    assert result.comments_lost is False


def test_no_backup_for_own_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    save_profile(Profile(name="p", host="h"), path)

    result = save_profile(Profile(name="p", host="h2"), path)

    assert result.backup is None
    assert result.comments_lost is False
    assert not (tmp_path / "p.yaml.bak").exists()
    assert result.describe() == f"saved profile {path}"


def test_new_file_has_no_backup(tmp_path: Path) -> None:
    result = save_profile(Profile(name="p", host="h"), tmp_path / "p.yaml")

    assert result.backup is None


def test_symlink_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(HEADER + "host: old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)

    save_profile(Profile(name="p", host="new"), link)

    assert link.is_symlink()
    assert load_profile_file(real).host == "new"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# top\nhost: h\n", True),
        ("host: h  # trailing\n", True),
        ("host: h\n  # indented\n", True),
        ("host: h\nnotes: 'a # b'\n", False),
        ('host: h\nnotes: "a # b"\n', False),
        ("host: h\nnotes: a#b\n", False),
        ("host: h\nnotes: |\n  a # b\n", False),
        ("host: h\n", False),
        ("host: 'unterminated # b\n", True),
    ],
)
def test_has_comments(text: str, expected: bool) -> None:
    assert has_comments(text) is expected
