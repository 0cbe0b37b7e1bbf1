"""The layer contracts: headless modules load no UI toolkit, and import-linter's contracts hold."""

from __future__ import annotations

import ast
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
    "smtpconsole.scenario",
    "smtpconsole.runner",
    "smtpconsole.sending",
    "smtpconsole.composer",
    "smtpconsole.recording",
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


PROTOCOL_FORBIDDEN = {"asyncio", "ssl", "socket", "selectors"}


def test_protocol_core_imports_no_io_modules() -> None:
    # The standard library's email package imports socket itself, so this reads the import
    # statements of the core rather than sys.modules.
    protocol = Path(__file__).resolve().parent.parent / "smtpconsole" / "protocol"
    for source in sorted(protocol.glob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top not in PROTOCOL_FORBIDDEN, f"{source.name} imports {name}"
                assert top in sys.stdlib_module_names or top == "smtpconsole", (
                    f"{source.name} imports {name}, which is not in the standard library"
                )


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
