"""Writing profiles: YAML without secrets, mode 0600, replaced atomically.

A profile holds only a password source (``env``, ``command``, ``keyring`` or ``prompt``), so no
password can reach the file. The new text goes to a temporary file in the same folder, which is
flushed to disk and then renamed over the old file with ``os.replace``. A crash at any point leaves
either the old file or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from smtpconsole.errors import ProfileError
from smtpconsole.locations import ensure_private_dir
from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_schema import PasswordSource, Profile
from smtpconsole.profiles_yaml import ProfileValidationError

FILE_MODE = 0o600
"""Mode of every profile file written: readable and writable by the owner only."""

HEADER = "# Written by smtpconsole: comments added to this file are lost when it saves again.\n"
"""First line of every file ``save_profile`` writes, which marks the file as machine-written."""


@dataclass(frozen=True)
class SaveResult:
    """Outcome of ``save_profile``: the file written, its backup and whether comments were lost."""

    path: Path
    """The file written."""
    backup: Path | None = None
    """Copy of the previous, hand-written file (``NAME.yaml.bak``); None when none was made."""
    comments_lost: bool = False
    """True when the previous file had comments, which the new file does not keep."""

    def describe(self) -> str:
        """Return one or two lines telling the user what was written and what was kept."""
        lines = [f"saved profile {self.path}"]
        if self.comments_lost and self.backup is not None:
            lines.append(f"comments of the old file are not kept; the old file is in {self.backup}")
        elif self.backup is not None:
            lines.append(f"the old file is in {self.backup}")
        return "\n".join(lines)


def profile_to_data(profile: Profile) -> dict[str, Any]:
    """Return the profile as plain data for YAML, leaving out unset and default fields."""
    data: dict[str, Any] = {"name": profile.name, "host": profile.host}
    data["port"] = profile.port
    data["security"] = profile.security
    data["ehlo"] = profile.ehlo

    auth = profile.auth
    data["auth"] = {
        "mechanism": auth.mechanism,
        "username": auth.username,
        "password": password_to_data(auth.password),
        "authzid": auth.authzid,
    }

    tls = profile.tls
    data["tls"] = {
        "verify": None if tls.verify else False,
        "ca_file": tls.ca_file,
        "sni": tls.sni,
        "client_cert": tls.client_cert,
        "client_key": tls.client_key,
        "min_version": tls.min_version,
    }

    data["envelope"] = {
        "mail_from": profile.envelope.mail_from,
        "rcpt_to": list(profile.envelope.rcpt_to) or None,
    }

    timeouts = profile.timeouts
    data["timeouts"] = {
        "connect": _seconds(timeouts.connect),
        "read": _seconds(timeouts.read),
        "keepalive": _seconds(timeouts.keepalive),
    }

    data["notes"] = profile.notes
    return _drop_unset(data)


def _seconds(value: float | None) -> float | int | None:
    # Whole seconds are written as integers, as people write them: 15, not 15.0.
    if value is not None and value.is_integer():
        return int(value)
    return value


def password_to_data(source: PasswordSource | None) -> object:
    """Return a password source as it is written in YAML: a reference, never a secret."""
    if source is None:
        return None
    if source.kind == "env":
        return {"env": source.env}
    if source.kind == "command":
        return {"command": list(source.command or ())}
    if source.kind == "keyring":
        return {"keyring": source.keyring}
    return "prompt"


def _drop_unset(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _drop_unset(value)
        if value is None or value == {}:
            continue
        result[key] = value
    return result


def dump_profile(profile: Profile) -> str:
    """Return the YAML text of a profile, with notes as a block literal when multi-line."""
    return yaml.dump(
        profile_to_data(profile),
        Dumper=_ProfileDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


class _ProfileDumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ProfileDumper.add_representer(str, _represent_str)


def save_profile(profile: Profile, path: Path | str) -> SaveResult:
    """Write ``profile`` to ``path`` atomically, with mode 0600.

    A symbolic link is followed, so the file it points to is replaced. When the old file was not
    written by smtpconsole (it lacks ``HEADER``), it is first copied to ``NAME.yaml.bak``, and the
    result reports whether its comments are lost.

    Raises:
        ProfileValidationError: the profile would not load back, so nothing is written.
        ProfileError: the folder or the file cannot be written; the old file is left as it was.
    """
    target = Path(os.path.realpath(path))
    text = HEADER + dump_profile(profile)
    _, issues = parse_profile(text, target)
    if issues:
        raise ProfileValidationError(target, issues)

    old_text = _read_existing(target)
    backup = None
    comments_lost = False
    try:
        ensure_private_dir(target.parent)
        if _is_hand_written(old_text):
            backup = _write_backup(target)
            comments_lost = has_comments(old_text or "")
        _replace_atomically(target, text.encode("utf-8"))
    except OSError as error:
        raise ProfileError(
            f"cannot write profile {target}: {error.strerror or error}",
            "check that the folder exists and is writable",
        ) from error
    return SaveResult(target, backup, comments_lost)


def will_lose_comments(path: Path | str) -> bool:
    """Return True when saving over ``path`` would drop comments of a hand-written file.

    A front end can call this before ``save_profile`` to warn the user.
    """
    old_text = _read_existing(Path(os.path.realpath(path)))
    return _is_hand_written(old_text) and has_comments(old_text or "")


def _is_hand_written(old_text: str | None) -> bool:
    return old_text is not None and not old_text.startswith(HEADER)


def _read_existing(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ProfileError(f"cannot read profile {path}: {error.strerror}") from error


def _write_backup(path: Path) -> Path:
    backup = path.with_name(path.name + ".bak")
    data = path.read_bytes()
    _replace_atomically(backup, data)
    shutil.copystat(path, backup)
    os.chmod(backup, FILE_MODE)
    return backup


def _replace_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), FILE_MODE)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk. Windows cannot open a folder
    # for fsync, so the step is skipped there.
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def has_comments(text: str) -> bool:
    """Return True when YAML ``text`` has a ``#`` comment anywhere.

    A ``#`` starts a comment at the start of a line or after white space (YAML 1.2 section 6.6),
    and never inside a quoted or plain scalar. Scalar spans come from PyYAML's scanner, so a ``#``
    inside ``"a # b"`` is not counted. Text the scanner rejects counts as commented, since its
    comments cannot be ruled out.
    """
    try:
        spans = list(_scalar_spans(text))
    except yaml.YAMLError:
        return True
    position = 0
    for line in text.splitlines(keepends=True):
        for offset, char in enumerate(line):
            index = position + offset
            if char != "#" or (offset > 0 and not line[offset - 1].isspace()):
                continue
            if not any(start <= index < end for start, end in spans):
                return True
        position += len(line)
    return False


def _scalar_spans(text: str) -> Iterator[tuple[int, int]]:
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.ScalarToken):
            yield token.start_mark.index, token.end_mark.index
