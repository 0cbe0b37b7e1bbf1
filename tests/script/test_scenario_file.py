"""Scenario files: validation messages, expectations and ${VAR} expansion, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from smtpconsole.errors import ScriptError
from smtpconsole.scenario import AuthSpec, ComposerSpec, Expectation, load_scenario


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_valid_scenario_parses_every_action(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
target: 127.0.0.1:2525
quit-after: rcpt
steps:
  - send: NOOP
    expect: 2xx
  - expect: 250
  - ehlo: client.test
  - starttls: {}
  - auth: {mechanism: plain, username: tester, password_env: SMTP_PASSWORD}
  - mail: a@example.com
  - rcpt: [b@example.com, c@example.com]
  - data: {subject: Hi, body: Hello, to: b@example.com}
  - pause: 0.5
  - quit
""",
    )
    scenario = load_scenario(path, {})
    actions = [step.action for step in scenario.steps]
    assert actions == [
        "send",
        "expect",
        "ehlo",
        "starttls",
        "auth",
        "mail",
        "rcpt",
        "data",
        "pause",
        "quit",
    ]
    assert scenario.target == "127.0.0.1:2525"
    assert scenario.quit_after == "rcpt"
    assert scenario.steps[0].expect == Expectation(code_class=2)
    assert scenario.steps[4].argument == AuthSpec(
        mechanism="PLAIN", username="tester", password_env="SMTP_PASSWORD"
    )
    assert scenario.steps[6].argument == ("b@example.com", "c@example.com")
    assert scenario.steps[7].argument == ComposerSpec(
        subject="Hi", body="Hello", to=("b@example.com",)
    )


@pytest.mark.parametrize(
    ("text", "code", "code_class", "matches", "fails"),
    [
        ("250", 250, None, (250, "Ok"), (251, "Ok")),
        ("5xx", None, 5, (550, "no"), (450, "later")),
        ("/queued as/", None, None, (250, "Ok: queued as X"), (250, "Ok")),
    ],
)
def test_expectation_forms(
    tmp_path: Path,
    text: str,
    code: int | None,
    code_class: int | None,
    matches: tuple[int, str],
    fails: tuple[int, str],
) -> None:
    path = write(tmp_path, f"steps:\n  - send: NOOP\n    expect: '{text}'\n")
    expectation = load_scenario(path, {}).steps[0].expect
    assert expectation is not None
    assert expectation.code == code
    assert expectation.code_class == code_class
    assert expectation.matches(*matches)
    assert not expectation.matches(*fails)


def test_variables_expand_from_environment_and_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "variables:\n  DOMAIN: example.com\nsteps:\n  - mail: ${USER_NAME}@${DOMAIN}\n  - send: cost $$5\n",
    )
    scenario = load_scenario(path, {"USER_NAME": "alice"})
    assert scenario.steps[0].argument == "alice@example.com"
    assert scenario.steps[1].argument == "cost $5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps:\n  - send: NOOP\n  - rcpt: {to: x}\n", "step 2 (rcpt): field 'rcpt'"),
        ("steps:\n  - send: NOOP\n    expect: 2x5\n", "step 1 (send): field 'expect'"),
        (
            "steps:\n  - mail: ${MISSING}\n",
            "step 1 (mail): field 'mail': variable ${MISSING} is not set",
        ),
        (
            "steps:\n  - send: NOOP\n    mail: a@b\n",
            "step 1: field 'step': expected exactly one action",
        ),
        (
            "steps:\n  - auth: {mechanism: PLAIN, pasword: x}\n",
            "step 1 (auth): field 'auth.pasword'",
        ),
        ("steps:\n  - pause: soon\n", "step 1 (pause): field 'pause'"),
        ("steps:\n  - data: {subjet: Hi}\n", "step 1 (data): field 'data.subjet': unknown field"),
        ("quit-after: lunch\nsteps:\n  - send: NOOP\n", "field 'quit-after': unknown stage"),
        ("steps: []\n", "field 'steps': missing or empty"),
    ],
)
def test_invalid_scenario_names_file_step_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert str(caught.value).startswith(path)
    assert expected in str(caught.value)


