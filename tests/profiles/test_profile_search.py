"""Finding profiles: $SMTPCONSOLE_PROFILES first, then the user config folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtpconsole.errors import ProfileError
from smtpconsole.profiles import (
    ProfileValidationError,
    find_profile_files,
    load_profile,
    search_folders,
)


def make_folder(root: Path, name: str, profiles: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    for stem, text in profiles.items():
        (folder / stem).write_text(text)
    return folder


def test_search_order(tmp_path: Path, user_profiles: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "first"
    second = tmp_path / "second"
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", f"{first}{os.pathsep}{os.pathsep}{second}")

    folders = search_folders()

    assert [folder.path for folder in folders] == [first, second, user_profiles]
    assert [folder.source for folder in folders] == [
        "$SMTPCONSOLE_PROFILES",
        "$SMTPCONSOLE_PROFILES",
        "user config folder",
    ]


def test_user_folder_follows_home(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")

    folders = search_folders()

    assert len(folders) == 1
    assert folders[0].path == isolated_home / ".config" / "smtpconsole" / "profiles"


def test_env_folder_wins_over_user_folder(
    tmp_path: Path, user_profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (user_profiles / "work.yaml").write_text("host: user.example.com\n")
    env_folder = make_folder(tmp_path, "env", {"work.yaml": "host: env.example.com\n"})
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(env_folder))

    assert load_profile("work").host == "env.example.com"


def test_user_folder_used_without_env(user_profiles: Path) -> None:
    (user_profiles / "work.yaml").write_text("host: user.example.com\n")

    profile = load_profile("work")

    assert profile.host == "user.example.com"
    assert profile.path == user_profiles / "work.yaml"


def test_lookup_by_name_field(user_profiles: Path) -> None:
    (user_profiles / "a.yaml").write_text("name: office\nhost: a.example.com\n")

    assert load_profile("office").host == "a.example.com"


def test_stem_beats_name_field(user_profiles: Path) -> None:
    (user_profiles / "a.yaml").write_text("name: b\nhost: a.example.com\n")
    (user_profiles / "b.yaml").write_text("name: other\nhost: b.example.com\n")

    assert load_profile("b").host == "b.example.com"


def test_yml_suffix_found(user_profiles: Path) -> None:
    (user_profiles / "short.yml").write_text("host: yml.example.com\n")

    assert load_profile("short").host == "yml.example.com"


def test_hidden_and_backup_files_ignored(user_profiles: Path) -> None:
    (user_profiles / "p.yaml").write_text("host: h\n")
    (user_profiles / "p.yaml.bak").write_text("host: old\n")
    (user_profiles / ".p.yaml.x1.tmp").write_text("host: tmp\n")
    (user_profiles / ".hidden.yaml").write_text("host: hidden\n")

    assert find_profile_files(user_profiles) == [user_profiles / "p.yaml"]


def test_lookup_by_path(tmp_path: Path) -> None:
    path = tmp_path / "anywhere.yaml"
    path.write_text("host: path.example.com\n")

    assert load_profile(str(path)).host == "path.example.com"
    assert load_profile(path).host == "path.example.com"


def test_lookup_by_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "local.yaml").write_text("host: local.example.com\n")
    monkeypatch.chdir(tmp_path)

    assert load_profile("local.yaml").host == "local.example.com"


def test_missing_path_reports_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileValidationError, match="file not found"):
        load_profile(str(tmp_path / "nope.yaml"))


def test_not_found_suggests_name(user_profiles: Path) -> None:
    (user_profiles / "gmail.yaml").write_text("host: smtp.gmail.com\n")

    with pytest.raises(ProfileError) as caught:
        load_profile("gmial")

    assert caught.value.message.startswith("profile 'gmial' not found in ")
    assert str(user_profiles) in caught.value.message
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("did you mean 'gmail'?")


def test_invalid_profile_found_by_stem_raises(user_profiles: Path) -> None:
    (user_profiles / "broken.yaml").write_text("host: h\nport: x\n")

    with pytest.raises(ProfileValidationError) as caught:
        load_profile("broken")

    assert caught.value.issues[0].field == "port"


def test_invalid_files_skipped_for_name_field(user_profiles: Path) -> None:
    (user_profiles / "a-broken.yaml").write_text("name: work\nport: x\n")
    (user_profiles / "b.yaml").write_text("name: work\nhost: ok.example.com\n")

    assert load_profile("work").host == "ok.example.com"


def test_missing_folders_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(tmp_path / "missing"))

    with pytest.raises(ProfileError, match="not found"):
        load_profile("anything")
