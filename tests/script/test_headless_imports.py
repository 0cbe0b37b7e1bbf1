"""The script runner and ``send`` load neither Textual nor prompt_toolkit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_plain_send_loads_nothing_it_does_not_use(start_smtp_server: Any, tmp_path: Path) -> None:
    """A PLAIN send with a short text body loads no SCRAM, JSON, export or attachment modules.

    hashlib (the certificate fingerprint) and stringprep (the idna codec that ssl uses for the
    server name) are left out of the list: a STARTTLS send needs them.
    """
    server = start_smtp_server()
    code = (
        "import sys\nfrom smtpconsole.cli import main\n"
        f"status = main({send_arguments(server)!r})\n"
        "print(sorted(m for m in ('hmac', 'secrets', 'json', 'tempfile', 'mimetypes', 'difflib', "
        "'getpass') if m in sys.modules), file=sys.stderr)\n"
        "sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=send_environment(server)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_console_script_send_output_and_code(
    start_smtp_server: Any,
) -> None:
    """``entry`` ends send with os._exit, so check that the transcript is complete and the code kept."""
    server = start_smtp_server()
    command = [sys.executable, "-m", "smtpconsole", *send_arguments(server)]
    environment = send_environment(server)

    delivered = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert delivered.returncode == 0, delivered.stderr
    assert delivered.stdout.rstrip().splitlines()[-1].startswith("-- connection closed")
    assert "S: 221" in delivered.stdout

    environment["TEST_SMTP_PASSWORD"] = "wrong"
    rejected = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert rejected.returncode == 5, rejected.stderr
    assert "535" in rejected.stderr


def send_arguments(server: Any) -> list[str]:
    return [
        "send", f"{server.host}:{server.port}", "--starttls", "--ca-file", str(server.ca_file),
        "--user", server.user, "--password-env", "TEST_SMTP_PASSWORD", "--auth", "PLAIN",
        "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", "--body", "hi",
    ]  # fmt: skip


def send_environment(server: Any) -> dict[str, str]:
    return {**os.environ, "TEST_SMTP_PASSWORD": server.password}