def test_invalid_yaml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "steps: [\n")
    with pytest.raises(ScriptError, match="invalid YAML"):
        load_scenario(path, {})


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="cannot read scenario"):
        load_scenario(str(tmp_path / "absent.yaml"), {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('steps:\n  - send: "NOOP\\r\\nRSET"\n', "step 1 (send): field 'send': contains CR"),
        ('steps:\n  - ehlo: "a\\nb"\n', "step 1 (ehlo): field 'ehlo': contains LF"),
        ("steps:\n  - rcpt: 42\n", "step 1 (rcpt): field 'rcpt': expected an address as a string"),
        ("steps:\n  - mail: 42\n", "step 1 (mail): field 'mail': expected an address as a string"),
        ("steps:\n  - rcpt: [a@b, 7]\n", "field 'rcpt': expected an address as a string, got int"),
        ("steps:\n  - rcpt: 'a b@example.com'\n", "field 'rcpt': recipient address 'a b@example.com'"),
        ('steps:\n  - mail: "a@b\\r\\n"\n', "field 'mail': sender address contains"),
        ("steps:\n  - data: /nonexistent/message.eml\n", "/nonexistent/message.eml: not found"),
        ("steps:\n  - data: {file: /nonexistent/m.eml}\n", "field 'data.file': /nonexistent/m.eml"),
        ("steps:\n  - data: {attachments: [/nonexistent/a]}\n", "field 'data.attachments'"),
        ('steps:\n  - data: {subject: "a\\nBcc: x"}\n', "field 'data.subject': contains LF"),
        ('steps:\n  - data: {headers: {X-A: "1\\r\\n"}}\n', "field 'data.headers.X-A': contains CR"),
        ("steps:\n  - data: {headers: {Bad Name: 1}}\n", "field 'data.headers.Bad Name'"),
        ("steps:\n  - auth: CRAM-SHA1\n", "field 'auth': unknown SASL mechanism 'CRAM-SHA1'"),
        ("steps:\n  - auth: {mechanism: XYZ}\n", "field 'auth.mechanism': unknown SASL mechanism"),
        ("steps:\n  - pause: -1\n", "expected seconds as a number from 0 to 3600"),
        ("steps:\n  - pause: 1e9\n", "expected seconds as a number from 0 to 3600, got '1e9'"),
        ("steps:\n  - pause: .inf\n", "expected seconds as a number from 0 to 3600"),
        ("steps:\n  - pause: .nan\n", "expected seconds as a number from 0 to 3600"),
        ("steps:\n  - pause: 3601\n", "expected seconds as a number from 0 to 3600"),
        ("target: 5\nsteps:\n  - send: NOOP\n", "field 'target': expected a string host[:port]"),
        ("target: '5'\nsteps:\n  - send: NOOP\n", "field 'target': invalid target '5': '5' is not a host name"),
        ("target: 127.1\nsteps:\n  - send: NOOP\n", "field 'target': expected a string"),
        ("target: '127.1:25'\nsteps:\n  - send: NOOP\n", "'127.1' is not a host name or address"),
        ("target: 'a b'\nsteps:\n  - send: NOOP\n", "field 'target': invalid target"),
        ("steps:\n  - mail: a@b\n    mail: c@d\n", "duplicate key 'mail'"),
        ("steps:\n  - sned: NOOP\n", "unknown action 'sned'"),
    ],
)  # fmt: skip
def test_scenario_checked_before_sending(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert expected in str(caught.value)


def test_unknown_action_suggests_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - sned: NOOP\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert "step 1: field 'step': unknown action 'sned'" in caught.value.message
    assert caught.value.hint == "did you mean 'send'?"


def test_pause_accepts_numeric_strings(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - pause: '1.5'\n  - pause: 2e1\n  - pause: 0\n")
    assert [step.argument for step in load_scenario(path, {}).steps] == [1.5, 20.0, 0.0]


def test_quit_after_accepts_swaks_names(tmp_path: Path) -> None:
    path = write(tmp_path, "quit-after: first-helo\nsteps:\n  - send: NOOP\n")
    assert load_scenario(path, {}).quit_after == "ehlo"
