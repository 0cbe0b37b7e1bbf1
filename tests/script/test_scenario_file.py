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


def test_non_utf8_scenario_names_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b'steps:\n  - send: "caf\xe9"\n')
    with pytest.raises(ScriptError) as caught:
        load_scenario(str(path), {})
    assert caught.value.message == (
        f"{path}: not UTF-8 text: byte 0xE9 at line 2, column 15 (byte offset 21) is not valid "
        "UTF-8"
    )
    assert "UTF-8" in (caught.value.hint or "")


def test_binary_scenario_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"steps:\x00\x01\x02")
    with pytest.raises(ScriptError) as caught:
        load_scenario(str(path), {})
    assert caught.value.message.startswith(f"{path}, line 1, column 7: invalid YAML: character")
    assert "binary file" in (caught.value.hint or "")


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - send: NOOP\n  - send: [\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert caught.value.message.startswith(f"{path}, line 4, column 1: invalid YAML: ")
    assert "<unicode string>" not in str(caught.value)
    assert "quote" in (caught.value.hint or "")


def test_variable_cycle_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, 'variables: {A: "${B}", B: "${A}"}\nsteps:\n  - send: NOOP\n')
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert "cycle: ${A} -> ${B} -> ${A}" in caught.value.message
    assert "export" not in (caught.value.hint or "")


def test_variable_may_use_later_one(tmp_path: Path) -> None:
    path = write(tmp_path, 'variables: {A: "x${B}", B: "y"}\nsteps:\n  - send: "NOOP ${A}"\n')
    assert load_scenario(path, {}).steps[0].argument == "NOOP xy"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('steps:\n  - send: "NOOP ${A"\n', "'${' without a closing '}' in 'NOOP ${A'"),
        ('steps:\n  - send: "NOOP ${1A}"\n', "invalid variable name '1A'"),
        ('variables: {A: "${"}\nsteps:\n  - send: NOOP\n', "field 'variables.A': '${' without"),
    ],
)
def test_malformed_reference_is_rejected(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {"A": "1"})
    assert expected in caught.value.message
    assert "$$ for a literal $" in (caught.value.hint or "")


def test_dollar_escapes_stay_literal(tmp_path: Path) -> None:
    path = write(tmp_path, 'steps:\n  - send: "NOOP $${A} $5"\n')
    assert load_scenario(path, {}).steps[0].argument == "NOOP ${A} $5"


def test_valueless_action_hint_names_action(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - quit: now\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert "step 1 (quit): field 'quit': takes no value, got 'now'" in caught.value.message
    assert caught.value.hint == "write '- quit' with no value, or '- quit: {}'"


def test_ehlo_name_checked_before_sending(tmp_path: Path) -> None:
    path = write(tmp_path, 'steps:\n  - ehlo: "a b"\n')
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert caught.value.message.startswith(f"{path}: step 1 (ehlo): field 'ehlo': EHLO name")
    assert "client.example" in (caught.value.hint or "")


def test_expect_on_pause_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "steps:\n  - pause: 1\n    expect: 250\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert "step 1 (pause): field 'expect': a pause step gets no reply" in caught.value.message


CONFLICTING_MESSAGES = [
    ("{body: X, body_file: BODY}", "conflicting keys body and body_file"),
    ("{raw: 'Subject: r', subject: S}", "raw gives the whole message, headers included, so subject would be ignored"),
    ("{raw: 'Subject: r', subject: S, to: a@b}", "so subject and to would be ignored"),
    ("{raw: 'Subject: r', file: BODY}", "conflicting keys raw and file"),
    ("{file: BODY, headers: {X-A: 1}}", "file gives the whole message"),
]  # fmt: skip


@pytest.mark.parametrize(("message", "expected"), CONFLICTING_MESSAGES)
def test_conflicting_message_keys_are_rejected(tmp_path: Path, message: str, expected: str) -> None:
    body = tmp_path / "body.txt"
    body.write_text("from a file\n", encoding="utf-8")
    path = write(tmp_path, f"steps:\n  - data: {message.replace('BODY', str(body))}\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert "step 1 (data): field 'data': " in caught.value.message
    assert expected in caught.value.message


def test_non_utf8_body_file_gets_hint(tmp_path: Path) -> None:
    from smtpconsole.scenario import BODY_FILE_HINT

    body = tmp_path / "body.txt"
    body.write_bytes(b"caf\xe9\n")
    path = write(tmp_path, f"steps:\n  - data: {{body_file: {body}}}\n")
    with pytest.raises(ScriptError) as caught:
        load_scenario(path, {})
    assert f"field 'data.body_file': cannot read {body}: not UTF-8 text: byte 0xE9" in (
        caught.value.message
    )
    assert caught.value.hint == BODY_FILE_HINT
