"""Server profiles: finding and loading them, and the ``smtpconsole profiles`` command.

A profile is one YAML file. Profiles are searched in the folders of ``$SMTPCONSOLE_PROFILES``
(separated by ``os.pathsep``) and then in the user config folder, and the first match wins. The
model is in ``profiles_schema``, validation in ``profiles_parse`` and writing in ``profiles_store``.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from smtpconsole import locations
from smtpconsole.errors import ProfileError
from smtpconsole.options import ConnectOptions, ConsoleOptions, format_target
from smtpconsole.profiles_parse import parse_profile
from smtpconsole.profiles_schema import (
    AuthSettings,
    EnvelopeSettings,
    PasswordSource,
    Profile,
    ProfileOverrides,
    TimeoutSettings,
    TlsSettings,
)
from smtpconsole.profiles_store import (
    SaveResult,
    dump_profile,
    has_comments,
    save_profile,
    will_lose_comments,
)
from smtpconsole.profiles_yaml import (
    ProfileIssue,
    ProfileValidationError,
    did_you_mean,
    read_profile_text,
)

__all__ = [
    "PROFILES_ENV",
    "AuthSettings",
    "EnvelopeSettings",
    "PasswordSource",
    "Profile",
    "ProfileEntry",
    "ProfileIssue",
    "ProfileOverrides",
    "ProfileValidationError",
    "SaveResult",
    "SearchFolder",
    "TimeoutSettings",
    "TlsSettings",
    "add_profiles_arguments",
    "check_profile_file",
    "dump_profile",
    "find_profile_files",
    "has_comments",
    "load_profile",
    "load_profile_file",
    "password_source_of",
    "list_profiles",
    "profile_file_for",
    "profile_from_options",
    "profiles_command",
    "save_profile",
    "search_folders",
    "will_lose_comments",
]

ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)

PROFILES_ENV = "SMTPCONSOLE_PROFILES"
PROFILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SearchFolder:
    """One folder searched for profiles, and where it was configured."""

    path: Path
    source: str
    """``$SMTPCONSOLE_PROFILES`` or ``user config folder``."""


def search_folders() -> list[SearchFolder]:
    """Return the folders searched for profiles, in order; folders need not exist."""
    folders = [
        SearchFolder(Path(entry).expanduser().absolute(), f"${PROFILES_ENV}")
        for entry in os.environ.get(PROFILES_ENV, "").split(os.pathsep)
        if entry
    ]
    folders.append(SearchFolder(locations.profiles_dir(), "user config folder"))
    return folders


def find_profile_files(folder: Path) -> list[Path]:
    """Return the profile files of one folder, sorted; none when it is missing or unreadable."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    files = [
        entry
        for entry in entries
        if entry.suffix in PROFILE_SUFFIXES and not entry.name.startswith(".") and entry.is_file()
    ]
    return sorted(files)


def check_profile_file(path: Path) -> tuple[Profile | None, list[ProfileIssue]]:
    """Read and validate one profile file; return the profile or every issue found."""
    text, issues = read_profile_text(path)
    if text is None:
        return None, issues
    return parse_profile(text, path)


