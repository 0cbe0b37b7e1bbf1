"""Scenario files: the YAML schema, its validation, ``${VAR}`` expansion, and recording a session.

A scenario is a mapping with optional ``target``, ``security``, ``manual``, ``quit-after`` and
``variables`` keys and a required ``steps`` list. Each step is a mapping with one action key (``send``,
``expect``, ``ehlo``, ``starttls``, ``auth``, ``mail``, ``rcpt``, ``data``, ``bdat``, ``pause``,
``quit``) and, for the actions that get a reply, an optional ``expect`` next to it::

    target: 127.0.0.1:2525
    steps:
      - starttls: {}
      - auth: {mechanism: PLAIN, username: tester, password_env: SMTP_PASSWORD}
      - mail: ${MAIL_FROM}
      - rcpt: [bob@example.com]
      - data: {subject: Hello, body: "Hi Bob"}
      - send: NOOP
        expect: 2xx

A ``bdat`` step takes the keys of ``data`` and an optional ``chunk_size`` in octets, and sends the
message in BDAT chunks (RFC 3030) without dot-stuffing.

Every validation error names the file, the step number (from 1) and the field. Loading imports no
UI toolkit and opens no connection.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from smtpconsole.errors import ScriptError, UsageError
from smtpconsole.options import SECURITY_MODES, Security

Stage = Literal["connect", "ehlo", "tls", "helo", "auth", "mail", "rcpt", "data"]
STAGES: Final[tuple[Stage, ...]] = (
    "connect",
    "ehlo",
    "tls",
    "helo",
    "auth",
    "mail",
    "rcpt",
    "data",
)
"""Stages of a delivery in order; ``quit-after`` names one of them, as swaks's ``--quit-after``.

``connect`` ends with the greeting, ``ehlo`` with the first EHLO (before STARTTLS), ``tls`` with
STARTTLS and the EHLO over TLS, and ``helo`` with the last EHLO.
"""
STAGE_ALIASES: Final[dict[str, Stage]] = {"first-helo": "ehlo", "greeting": "connect"}
"""Other names of a stage, as swaks spells them."""


def parse_stage(text: str) -> Stage | None:
    """Return the stage named ``text`` (a name from ``STAGES`` or an alias), or None."""
    name = text.strip().lower()
    if name in STAGE_ALIASES:
        return STAGE_ALIASES[name]
    for stage in STAGES:
        if stage == name:
            return stage
    return None


# ``$$``, ``${...}`` or a ``${`` with no closing brace; the name inside is checked by ``expand``.
_REFERENCE = re.compile(r"\$(\$|\{([^}]*)\}|\{)")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REFERENCE_HINT = "write ${NAME} with a name of letters, digits and '_', and $$ for a literal $"
_CODE_CLASS = re.compile(r"^([2-5])xx$", re.IGNORECASE)
_CODE = re.compile(r"^[2-5][0-9][0-9]$")


@dataclass(frozen=True)
class Expectation:
    """Expected reply: an exact code, a code class, a regex on the text, or several of them."""

    code: int | None = None
    code_class: int | None = None
    pattern: re.Pattern[str] | None = None

    def matches(self, code: int, text: str) -> bool:
        """Check a reply's code and text against every part that is set."""
        if self.code is not None and code != self.code:
            return False
        if self.code_class is not None and code // 100 != self.code_class:
            return False
        return self.pattern is None or self.pattern.search(text) is not None

    def describe(self) -> str:
        parts: list[str] = []
        if self.code is not None:
            parts.append(str(self.code))
        if self.code_class is not None:
            parts.append(f"{self.code_class}xx")
        if self.pattern is not None:
            parts.append(f"text matching /{self.pattern.pattern}/")
        return " and ".join(parts) or "any reply"


SUCCESS: Final = Expectation(code_class=2)


@dataclass(frozen=True)
class ComposerSpec:
    """A message to build: the fields of the composer, or a raw payload."""

    mail_from: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str | None = None
    body: str = ""
    attachments: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    raw_file: str | None = None
    """File whose bytes are sent as the message, with only CRLF line ends and dot-stuffing added."""
    raw: str | None = None
    """Message text given inline, sent like ``raw_file``."""
    chunk_size: int | None = None
    """Octets per BDAT chunk, for a ``bdat`` step only; None for the runner's default."""

    @property
    def is_raw(self) -> bool:
        """True when the message is sent as given rather than built from the fields."""
        return self.raw is not None or self.raw_file is not None


