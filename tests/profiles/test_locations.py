"""platformdirs folders: placed under the user's config and data folders, created with mode 0700."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtpconsole import locations


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_paths_follow_xdg(isolated_home: Path) -> None:
    assert locations.profiles_dir() == isolated_home / ".config" / "smtpconsole" / "profiles"
    assert locations.history_file() == isolated_home / ".local/share/smtpconsole/history"
    assert locations.exports_dir() == isolated_home / ".local/share/smtpconsole/exports"


def test_nothing_created_unless_asked(isolated_home: Path) -> None:
    locations.profiles_dir()
    locations.history_file()
    locations.exports_dir()

    assert list(isolated_home.iterdir()) == []


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield None
    os.umask(old)


@pytest.mark.usefixtures("open_umask")
def test_profiles_dir_created_private(isolated_home: Path) -> None:
    path = locations.profiles_dir(create=True)

    assert path.is_dir()
    assert mode_of(path) == 0o700
    assert mode_of(path.parent) == 0o700
    assert mode_of(isolated_home / ".config") == 0o700


@pytest.mark.usefixtures("open_umask")
def test_history_and_exports_created_private(isolated_home: Path) -> None:
    history = locations.history_file(create_dir=True)
    exports = locations.exports_dir(create=True)

    assert not history.exists()
    assert mode_of(history.parent) == 0o700
    assert mode_of(exports) == 0o700


def test_existing_folder_mode_kept(isolated_home: Path) -> None:
    folder = isolated_home / ".config" / "smtpconsole"
    folder.mkdir(parents=True)
    folder.chmod(0o750)

    locations.profiles_dir(create=True)

    assert mode_of(folder) == 0o750
    assert mode_of(folder / "profiles") == 0o700
