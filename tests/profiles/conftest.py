"""Fixtures for profile tests: the developer's own config folders are never read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_PROFILES = Path(__file__).resolve().parents[2] / "profiles"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and the XDG folders at a temporary folder and clear $SMTPCONSOLE_PROFILES."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("SMTPCONSOLE_PROFILES", raising=False)
    return home


@pytest.fixture
def user_profiles(isolated_home: Path) -> Path:
    """The user profiles folder under the temporary HOME, created empty."""
    folder = isolated_home / ".config" / "smtpconsole" / "profiles"
    folder.mkdir(parents=True)
    return folder


WriteProfile = Callable[[str, str], Path]


@pytest.fixture
def write_profile(tmp_path: Path) -> WriteProfile:
    """Write YAML text to ``NAME.yaml`` in a temporary folder and return the path."""
    folder = tmp_path / "written"
    folder.mkdir()

    def write(name: str, text: str) -> Path:
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
