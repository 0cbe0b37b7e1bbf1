"""Folders and files smtpconsole keeps on disk, placed by platformdirs.

On Linux these are ``~/.config/smtpconsole/profiles`` for profiles and ``~/.local/share/smtpconsole``
for the line-mode history and exports, or the folders ``$XDG_CONFIG_HOME`` and ``$XDG_DATA_HOME``
name. Nothing is created at import: each function reads the platform paths when called and creates
folders only when asked, with mode 0700 because profiles, history and exports can name accounts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import platformdirs

APP_NAME = "smtpconsole"

PRIVATE_DIR_MODE = 0o700
"""Mode of every folder smtpconsole creates: readable by the owner only."""

PRIVATE_FILE_MODE = 0o600
"""Mode of every export file smtpconsole creates: readable by the owner only."""

MAX_EXPORT_NAME_ATTEMPTS = 1000
"""Maximum number of numbered names tried for one export before giving up."""


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


def create_export_file(
    prefix: str, suffix: str, *, folder: Path | None = None, now: float | None = None
) -> Path:
    """Create a new empty file for an export, mode 0600, and return its path.

    The name is ``PREFIX-YYYYMMDD-HHMMSSZ`` plus ``suffix``, in UTC as the ``Z`` marks, which is
    the time zone of the transcript's line times. When that file exists,
    for example after two exports in the same second, ``-2``, ``-3`` and so on are added before
    the suffix. Each name is created with ``O_EXCL``, so an existing file is never overwritten,
    even by another process choosing the same name at the same moment.

    Args:
        prefix: start of the file name, such as ``scenario``.
        suffix: end of the file name with its dot, such as ``.yaml``.
        folder: where to create the file; the exports folder (created when missing) when None.
        now: the time for the name, in seconds since the epoch; the current time when None.

    Raises:
        OSError: the folder cannot be created or written, or every numbered name is taken.
    """
    if folder is None:
        folder = exports_dir(create=True)
    stem = f"{prefix}-{time.strftime('%Y%m%d-%H%M%SZ', time.gmtime(now))}"
    for number in range(1, MAX_EXPORT_NAME_ATTEMPTS + 1):
        name = f"{stem}{suffix}" if number == 1 else f"{stem}-{number}{suffix}"
        path = folder / name
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            continue
        os.close(descriptor)
        return path
    raise FileExistsError(
        f"no free export file name: {stem}{suffix} and {MAX_EXPORT_NAME_ATTEMPTS - 1} numbered "
        f"names exist in {folder}; move old exports away"
    )


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