@dataclass(frozen=True)
class AuthSpec:
    """Mechanism and credentials of an ``auth`` step; unset fields come from the profile or options."""

    mechanism: str | None = None
    username: str | None = None
    password: str | None = None
    """The secret after ``${VAR}`` expansion; never printed."""
    password_env: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of a scenario."""

    number: int
    """Position in the file, from 1, used in every message about the step."""
    action: str
    argument: Any
    """The value after ``${VAR}`` expansion: a str, a tuple of str, a spec dataclass or a float."""
    expect: Expectation | None = None
    """The explicit expectation; a failure on it exits with the expectation code."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file."""

    path: str
    steps: tuple[Step, ...]
    target: str | None = None
    security: Security | None = None
    manual: bool | None = None
    quit_after: Stage | None = None
    variables: dict[str, str] = field(default_factory=dict)


ACTIONS: Final = (
    "send",
    "expect",
    "ehlo",
    "starttls",
    "auth",
    "mail",
    "rcpt",
    "data",
    "bdat",
    "pause",
    "quit",
)
_TOP_LEVEL_KEYS: Final = {"target", "security", "manual", "quit-after", "variables", "steps"}


class _Where:
    """The place in a scenario file that an error message names."""

    def __init__(self, path: str, step: int | None = None, action: str | None = None) -> None:
        self.path = path
        self.step = step
        self.action = action

    def error(self, field_name: str, problem: str, hint: str | None = None) -> ScriptError:
        place = self.path
        if self.step is not None:
            place += f": step {self.step}"
            if self.action:
                place += f" ({self.action})"
        return ScriptError(f"{place}: field {field_name!r}: {problem}", hint)


