"""Reading profile YAML as marked nodes, and the issues found in it.

Profiles are parsed with PyYAML's ``SafeLoader``, the loader behind ``yaml.safe_load``, but kept as
nodes so that every error can give the line and column of the value at fault. Only the standard
YAML tags are accepted, so a tag such as ``!!python/object`` is reported before anything is
constructed. Aliases (``*name``) are rejected too, because a profile has no use for them and a chain
of nested aliases can make a small file expand without bound.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from smtpconsole.errors import ProfileError

MAX_PROFILE_BYTES = 1024 * 1024
"""Largest profile file read. The example profiles are under 2 KiB, so this only bounds memory."""


class _Position(Protocol):
    """A PyYAML mark: line and column, both from 0."""

    line: int
    column: int


_SAFE_TAGS = frozenset(tag for tag in yaml.SafeLoader.yaml_constructors if tag is not None)
_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_RESOLVED_TYPES: dict[str, type] = {
    _STANDARD_TAG_PREFIX + "int": int,
    _STANDARD_TAG_PREFIX + "float": float,
    _STANDARD_TAG_PREFIX + "bool": bool,
}


@dataclass(frozen=True)
class ProfileIssue:
    """One problem in a profile file, located by line and column (both from 1)."""

    file: Path | None
    line: int | None
    column: int | None
    field: str
    """Dotted path of the field at fault, e.g. ``auth.password``; empty for the whole file."""
    message: str
    hint: str | None = None

    def format(self) -> str:
        """Return the issue as ``FILE:LINE:COLUMN: FIELD: MESSAGE``, with the hint on a new line."""
        location = str(self.file) if self.file is not None else "<profile>"
        if self.line is not None:
            location += f":{self.line}:{self.column}"
        text = (
            f"{location}: {self.field}: {self.message}"
            if self.field
            else f"{location}: {self.message}"
        )
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ProfileValidationError(ProfileError):
    """A profile file with one or more issues; ``issues`` lists every one of them."""

    def __init__(self, file: Path | None, issues: Sequence[ProfileIssue]) -> None:
        self.file = file
        self.issues = tuple(issues)
        name = str(file) if file is not None else "profile"
        count = len(self.issues)
        lines = "\n".join(issue.format() for issue in self.issues)
        super().__init__(
            f"invalid profile {name}: {count} error{'s' if count != 1 else ''}\n{lines}",
            f"fix the lines above, then run `smtpconsole profiles check {name}`",
        )


def issue_at(
    file: Path | None, node: Node | None, field: str, message: str, hint: str | None = None
) -> ProfileIssue:
    """Return an issue located at the start of ``node``, or with no line when ``node`` is None."""
    if node is None:
        return ProfileIssue(file, None, None, field, message, hint)
    mark = node.start_mark
    return ProfileIssue(file, mark.line + 1, mark.column + 1, field, message, hint)


def read_profile_text(path: Path) -> tuple[str | None, list[ProfileIssue]]:
    """Read a profile file as UTF-8 text, or return why it cannot be read."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_PROFILE_BYTES + 1)
    except FileNotFoundError:
        return None, [ProfileIssue(path, None, None, "", "file not found")]
    except OSError as error:
        return None, [ProfileIssue(path, None, None, "", f"cannot read file: {error.strerror}")]
    if len(data) > MAX_PROFILE_BYTES:
        message = f"file is larger than {MAX_PROFILE_BYTES} bytes, too large for a profile"
        return None, [ProfileIssue(path, None, None, "", message)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = f"invalid UTF-8 at byte {error.start}"
        return None, [ProfileIssue(path, line, None, "", message, "save the file as UTF-8")]


def compose_profile(text: str, file: Path | None) -> tuple[Node | None, list[ProfileIssue]]:
    """Parse ``text`` into one YAML node tree, or return the syntax, tag or alias issues."""
    try:
        alias_issues = _find_aliases(text, file)
        if alias_issues:
            return None, alias_issues
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_issue(error, file)]
    except yaml.reader.ReaderError as error:
        return None, [_reader_issue(error, text, file)]
    return root, _find_unsafe_tags(root, file)


