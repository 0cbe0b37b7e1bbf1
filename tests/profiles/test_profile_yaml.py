"""YAML-level problems: syntax errors with lines, unsafe tags, aliases, encoding and size."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole.profiles import check_profile_file, load_profile_file
from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_yaml import MAX_PROFILE_BYTES, ProfileValidationError

from .conftest import WriteProfile

FILE = Path("p.yaml")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("host: h\nport: [25\n", 3, "expected ',' or ']'"),
        ("host: h\n  port: 25\n", 2, "mapping values are not allowed here"),
        ("host: h\nauth:\n  username: bob\n mechanism: PLAIN\n", 4, "YAML syntax error"),
        ("host: 'unterminated\n", 2, "found unexpected end of stream"),
        ("host: h\n\tport: 25\n", 2, "found character '\\t' that cannot start any token"),
        ("host: a\n---\nhost: b\n", 2, "expected a single document"),
    ],
)
def test_syntax_error_has_line(text: str, line: int, message: str) -> None:
    profile, issues = parse_profile(text, FILE)

    assert profile is None
    assert len(issues) == 1
    assert issues[0].line == line
    assert message in issues[0].message
    assert issues[0].format().startswith(f"p.yaml:{line}:")


@pytest.mark.parametrize(
    "text",
    [
        "host: !!python/object:os.system {}\n",
        "host: !!python/object/apply:os.system ['touch /tmp/pwned']\n",
        "!!python/object/new:os.system [echo]\n",
        "host: h\nnotes: !!python/name:os.system\n",
        "host: h\nauth:\n  password: !!python/object/apply:subprocess.check_output [[id]]\n",
    ],
)
def test_python_tag_rejected(text: str) -> None:
    profile, issues = parse_profile(text, FILE)

    assert profile is None
    assert len(issues) == 1
    assert "!!python/" in issues[0].message
    assert "not allowed" in issues[0].message
    assert issues[0].line is not None


def test_python_tag_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"host: !!python/object/apply:os.system ['touch {marker}']\n"

    parse_profile(text, FILE)

    assert not marker.exists()


def test_custom_tag_rejected() -> None:
    profile, issues = parse_profile("host: !vault abc\n", FILE)

    assert profile is None
    assert issues[0].message == "unsupported YAML tag !vault"


def test_alias_rejected_with_line() -> None:
    text = "host: &h mail.example.com\ntls:\n  sni: *h\n"

    profile, issues = parse_profile(text, FILE)

    assert profile is None
    assert [(issue.line, issue.message) for issue in issues] == [
        (3, "YAML alias *h is not supported in profiles")
    ]


def test_alias_bomb_rejected_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]

    profile, issues = parse_profile("\n".join(lines) + "\n", FILE)

    assert profile is None
    assert len(issues) == 80


def test_empty_file() -> None:
    profile, issues = parse_profile("# only a comment\n", FILE)

    assert profile is None
    assert issues[0].message == "empty profile: expected a mapping with at least 'host'"


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "scalar")])
def test_top_level_not_mapping(text: str, kind: str) -> None:
    profile, issues = parse_profile(text, FILE)

    assert profile is None
    assert issues[0].message == f"expected a mapping of fields, got a {kind}"


def test_control_character_rejected_with_position() -> None:
    profile, issues = parse_profile("host: h\nnotes: a\x07b\n", FILE)

    assert profile is None
    assert (issues[0].line, issues[0].column) == (2, 9)
    assert "U+0007" in issues[0].message


def test_invalid_utf8(write_profile: WriteProfile) -> None:
    path = write_profile("latin", "")
    path.write_bytes(b"host: h\nnotes: caf\xe9\n")

    _, issues = check_profile_file(path)

    assert issues[0].line == 2
    assert "invalid UTF-8" in issues[0].message


def test_utf8_bom_accepted(write_profile: WriteProfile) -> None:
    path = write_profile("bom", "")
    path.write_bytes(b"\xef\xbb\xbfhost: h\n")

    profile = load_profile_file(path)

    assert profile.host == "h"


def test_oversized_file_rejected(write_profile: WriteProfile) -> None:
    path = write_profile("big", "host: h\nnotes: |\n" + "  x\n" * (MAX_PROFILE_BYTES // 4 + 1))

    _, issues = check_profile_file(path)

    assert "too large for a profile" in issues[0].message


def test_missing_file(tmp_path: Path) -> None:
    _, issues = check_profile_file(tmp_path / "nope.yaml")

    assert issues[0].message == "file not found"


def test_load_raises_with_every_issue(write_profile: WriteProfile) -> None:
    path = write_profile("bad", "prot: 1\nsecurity: tsl\n")

    with pytest.raises(ProfileValidationError) as caught:
        load_profile_file(path)

    error = caught.value
    assert error.file == path
    assert len(error.issues) == 3
    assert f"invalid profile {path}: 3 errors" in str(error)
    assert f"{path}:2:11: security: invalid value 'tsl'" in str(error)
