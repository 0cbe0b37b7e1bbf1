"""The layer contracts: headless modules load no UI toolkit, and import-linter's contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEADLESS_MODULES = [
    "smtpconsole",
    "smtpconsole.cli",
    "smtpconsole.arguments",
    "smtpconsole.credentials",
    "smtpconsole.options",
    "smtpconsole.errors",
    "smtpconsole.protocol.replies",
    "smtpconsole.protocol.commands",
    "smtpconsole.protocol.capabilities",
    "smtpconsole.protocol.dialogue",
    "smtpconsole.protocol.sasl",
    "smtpconsole.protocol.message",
    "smtpconsole.protocol.explain",
    "smtpconsole.transport",
    "smtpconsole.tls",
    "smtpconsole.session",
    "smtpconsole.transcript",
    "smtpconsole.profiles",
    "smtpconsole.script",
    "smtpconsole.tokens",
]

UI_TOOLKITS = ("textual", "prompt_toolkit", "rich")


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_module_loads_no_ui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"loaded = [name for name in {UI_TOOLKITS!r} if name in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} loaded {result.stdout.strip()}"


def test_protocol_core_uses_standard_library_only() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import smtpconsole.protocol.replies, smtpconsole.protocol.commands\n"
        "import smtpconsole.protocol.capabilities, smtpconsole.protocol.dialogue\n"
        "import smtpconsole.protocol.sasl, smtpconsole.protocol.message\n"
        "import smtpconsole.protocol.explain\n"
        "bad = [m for m in ('asyncio', 'ssl', 'socket', 'yaml', 'cryptography', 'aiosmtpd')\n"
        "       if m in sys.modules and m not in before]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        found = shutil.which("lint-imports")
        assert found, "lint-imports not installed; install the test extra"
        lint_imports = Path(found)
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
