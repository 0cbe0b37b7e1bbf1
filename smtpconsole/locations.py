"""Folders and files smtpconsole keeps on disk, placed by platformdirs.

On Linux these are ``~/.config/smtpconsole/profiles`` for profiles and ``~/.local/share/smtpconsole``
for the line-mode history and exports, or the folders ``$XDG_CONFIG_HOME`` and ``$XDG_DATA_HOME``
name. Nothing is created at import: each function reads the platform paths when called and creates
folders only when asked, with mode 0700 because profiles, history and exports can name accounts.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "smtpconsole"

PRIVATE_DIR_MODE = 0o700
"""Mode of every folder smtpconsole creates: readable by the owner only."""


def config_dir(*, create: bool = False) -> Path:
    """Return the user config folder of smtpconsole, creating it when ``create`` is True."""
    path = platformdirs.user_config_path(APP_NAME, appauthor=False)
    return ensure_private_dir(path) if create else path


def data_dir(*, create: bool = False) -> Path:
    """Return the user data folder of smtpconsole, creating it when ``create`` is True."""
    path = platformdirs.user_data_path(APP_NAME, appauthor=False)
    return ensure_private_dir(path) if create else path


def profiles_dir(*, create: bool = False) -> Path:
    """Return the user profiles folder, searched after ``$SMTPCONSOLE_PROFILES``."""
    path = config_dir(create=create) / "profiles"
    return ensure_private_dir(path) if create else path


def history_file(*, create_dir: bool = False) -> Path:
    """Return the line-mode history file; ``create_dir`` creates its folder, never the file."""
    return data_dir(create=create_dir) / "history"


def exports_dir(*, create: bool = False) -> Path:
    """Return the default folder for transcript exports."""
    path = data_dir(create=create) / "exports"
    return ensure_private_dir(path) if create else path


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700, and return it.

    Folders that already exist keep their mode, so a user's own choice is not undone. New ones are
    set with ``chmod`` after ``mkdir`` because ``mkdir`` applies the umask to the mode it is given.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_DIR_MODE)
    return path
