"""File names and the folder for transcript exports from the TUI."""

from __future__ import annotations

import re
from pathlib import Path


def export_path(host: str, now: float | None = None) -> Path:
    """Create a new, empty export file ``smtpconsole-HOST-YYYYMMDD-HHMMSSZ.txt`` (UTC); return its path.

    The file goes in the exports folder, created (mode 0700) when missing, or in the current folder
    when that fails. An existing file is never replaced: a second export in the same second gets
    a numbered name, as ``locations.create_export_file`` describes.

    Raises:
        OSError: no file can be created in either folder.
    """
    from smtpconsole.locations import create_export_file, exports_dir

    safe_host = re.sub(r"[^A-Za-z0-9.-]", "_", host) or "session"
    try:
        folder = exports_dir(create=True)
    except OSError:
        folder = Path.cwd()
    return create_export_file(f"smtpconsole-{safe_host}", ".txt", folder=folder, now=now)