def _find_aliases(text: str, file: Path | None) -> list[ProfileIssue]:
    issues = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            issues.append(
                issue_at_mark(
                    file,
                    event.start_mark,
                    f"YAML alias *{event.anchor} is not supported in profiles",
                    "write the value out in full",
                )
            )
    return issues


def issue_at_mark(
    file: Path | None, mark: _Position | None, message: str, hint: str | None = None
) -> ProfileIssue:
    """Return a whole-file issue located at a PyYAML mark."""
    if mark is None:
        return ProfileIssue(file, None, None, "", message, hint)
    return ProfileIssue(file, mark.line + 1, mark.column + 1, "", message, hint)


def _syntax_issue(error: yaml.MarkedYAMLError, file: Path | None) -> ProfileIssue:
    problem = error.problem or "invalid YAML"
    if error.context:
        context_mark = error.context_mark
        where = f" (line {context_mark.line + 1})" if context_mark is not None else ""
        problem = f"{problem}, {error.context}{where}"
    mark = error.problem_mark or error.context_mark
    return issue_at_mark(file, mark, f"YAML syntax error: {problem}")


def _reader_issue(error: yaml.reader.ReaderError, text: str, file: Path | None) -> ProfileIssue:
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    message = f"character U+{error.character:04X} is not allowed in YAML"
    return ProfileIssue(file, line, column, "", message, "remove the control character")


def _find_unsafe_tags(root: Node | None, file: Path | None) -> list[ProfileIssue]:
    issues: list[ProfileIssue] = []
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop()
        if node.tag not in _SAFE_TAGS:
            issues.append(_tag_issue(node, file))
            continue
        if isinstance(node, MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
        elif isinstance(node, SequenceNode):
            pending.extend(node.value)
    issues.sort(key=lambda issue: (issue.line or 0, issue.column or 0))
    return issues


def _tag_issue(node: Node, file: Path | None) -> ProfileIssue:
    tag = str(node.tag)
    tag_text = (
        "!!" + tag.removeprefix(_STANDARD_TAG_PREFIX)
        if tag.startswith(_STANDARD_TAG_PREFIX)
        else tag
    )
    if tag.startswith(_STANDARD_TAG_PREFIX + "python/"):
        message = (
            f"tag {tag_text} is not allowed: profiles are loaded as plain data, never as objects"
        )
    else:
        message = f"unsupported YAML tag {tag_text}"
    hint = "remove the tag; a profile holds only mappings, lists, strings, numbers and booleans"
    return issue_at(file, node, "", message, hint)


def node_kind(node: Node) -> str:
    """Return the kind of a node as a user would call it: mapping, list or scalar."""
    if isinstance(node, MappingNode):
        return "mapping"
    if isinstance(node, SequenceNode):
        return "list"
    return "scalar"


def is_null(node: Node) -> bool:
    """Return True for an empty or ``null`` value, which leaves a field unset."""
    return isinstance(node, ScalarNode) and node.tag == _STANDARD_TAG_PREFIX + "null"


def is_quoted_value_of(node: Node | None, kind: type) -> bool:
    """Return True when a quoted scalar would be of type ``kind`` without its quotes.

    For example ``port: "587"`` is a string, but ``587`` unquoted is an int.
    """
    if not isinstance(node, ScalarNode) or node.style not in ("'", '"'):
        return False
    loader = yaml.SafeLoader("")
    try:
        # The PyYAML stubs leave Resolver.resolve untyped; it returns the tag as a str.
        resolve: Callable[[type[Node], str, tuple[bool, bool]], str] = loader.resolve
        tag = resolve(ScalarNode, node.value, (True, False))
    finally:
        loader.dispose()
    return _RESOLVED_TYPES.get(tag) is kind


def construct_scalar(node: ScalarNode) -> object:
    """Construct the Python value of a scalar node with PyYAML's safe constructor."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def did_you_mean(word: str, choices: Sequence[str]) -> str | None:
    """Return the closest of ``choices`` to a misspelt ``word``, or None when none is close."""
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return matches[0] if matches else None