def expand(text: str, variables: Mapping[str, str], where: _Where, field_name: str) -> str:
    """Replace ``${NAME}`` by its value and ``$$`` by ``$``.

    Raises:
        ScriptError: a name is not set, a reference is not closed by ``}``, or a name is invalid.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "$":
            return "$"
        name = match.group(2)
        if name is None:
            raise where.error(
                field_name, f"'${{' without a closing '}}' in {text!r}", _REFERENCE_HINT
            )
        if not _VARIABLE_NAME.match(name):
            raise where.error(
                field_name, f"invalid variable name {name!r} in {text!r}", _REFERENCE_HINT
            )
        if name not in variables:
            raise where.error(
                field_name,
                f"variable ${{{name}}} is not set",
                f"export {name}=... or define it under 'variables:' in the scenario",
            )
        return variables[name]

    return _REFERENCE.sub(replace, text)


class _Variables(Mapping[str, str]):
    """Values for ``${NAME}``: the file's ``variables:`` over ``outer``, each expanded on first use.

    Expanding on first use lets a value refer to a variable defined later in the mapping, and
    finds a cycle such as ``{A: "${B}", B: "${A}"}`` instead of reporting ``B`` as unset.
    """

    def __init__(self, own: Mapping[Any, Any], outer: Mapping[str, str], path: str) -> None:
        self._own = {str(name): str(value) for name, value in own.items()}
        self._outer = outer
        self._path = path
        self._values: dict[str, str] = {}
        self._resolving: list[str] = []

    def __getitem__(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        if name not in self._own:
            return self._outer[name]
        if name in self._resolving:
            cycle = [*self._resolving[self._resolving.index(name) :], name]
            raise _Where(self._path).error(
                f"variables.{cycle[0]}",
                "the variables refer to each other in a cycle: "
                + " -> ".join(f"${{{item}}}" for item in cycle),
                "give one of them a value that does not refer back",
            )
        self._resolving.append(name)
        try:
            value = expand(self._own[name], self, _Where(self._path), f"variables.{name}")
        finally:
            self._resolving.pop()
        self._values[name] = value
        return value

    def expand_own(self) -> None:
        """Expand every variable of the file, so that an unset name or a cycle is reported even
        in a variable that no step uses."""
        for name in self._own:
            self[name]

    def __contains__(self, name: object) -> bool:
        return name in self._own or name in self._outer

    def __iter__(self) -> Iterator[str]:
        yield from self._own
        yield from (name for name in self._outer if name not in self._own)

    def __len__(self) -> int:
        return len(self._own) + sum(1 for name in self._outer if name not in self._own)


def parse_expectation(value: object, where: _Where, field_name: str = "expect") -> Expectation:
    """Parse ``250``, ``"2xx"``, ``"/regex/"`` or ``{code: 250, text: regex}``."""
    if isinstance(value, bool):
        raise where.error(field_name, f"expected a code, a class like 2xx or /regex/, got {value}")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        return _parse_expectation_text(value.strip(), where, field_name)
    if isinstance(value, dict):
        _check_keys(value, {"code", "text"}, where, field_name)
        code = (
            _parse_expectation_text(str(value["code"]), where, field_name)
            if "code" in value
            else None
        )
        pattern = _compile(str(value["text"]), where, field_name) if "text" in value else None
        return Expectation(
            code=code.code if code else None,
            code_class=code.code_class if code else None,
            pattern=pattern,
        )
    raise where.error(field_name, f"expected a code, a class like 2xx or /regex/, got {value!r}")


def _parse_expectation_text(text: str, where: _Where, field_name: str) -> Expectation:
    if _CODE.match(text):
        return Expectation(code=int(text))
    class_match = _CODE_CLASS.match(text)
    if class_match:
        return Expectation(code_class=int(class_match.group(1)))
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return Expectation(pattern=_compile(text[1:-1], where, field_name))
    raise where.error(
        field_name,
        f"invalid expectation {text!r}",
        "write a code such as 250, a class such as 2xx, or a regex between slashes such as /Ok/",
    )


def _compile(pattern: str, where: _Where, field_name: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise where.error(field_name, f"invalid regex {pattern!r}: {exc}") from None


def _check_keys(
    value: Mapping[Any, Any], allowed: set[str], where: _Where, field_name: str
) -> None:
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise where.error(
            f"{field_name}.{unknown[0]}",
            "unknown field",
            f"allowed fields: {', '.join(sorted(allowed))}",
        )


def load_scenario(path: str, variables: Mapping[str, str] | None = None) -> Scenario:
    """Read and validate a scenario file, expanding ``${VAR}`` in every string.

    Args:
        path: the YAML file.
        variables: values for ``${VAR}``; the environment when None. The file's own
            ``variables:`` mapping is added on top.

    Raises:
        ScriptError: the file cannot be read, is not UTF-8 or not YAML, or a step is invalid.
    """
    return read_scenario_file(path).build(os.environ if variables is None else variables)


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file parsed as YAML, with its top-level keys checked but not yet its steps.

    ``smtpconsole run`` reads the file's ``target`` first, builds the connection options from it,
    and then builds the steps with the variables that those options give (``${HOST}``,
    ``${SMTP_USERNAME}``).
    """

    path: str
    document: dict[str, Any]

    def target(self, variables: Mapping[str, str]) -> str | None:
        """Return the ``target`` key after ``${VAR}`` expansion, or None when the file has none."""
        value = self.document.get("target")
        if value is None:
            return None
        own = self._own_variables()
        return _parse_target(value, _Where(self.path), _Variables(own, variables, self.path))

    def security(self) -> Security | None:
        """Return the ``security`` key: plain, starttls, tls, or None when the file has none."""
        security = self.document.get("security")
        if security is None:
            return None
        for mode in SECURITY_MODES:
            if security == mode:
                return mode
        raise _Where(self.path).error(
            "security", f"invalid value {security!r}", "use plain, starttls or tls"
        )

    def build(self, variables: Mapping[str, str]) -> Scenario:
        """Check every step and expand its variables from the file's ``variables:`` over
        ``variables``."""
        return _build_scenario(self, _Variables(self._own_variables(), variables, self.path))

    def _own_variables(self) -> Mapping[Any, Any]:
        own = self.document.get("variables") or {}
        if not isinstance(own, dict):
            raise _Where(self.path).error("variables", "expected a mapping of NAME: value")
        return own


