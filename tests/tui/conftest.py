"""Fixtures for every TUI test: no test reads or writes the developer's own profiles or history."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole import locations


@pytest.fixture(autouse=True)
def isolated_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point $SMTPCONSOLE_PROFILES at an empty folder and the user folders into ``tmp_path``.

    ``profiles_dir``, ``history_file`` and ``exports_dir`` build on ``config_dir`` and
    ``data_dir``, so replacing those two moves every user file. Returns the profiles folder.
    """
    profiles = tmp_path / "empty-profiles"
    profiles.mkdir()
    config = tmp_path / "user-config"
    data = tmp_path / "user-data"
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(profiles))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_DATA_HOME", str(data))

    def config_dir(*, create: bool = False) -> Path:
        return locations.ensure_private_dir(config) if create else config

    def data_dir(*, create: bool = False) -> Path:
        return locations.ensure_private_dir(data) if create else data

    monkeypatch.setattr(locations, "config_dir", config_dir)
    monkeypatch.setattr(locations, "data_dir", data_dir)
    return profiles
