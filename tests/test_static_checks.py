"""ruff (lint and format) and mypy --strict stay clean on the whole tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "arguments",
    [
        ("check", "smtpconsole", "tests", "bench"),
        ("format", "--check", "smtpconsole", "tests", "bench"),
    ],
    ids=["lint", "format"],
)
def test_ruff_is_clean(arguments: tuple[str, ...]) -> None:
    result = _run(str(BIN / "ruff"), *arguments)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean(tmp_path: Path) -> None:
    # A fresh cache folder keeps the result independent of earlier runs.
    result = _run(str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy-cache"))
    assert result.returncode == 0, result.stdout + result.stderr