def read_scenario_file(path: str) -> ScenarioFile:
    """Read a scenario file as UTF-8 YAML and check its top-level keys.

    Raises:
        ScriptError: the file cannot be read, is not UTF-8 text, is not YAML, or has an unknown
            top-level key.
    """
    where = _Where(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ScriptError(
            f"cannot read scenario {path}: {exc.strerror or exc}", "check the path"
        ) from None
    try:
        text = decode_utf8(data)
    except TextFileError as exc:
        raise ScriptError(
            f"{path}: {exc.message}",
            "a scenario is a YAML text file in UTF-8: convert it, e.g. with "
            "'iconv -f ISO-8859-1 -t UTF-8', or check that this is the scenario file",
        ) from None
    document = _parse_yaml(path, text)
    if isinstance(document, list):
        document = {"steps": document}
    if not isinstance(document, dict):
        raise where.error("steps", "the file must be a mapping with a 'steps' list")
    _check_keys(document, _TOP_LEVEL_KEYS, where, "scenario")
    return ScenarioFile(path, document)


_YAML_HINT: Final = (
    "check the indentation and quoting there; quote a value that contains ': ' or ' #', or "
    "that starts with one of [ ] { } * & ! | > ' \" % @ `"
)


def _parse_yaml(path: str, text: str) -> Any:
    """Parse ``text`` with a safe loader; errors give the file, line and column (from 1)."""
    import yaml  # imported here so that `send`, which reads no YAML, does not load it

    try:
        return yaml.load(text, Loader=_unique_key_loader())  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else path
        problem = exc.problem or exc.context or "not valid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise ScriptError(f"{place}: invalid YAML: {problem}{context}", _YAML_HINT) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise ScriptError(
            f"{path}, line {line}, column {column}: invalid YAML: character "
            f"U+{exc.character:04X} is not allowed in YAML ({exc.reason})",
            "a scenario is a YAML text file; check that this is the scenario and not a binary file",
        ) from None
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path}: invalid YAML: {exc}", _YAML_HINT) from None


class TextFileError(Exception):
    """A file that cannot be read as UTF-8 text; ``message`` gives the reason without the file
    name."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 ``data``.

    Raises:
        TextFileError: ``data`` is not UTF-8; the message gives the first invalid byte, its line
            and column (from 1, counted in bytes) and its offset.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TextFileError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02X} at line {line}, column {column} "
            f"(byte offset {exc.start}) is not valid UTF-8"
        ) from None


def read_body_file(path: str) -> str:
    """Return the text of a body file (``send --body-file``, ``body_file`` in a data step).

    Raises:
        TextFileError: the file cannot be read or is not UTF-8; give ``BODY_FILE_HINT`` with it.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TextFileError(str(exc.strerror or exc)) from None
    return decode_utf8(data)


BODY_FILE_HINT: Final = (
    "give a UTF-8 text file as the body; to send a file's bytes unchanged, send it as the whole "
    "message instead (send --data-file FILE, or 'data: FILE' in a scenario)"
)


def _unique_key_loader() -> Any:
    """Return a SafeLoader subclass that rejects a key given twice in one mapping.

    PyYAML keeps the last value of a duplicate key, so ``{mail: a, mail: b}`` would silently drop
    a step's first value.
    """
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def _build_scenario(file: ScenarioFile, variables: _Variables) -> Scenario:
    path, document = file.path, file.document
    where = _Where(path)
    variables.expand_own()
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise where.error("steps", "missing or empty", "list the steps, e.g. '- send: NOOP'")
    quit_after_value = document.get("quit-after")
    quit_after = None
    if quit_after_value is not None:
        quit_after = parse_stage(str(quit_after_value))
        if quit_after is None:
            names = ", ".join([*STAGES, *STAGE_ALIASES])
            raise where.error(
                "quit-after", f"unknown stage {quit_after_value!r}", f"use one of {names}"
            )
    manual = document.get("manual")
    if manual is not None and not isinstance(manual, bool):
        raise where.error("manual", f"expected true or false, got {manual!r}")
    target = document.get("target")
    return Scenario(
        path=path,
        steps=tuple(parse_step(i, raw, path, variables) for i, raw in enumerate(steps, 1)),
        target=_parse_target(target, where, variables) if target is not None else None,
        security=file.security(),
        manual=manual,
        quit_after=quit_after,
        variables={str(name): str(value) for name, value in file._own_variables().items()},
    )


def _parse_target(value: Any, where: _Where, variables: Mapping[str, str]) -> str:
    """Check ``target:``: a string host, host:port or [v6addr]:port.

    A bare number such as ``5`` is rejected, because the system resolver reads it as the IPv4
    address 0.0.0.5; so is any host whose last label is numeric without being an IPv4 address.
    """
    from smtpconsole.options import parse_target

    hint = "write host, host:port or [v6addr]:port as a string, e.g. 127.0.0.1:2525"
    if not isinstance(value, str):
        raise where.error(
            "target", f"expected a string host[:port], got {type(value).__name__} {value!r}", hint
        )
    text = expand(value, variables, where, "target")
    try:
        # parse_target also rejects numeric names such as 5, which a resolver reads as 0.0.0.5.
        parse_target(text)
    except UsageError as exc:
        raise where.error("target", exc.message, hint) from None
    return text


