"""The `smtpconsole profiles list|show|path|check` command, through profiles_command."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smtpconsole.profiles import add_profiles_arguments, profiles_command

from .conftest import REPO_PROFILES

EXAMPLES = sorted(REPO_PROFILES.glob("*.yaml"))


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="smtpconsole")
    add_profiles_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["profiles", *argv])
    assert args.handler is profiles_command
    result: int = args.handler(args)
    return result


def test_examples_exist() -> None:
    names = [path.name for path in EXAMPLES]

    assert names == [
        "aws-ses-us-east-1.yaml",
        "gmail.yaml",
        "local-postfix.yaml",
        "office365.yaml",
        "practice.yaml",
    ]


def test_check_repo_examples_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status = run("check", *map(str, EXAMPLES))

    out = capsys.readouterr().out
    assert status == 0
    assert out == "5 files checked: no errors\n"


def test_check_reports_every_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("host: h\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("host: h\nport: 0\nsecurity: ssl\nauth:\n  password: hunter2\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("host: [h\n")

    status = run("check", str(good), str(bad), str(broken))

    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert f"{bad}:2:7: port: invalid port 0: expected an integer from 1 to 65535" in lines
    assert any(line.startswith(f"{bad}:3:11: security: invalid value 'ssl'") for line in lines)
    assert any(line.startswith(f"{bad}:5:13: auth.password:") for line in lines)
    assert any(line.startswith(f"{broken}:2:1: YAML syntax error") for line in lines)
    assert lines[-1] == "3 files checked: 4 errors"
    assert "hunter2" not in "\n".join(lines)


def test_check_without_files_checks_search_path(
    user_profiles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (user_profiles / "ok.yaml").write_text("host: h\n")
    (user_profiles / "bad.yaml").write_text("host: h\nprot: 1\n")

    status = run("check")

    out = capsys.readouterr().out
    assert status == 1
    assert "did you mean 'port'?" in out
    assert out.splitlines()[-1] == "2 files checked: 1 error"


def test_check_with_no_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("check") == 0
    assert capsys.readouterr().out == "no profiles found; nothing to check\n"


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run("check", str(tmp_path / "nope.yaml"))

    assert status == 1
    assert f"{tmp_path / 'nope.yaml'}: file not found" in capsys.readouterr().out


def test_list(
    monkeypatch: pytest.MonkeyPatch, user_profiles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(REPO_PROFILES))
    (user_profiles / "gmail.yaml").write_text("host: shadowed.example.com\n")
    (user_profiles / "zz-broken.yaml").write_text("port: x\n")

    status = run("list")

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].split() == ["NAME", "ADDRESS", "SECURITY", "FILE"]
    rows = [line.split() for line in lines[1:]]
    assert rows[0] == [
        "aws-ses-us-east-1",
        "email-smtp.us-east-1.amazonaws.com:587",
        "starttls",
        str(REPO_PROFILES / "aws-ses-us-east-1.yaml"),
    ]
    assert ["practice", "127.0.0.1:2526", "starttls"] == rows[4][:3]
    assert rows[5][:2] == ["gmail", "(shadowed)"]
    assert rows[6][:3] == ["zz-broken", "(invalid:", "2"]


def test_list_empty(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    assert run("list") == 0
    assert capsys.readouterr().out.startswith("no profiles found in ")


def test_show_masks_password_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", str(REPO_PROFILES))
    monkeypatch.setenv("SES_SMTP_PASSWORD", "the-real-secret")

    status = run("show", "aws-ses-us-east-1")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"# file: {REPO_PROFILES / 'aws-ses-us-east-1.yaml'}\n")
    assert "  password:\n    env: SES_SMTP_PASSWORD\n" in out
    assert "the-real-secret" not in out
    assert "host: email-smtp.us-east-1.amazonaws.com\n" in out


def test_show_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    status = run("show", str(REPO_PROFILES / "office365.yaml"))

    assert status == 0
    assert "  password: prompt\n" in capsys.readouterr().out


def test_show_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    status = run("show", "nope")

    err = capsys.readouterr().err
    assert status == 1
    assert "smtpconsole profiles show: profile 'nope' not found" in err


def test_show_invalid_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("host: h\nport: 99999\n")

    status = run("show", str(path))

    err = capsys.readouterr().err
    assert status == 1
    assert f"{path}:2:7: port: invalid port 99999" in err


def test_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    missing = tmp_path / "missing"
    monkeypatch.setenv("SMTPCONSOLE_PROFILES", f"{existing}{os.pathsep}{missing}")

    status = run("path")

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0] == f"{existing}  [exists]  $SMTPCONSOLE_PROFILES"
    assert lines[1] == f"{missing}  [missing]  $SMTPCONSOLE_PROFILES"
    assert lines[2].endswith("smtpconsole/profiles  [missing]  user config folder")
    assert len(lines) == 3


def installed_command() -> str | None:
    candidate = Path(sys.executable).with_name("smtpconsole")
    return str(candidate) if candidate.exists() else shutil.which("smtpconsole")


def test_installed_command_checks_examples(isolated_home: Path) -> None:
    command = installed_command()
    if command is None:
        pytest.skip("the smtpconsole command is not installed in this environment")
    env = {key: value for key, value in os.environ.items() if key != "SMTPCONSOLE_PROFILES"}

    result = subprocess.run(
        [command, "profiles", "check", *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "5 files checked: no errors\n"
