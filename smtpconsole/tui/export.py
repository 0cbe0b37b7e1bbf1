"""File names and the folder for transcript exports from the TUI."""

from __future__ import annotations

import re
import time
from pathlib import Path


def export_path(host: str, now: float | None = None) -> Path:
    """Return a new export file name for ``host`` in the exports folder.

    The folder is created (mode 0700) when missing; if that fails, the current folder is used.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    safe_host = re.sub(r"[^A-Za-z0-9.-]", "_", host) or "session"
    name = f"smtpconsole-{safe_host}-{stamp}.txt"
    try:
        from smtpconsole.locations import exports_dir

        return exports_dir(create=True) / name
    except (ImportError, OSError):
        return Path.cwd() / name