def parse_step(number: int, raw: object, path: str, variables: Mapping[str, str]) -> Step:
    """Validate one step mapping and expand its variables."""
    where = _Where(path, number)
    if isinstance(raw, str) and raw in ("starttls", "quit"):
        raw = {raw: None}
    if not isinstance(raw, dict):
        raise where.error("step", f"expected a mapping such as '- send: NOOP', got {raw!r}")
    actions = [key for key in raw if key in ACTIONS and not (key == "expect" and len(raw) > 1)]
    if not actions:
        _raise_unknown_action(raw, where)
    if len(actions) != 1:
        raise where.error(
            "step",
            f"expected exactly one action, found {actions}",
            f"actions: {', '.join(ACTIONS)}",
        )
    action = str(actions[0])
    where.action = action
    _check_keys(raw, {action, "expect"}, where, "step")
    if action == "expect":
        return Step(number, action, None, parse_expectation(raw["expect"], where))
    if action in _NO_REPLY_ACTIONS and "expect" in raw:
        raise where.error(
            "expect",
            f"a {action} step gets no reply, so it has nothing to check",
            "put '- expect: ...' on a step of its own, after the step whose reply it checks",
        )
    expect = parse_expectation(raw["expect"], where) if "expect" in raw else None
    argument = _PARSERS[action](raw[action], where, variables)
    return Step(number, action, argument, expect)