def load_profile_file(path: Path | str) -> Profile:
    """Load one profile file.

    Raises:
        ProfileValidationError: the file is missing, unreadable or invalid; lists every issue.
    """
    file = Path(path)
    profile, issues = check_profile_file(file)
    if profile is None:
        raise ProfileValidationError(file, issues)
    return profile


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile by path, by file name without ``.yaml``, or by its ``name:`` field.

    Text with a path separator or a ``.yaml``/``.yml`` suffix is a path. Otherwise each search
    folder is tried in order: first a file named ``NAME.yaml`` or ``NAME.yml``, then a valid
    profile whose ``name:`` is NAME.

    Raises:
        ProfileError: no profile has that name.
        ProfileValidationError: the file found is invalid.
    """
    text = str(name_or_path)
    if _looks_like_path(text):
        return load_profile_file(Path(text).expanduser())
    folders = search_folders()
    for folder in folders:
        files = find_profile_files(folder.path)
        for file in files:
            if file.stem == text:
                return load_profile_file(file)
        for file in files:
            profile, _ = check_profile_file(file)
            if profile is not None and profile.name == text:
                return profile
    raise _not_found(text, folders)


def _looks_like_path(text: str) -> bool:
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    return any(sep in text for sep in separators) or text.endswith(PROFILE_SUFFIXES)


def _not_found(name: str, folders: list[SearchFolder]) -> ProfileError:
    known = [_listing_name(file) for folder in folders for file in find_profile_files(folder.path)]
    searched = ", ".join(str(folder.path) for folder in folders)
    suggestion = did_you_mean(name, known)
    hint = f"did you mean {suggestion!r}? " if suggestion else ""
    hint += "Run `smtpconsole profiles list` to see the profiles found."
    return ProfileError(f"profile {name!r} not found in {searched}", hint)


def _listing_name(file: Path) -> str:
    profile, _ = check_profile_file(file)
    return profile.name if profile is not None else file.stem


# Listing and writing profiles for the front ends.


@dataclass(frozen=True)
class ProfileEntry:
    """One profile file found in a search folder: the profile, or the issues that make it invalid."""

    file: Path
    profile: Profile | None
    issues: tuple[ProfileIssue, ...] = ()
    shadowed: bool = False
    """True when an earlier file already has the same profile name, so ``load_profile`` skips it."""


def list_profiles() -> list[ProfileEntry]:
    """Read every profile file of every search folder, in search order.

    A file that cannot be read or is invalid becomes an entry with its issues, not an exception.
    """
    entries: list[ProfileEntry] = []
    seen: set[str] = set()
    for folder in search_folders():
        for file in find_profile_files(folder.path):
            profile, issues = check_profile_file(file)
            if profile is None:
                entries.append(ProfileEntry(file, None, tuple(issues)))
                continue
            entries.append(ProfileEntry(file, profile, shadowed=profile.name in seen))
            seen.add(profile.name)
    return entries


def profile_file_for(name: str) -> Path:
    """Return the file a profile named ``name`` is saved to.

    That is the file of the first valid profile with this name or file name, so saving replaces
    it. Otherwise it is ``NAME.yaml`` in the first search folder, which is the first folder of
    ``$SMTPCONSOLE_PROFILES`` when it is set and the user config folder when it is not.
    """
    for entry in list_profiles():
        if entry.profile is not None and name in (entry.profile.name, entry.file.stem):
            return entry.file
    return search_folders()[0].path / f"{name}.yaml"


def profile_from_options(
    options: ConsoleOptions, name: str, base: Profile | None = None
) -> Profile:
    """Build a profile from the options of a connection, keeping ``base``'s other fields.

    The password is kept only as its source: the environment variable, command or keyring
    service of ``options.auth``, or ``prompt`` when a user name is set without a source.
    Timeouts equal to the defaults of ``ConnectOptions`` are left out. File names are written as
    the options contain them, which is absolute when they came from a profile.
    """
    connect = options.connect
    auth = options.auth
    profile = base if base is not None else Profile(name=name, host=connect.host)
    defaults = ConnectOptions(host="", port=1)
    return replace(
        profile,
        name=name,
        host=connect.host,
        port=connect.port,
        security=connect.security,
        ehlo=connect.ehlo_name,
        auth=AuthSettings(
            mechanism=auth.mechanism.upper() if auth.mechanism else None,
            username=auth.username,
            password=password_source_of(options),
            authzid=auth.authzid,
        ),
        tls=TlsSettings(
            verify=connect.tls.verify,
            ca_file=connect.tls.ca_file,
            sni=connect.tls.sni,
            client_cert=connect.tls.client_cert,
            client_key=connect.tls.client_key,
            min_version=connect.tls.min_version,
        ),
        envelope=EnvelopeSettings(options.mail_from, options.rcpt_to),
        timeouts=TimeoutSettings(
            connect=_unless_default(connect.connect_timeout, defaults.connect_timeout),
            read=_unless_default(connect.read_timeout, defaults.read_timeout),
            keepalive=connect.keepalive,
        ),
    )


def password_source_of(options: ConsoleOptions) -> PasswordSource | None:
    """Return the source the options read the password from, or None when they name none."""
    auth = options.auth
    if auth.password_env:
        return PasswordSource("env", env=auth.password_env)
    if auth.password_command:
        return PasswordSource("command", command=auth.password_command)
    if auth.keyring_service:
        return PasswordSource("keyring", keyring=auth.keyring_service)
    if auth.username:
        return PasswordSource("prompt")
    return None


def _unless_default(value: float, default: float) -> float | None:
    return None if value == default else value


# The `smtpconsole profiles` command.


def add_profiles_arguments(subparsers: argparse._SubParsersAction[ParserT]) -> ParserT:
    """Add the ``profiles`` subcommand; its namespace gets ``handler=profiles_command``."""
    parser = subparsers.add_parser(
        "profiles",
        help="list, show and check server profiles",
        description=f"Server profiles are YAML files searched in ${PROFILES_ENV} "
        f"(folders separated by '{os.pathsep}'), then in the user config folder "
        f"({locations.profiles_dir()}).",
    )
    actions = parser.add_subparsers(dest="profiles_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the profiles found: name, host:port, security, file")
    show = actions.add_parser("show", help="print a profile as YAML; passwords show their source")
    show.add_argument("name", metavar="NAME", help="profile name, or path of a profile file")
    actions.add_parser("path", help="print the folders searched for profiles, in order")
    check = actions.add_parser("check", help="validate profile files and print every error")
    check.add_argument(
        "files",
        metavar="FILE",
        nargs="*",
        type=Path,
        help="profile files to check; every profile found when none is given",
    )
    parser.set_defaults(handler=profiles_command)
    return parser


def profiles_command(args: argparse.Namespace) -> int:
    """Run ``smtpconsole profiles ACTION``; return the exit status (0 success, 1 failure)."""
    action = args.profiles_action
    try:
        if action == "list":
            return _list_profiles()
        if action == "show":
            return _show_profile(args.name)
        if action == "path":
            return _print_search_path()
        if action == "check":
            return _check_profiles(list(args.files))
    except ProfileError as error:
        print(f"smtpconsole profiles {action}: {error}", file=sys.stderr)
        return 1
    raise ValueError(f"unknown profiles action {action!r}")


def _list_profiles() -> int:
    rows: list[tuple[str, str, str, str]] = []
    for entry in list_profiles():
        profile = entry.profile
        if profile is None:
            count = len(entry.issues)
            state = f"invalid: {count} error{'s' if count != 1 else ''}"
            rows.append((entry.file.stem, f"({state})", "", str(entry.file)))
            continue
        shadowed = " (shadowed)" if entry.shadowed else ""
        address = format_target(profile.host, profile.effective_port)
        rows.append((profile.name + shadowed, address, profile.security, str(entry.file)))
    if not rows:
        searched = ", ".join(str(folder.path) for folder in search_folders())
        print(f"no profiles found in {searched}")
        return 0
    _print_table([("NAME", "ADDRESS", "SECURITY", "FILE"), *rows])
    return 0


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def _show_profile(name: str) -> int:
    profile = load_profile(name)
    print(f"# file: {profile.path}")
    print(dump_profile(profile), end="")
    return 0


def _print_search_path() -> int:
    for folder in search_folders():
        state = "exists" if folder.path.is_dir() else "missing"
        print(f"{folder.path}  [{state}]  {folder.source}")
    return 0


def _check_profiles(files: list[Path]) -> int:
    if not files:
        files = [file for folder in search_folders() for file in find_profile_files(folder.path)]
        if not files:
            print("no profiles found; nothing to check")
            return 0
    error_count = 0
    for file in files:
        _, issues = check_profile_file(file)
        for issue in issues:
            print(issue.format())
        error_count += len(issues)
    checked = f"{len(files)} file{'s' if len(files) != 1 else ''} checked"
    if error_count:
        print(f"{checked}: {error_count} error{'s' if error_count != 1 else ''}")
        return 1
    print(f"{checked}: no errors")
    return 0
