"""The script runner and ``send`` load neither Textual nor prompt_toolkit."""

from __future__ import annotations

import subprocess
import sys

HEADLESS_MODULES = (
    "smtpconsole.script",
    "smtpconsole.sending",
    "smtpconsole.runner",
    "smtpconsole.scenario",
    "smtpconsole.recording",
    "smtpconsole.composer",
)


def test_headless_modules_import_no_ui_toolkit() -> None:
    code = (
        f"import sys\nfor name in {HEADLESS_MODULES!r}:\n    __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'prompt_toolkit')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_send_path_does_not_load_yaml_or_ui() -> None:
    code = (
        "import sys\nfrom smtpconsole import sending, runner, session\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'prompt_toolkit', 'yaml', 'aiosmtpd')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