def _raise_unknown_action(raw: Mapping[Any, Any], where: _Where) -> None:
    import difflib

    unknown = [str(key) for key in raw if key != "expect"]
    if not unknown:
        raise where.error("step", "no action", f"actions: {', '.join(ACTIONS)}")
    name = unknown[0]
    close = difflib.get_close_matches(name, ACTIONS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"actions: {', '.join(ACTIONS)}"
    raise where.error("step", f"unknown action {name!r}", hint)


_Parser = Callable[[Any, _Where, Mapping[str, str]], Any]
_NO_REPLY_ACTIONS: Final = ("pause",)
"""Actions that send nothing, so an ``expect`` next to them would check nothing."""
_LINE_BREAKS: Final = (("\r", "CR"), ("\n", "LF"), ("\0", "NUL"))
MAX_PAUSE_SECONDS: Final = 3600.0
"""Longest ``pause`` step; a longer wait is almost always a typo such as 1e9."""


def _check_line(text: str, where: _Where, field_name: str) -> str:
    """Reject CR, LF and NUL, which would end a command line early or corrupt it."""
    for char, label in _LINE_BREAKS:
        if char in text:
            raise where.error(
                field_name,
                f"contains {label}, which would split the line sent to the server",
                "write one command per step",
            )
    return text


def _scalar_text(value: Any, where: _Where, field_name: str, expected: str) -> str:
    """Return a YAML string value. Numbers, mappings and lists are rejected."""
    if not isinstance(value, str):
        raise where.error(
            field_name, f"expected {expected} as a string, got {type(value).__name__} {value!r}"
        )
    return value


def _parse_text(value: Any, where: _Where, variables: Mapping[str, str]) -> str:
    field_name = str(where.action)
    if value is None or isinstance(value, (dict, list)):
        raise where.error(field_name, f"expected a line of text, got {value!r}")
    if isinstance(value, bool):
        raise where.error(field_name, f"expected a line of text, got {value!r}", "quote it")
    text = expand(str(value), variables, where, field_name)
    return _check_line(text, where, field_name)


def _parse_optional_text(value: Any, where: _Where, variables: Mapping[str, str]) -> str | None:
    if value is None or value == {}:
        return None
    return _parse_text(value, where, variables)


def _parse_nothing(value: Any, where: _Where, variables: Mapping[str, str]) -> None:
    action = str(where.action)
    if value not in (None, {}, True):
        raise where.error(
            action,
            f"takes no value, got {value!r}",
            f"write '- {action}' with no value, or '- {action}: {{}}'",
        )


def _parse_ehlo(value: Any, where: _Where, variables: Mapping[str, str]) -> str | None:
    from smtpconsole.protocol import commands
    from smtpconsole.protocol.errors import LocalProtocolError

    name = _parse_optional_text(value, where, variables)
    if name is None:
        return None
    try:
        commands.ehlo(name)
    except LocalProtocolError as exc:
        raise where.error(
            "ehlo",
            exc.message,
            "give one domain name or address literal, such as client.example or [192.0.2.1]",
        ) from None
    return name


def _parse_addresses(value: Any, where: _Where, variables: Mapping[str, str]) -> tuple[str, ...]:
    field_name = str(where.action)
    items = value if isinstance(value, list) else [value]
    if not items:
        raise where.error(field_name, "expected an address or a list of them, got an empty list")
    addresses = []
    for item in items:
        text = _scalar_text(item, where, field_name, "an address")
        address = expand(text, variables, where, field_name)
        _check_address(address, where, field_name, allow_empty=False)
        addresses.append(address)
    return tuple(addresses)


def _parse_mail(value: Any, where: _Where, variables: Mapping[str, str]) -> str:
    if value is None:
        return ""
    address = expand(_scalar_text(value, where, "mail", "an address"), variables, where, "mail")
    _check_address(address, where, "mail", allow_empty=True)
    return address


def _check_address(address: str, where: _Where, field_name: str, *, allow_empty: bool) -> None:
    from smtpconsole.protocol import commands
    from smtpconsole.protocol.errors import LocalProtocolError

    try:
        if allow_empty:
            commands.mail(address)
        else:
            commands.rcpt(address)
    except LocalProtocolError as exc:
        raise where.error(field_name, exc.message) from None


def _parse_pause(value: Any, where: _Where, variables: Mapping[str, str]) -> float:
    problem = f"expected seconds as a number from 0 to {MAX_PAUSE_SECONDS:g}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise where.error("pause", problem)
    try:
        seconds = float(value)
    except ValueError:
        raise where.error("pause", problem) from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_PAUSE_SECONDS:
        raise where.error("pause", problem)
    return seconds


def _parse_auth(value: Any, where: _Where, variables: Mapping[str, str]) -> AuthSpec:
    if value in (None, {}, True):
        return AuthSpec()
    if isinstance(value, str):
        mechanism = expand(value, variables, where, "auth").upper()
        return AuthSpec(mechanism=_check_mechanism(mechanism, where, "auth"))
    if not isinstance(value, dict):
        raise where.error("auth", f"expected a mapping such as {{mechanism: PLAIN}}, got {value!r}")
    _check_keys(value, {"mechanism", "username", "password", "password_env"}, where, "auth")
    fields = {
        key: _check_line(
            expand(str(value[key]), variables, where, f"auth.{key}"), where, f"auth.{key}"
        )
        for key in ("mechanism", "username", "password", "password_env")
        if value.get(key) is not None
    }
    if "mechanism" in fields:
        fields["mechanism"] = _check_mechanism(fields["mechanism"].upper(), where, "auth.mechanism")
    return AuthSpec(**fields)


def _check_mechanism(name: str, where: _Where, field_name: str) -> str:
    from smtpconsole.protocol.sasl import SUPPORTED_MECHANISMS

    if name not in SUPPORTED_MECHANISMS:
        raise where.error(
            field_name,
            f"unknown SASL mechanism {name!r}",
            f"use one of {', '.join(SUPPORTED_MECHANISMS)}",
        )
    return name


_COMPOSER_KEYS: Final = {
    "from",
    "to",
    "cc",
    "subject",
    "body",
    "body_file",
    "attachments",
    "headers",
    "file",
    "raw",
}


def _parse_message(value: Any, where: _Where, variables: Mapping[str, str]) -> ComposerSpec:
    if value is None or value == {}:
        return ComposerSpec()
    if isinstance(value, str):
        path = expand(value, variables, where, str(where.action))
        return ComposerSpec(raw_file=_check_readable(path, where, str(where.action)))
    if not isinstance(value, dict):
        raise where.error(
            str(where.action), f"expected a composer mapping or a file, got {value!r}"
        )
    allowed = _COMPOSER_KEYS | {"chunk_size"} if where.action == "bdat" else _COMPOSER_KEYS
    _check_keys(value, allowed, where, str(where.action))
    _check_message_conflicts(value, where)

    def text(key: str) -> str | None:
        item = value.get(key)
        return None if item is None else expand(str(item), variables, where, f"data.{key}")

    def texts(key: str) -> tuple[str, ...]:
        item = value.get(key)
        if item is None:
            return ()
        items = item if isinstance(item, list) else [item]
        return tuple(expand(str(one), variables, where, f"data.{key}") for one in items)

    body = text("body") or ""
    body_file = text("body_file")
    if body_file is not None:
        try:
            body = read_body_file(body_file)
        except TextFileError as exc:
            raise where.error(
                "data.body_file", f"cannot read {body_file}: {exc.message}", BODY_FILE_HINT
            ) from None
    headers = value.get("headers") or {}
    if not isinstance(headers, dict):
        raise where.error("data.headers", "expected a mapping of Header-Name: value")
    raw_file = text("file")
    if raw_file is not None:
        _check_readable(raw_file, where, "data.file")
    for attachment in texts("attachments"):
        _check_readable(attachment, where, "data.attachments")
    for key in ("from", "subject"):
        item = text(key)
        if item is not None:
            _check_line(item, where, f"data.{key}")
    for key in ("to", "cc"):
        for item in texts(key):
            _check_line(item, where, f"data.{key}")
    return ComposerSpec(
        mail_from=text("from"),
        to=texts("to"),
        cc=texts("cc"),
        subject=text("subject"),
        body=body,
        attachments=texts("attachments"),
        headers=_parse_headers(headers, where, variables),
        raw_file=raw_file,
        raw=text("raw"),
        chunk_size=_parse_chunk_size(value.get("chunk_size"), where),
    )


_WHOLE_MESSAGE_KEYS: Final = ("raw", "file")
"""Keys that give the whole message, headers included, in place of the composer fields."""


def _check_message_conflicts(value: Mapping[Any, Any], where: _Where) -> None:
    """Reject keys that would be ignored: two sources of the body, or fields next to a whole
    message."""
    action = str(where.action)
    present = {str(key) for key, item in value.items() if item is not None}
    whole = [key for key in _WHOLE_MESSAGE_KEYS if key in present]
    if len(whole) > 1:
        raise where.error(
            action,
            "conflicting keys raw and file: each gives the whole message",
            "keep one of them",
        )
    if whole:
        ignored = sorted(present & (_COMPOSER_KEYS - set(_WHOLE_MESSAGE_KEYS)))
        if ignored:
            names = (
                ", ".join(ignored[:-1]) + " and " + ignored[-1] if len(ignored) > 1 else ignored[0]
            )
            raise where.error(
                action,
                f"conflicting keys: {whole[0]} gives the whole message, headers included, so "
                f"{names} would be ignored",
                f"remove {names}, or remove {whole[0]} to build the message from the fields",
            )
    if {"body", "body_file"} <= present:
        raise where.error(
            action,
            "conflicting keys body and body_file: each gives the body",
            "keep body for text written in the scenario, or body_file for a file",
        )


_HEADER_NAME: Final = re.compile(r"^[!-9;-~]+$")
"""RFC 5322 section 2.2: a field name is printable US-ASCII except the colon."""


def _parse_headers(
    headers: Mapping[Any, Any], where: _Where, variables: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    parsed = []
    for name, item in headers.items():
        field_name = f"data.headers.{name}"
        if not _HEADER_NAME.match(str(name)):
            raise where.error(
                field_name, "invalid header name", "use printable ASCII without spaces or ':'"
            )
        value = expand(str(item), variables, where, field_name)
        parsed.append((str(name), _check_line(value, where, field_name)))
    return tuple(parsed)


def _check_readable(path: str, where: _Where, field_name: str) -> str:
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        state = "not a readable file" if os.path.exists(path) else "not found"
        raise where.error(field_name, f"{path}: {state}", "check the path")
    return path


def _parse_chunk_size(value: Any, where: _Where) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise where.error(
            "bdat.chunk_size", f"expected octets as a whole number >= 1, got {value!r}"
        )
    return value


_PARSERS: Final[dict[str, _Parser]] = {
    "send": _parse_text,
    "ehlo": _parse_ehlo,
    "starttls": _parse_nothing,
    "quit": _parse_nothing,
    "auth": _parse_auth,
    "mail": _parse_mail,
    "rcpt": _parse_addresses,
    "data": _parse_message,
    "bdat": _parse_message,
    "pause": _parse_pause,
}
