"""Password and token lookup: environment variable, command, system keyring or hidden prompt.

A secret never comes from the command line, where other users can read it in the process list.
Error messages name the source (variable, command, keyring service) but never the secret.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from typing import TextIO

from smtpconsole.errors import CredentialError
from smtpconsole.options import AuthOptions

COMMAND_TIMEOUT_SECONDS = 30.0
"""How long a password command may run before it is stopped."""


def resolve_secret(auth: AuthOptions, *, prompt: bool) -> str | None:
    """Return the password or token from the first configured source, or None when there is none.

    Sources, in order: ``password_env``, ``password_command``, ``keyring_service``, then a hidden
    prompt when ``prompt`` is True and standard input is a terminal.

    Raises:
        CredentialError: a configured source failed (variable unset, command failed, keyring entry
            missing or keyring unavailable).
    """
    if auth.password_env:
        return secret_from_env(auth.password_env)
    if auth.password_command:
        return secret_from_command(auth.password_command)
    if auth.keyring_service:
        return secret_from_keyring(auth.keyring_service, auth.username or "")
    if prompt and sys.stdin.isatty():
        for_user = f" for {auth.username}" if auth.username else ""
        return prompt_hidden(f"Password{for_user}: ")
    return None


_PASSWORD_ENV_HINT = (
    "type the password and press Enter, or put it in an environment variable and give "
    "--password-env VARIABLE"
)


def prompt_hidden(prompt_text: str, hint: str = _PASSWORD_ENV_HINT) -> str:
    """Read a secret at a hidden terminal prompt; ``hint`` is given when the input ends.

    Raises:
        CredentialError: the input ended (Ctrl-D) before a line was entered.
    """
    import getpass

    try:
        return getpass.getpass(prompt_text)
    except EOFError:
        if sys.stderr.isatty():
            # End the prompt's line, so the error starts on a line of its own.
            sys.stderr.write("\n")
        raise CredentialError("no password entered (end of input)", hint) from None


def secret_from_env(variable: str) -> str:
    """Return the value of environment variable ``variable``.

    Raises:
        CredentialError: the variable is unset or empty.
    """
    value = os.environ.get(variable)
    if not value:
        state = "empty" if value == "" else "not set"
        raise CredentialError(
            f"environment variable {variable} is {state}",
            f"export {variable} with the password, or choose another password source",
        )
    return value


def secret_from_command(command: tuple[str, ...] | list[str]) -> str:
    """Run ``command`` without a shell and return its output with the line end removed.

    Only trailing CR and LF are removed, so a password may start or end with spaces.

    Raises:
        CredentialError: the command is missing, fails, times out or prints nothing.
    """
    if not command:
        raise CredentialError("password command is empty", "give the program and its arguments")
    command_text = " ".join(command)
    try:
        result = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise CredentialError(
            f"password command not found: {command[0]}", "check the program name and PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"password command timed out after {COMMAND_TIMEOUT_SECONDS:g} s: {command_text}"
        ) from None
    except OSError as error:
        raise CredentialError(
            f"password command failed to start: {command_text}: {error}"
        ) from None
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or ["no error output"]
        raise CredentialError(
            f"password command failed with exit status {result.returncode}: {command_text}:"
            f" {detail[0]}"
        )
    value = result.stdout.rstrip("\r\n")
    if not value:
        raise CredentialError(f"password command printed nothing: {command_text}")
    if "\n" in value or "\r" in value:
        raise CredentialError(
            f"password command printed several lines: {command_text}",
            "make it print only the password, for example by piping it through `head -1`",
        )
    return value


def secret_from_keyring(service: str, username: str) -> str:
    """Return the password stored in the system keyring under ``service`` and ``username``.

    Raises:
        CredentialError: the keyring package is not installed, no keyring backend is available, or
            no password is stored for this service and user.
    """
    try:
        # Imported by name because keyring is an optional extra that mypy may not see installed.
        keyring = importlib.import_module("keyring")
        keyring_errors = importlib.import_module("keyring.errors")
    except ImportError:
        raise CredentialError(
            "keyring support is not installed",
            "install it with: pip install 'smtpconsole[keyring]'",
        ) from None
    try:
        value = keyring.get_password(service, username)
    except keyring_errors.NoKeyringError:
        raise CredentialError(
            "no system keyring backend is available",
            "use password_env or password_command, or set up a keyring backend",
        ) from None
    except keyring_errors.KeyringError as error:
        raise CredentialError(f"keyring lookup failed for service {service!r}: {error}") from None
    if value is None:
        raise CredentialError(
            f"no password in the keyring for service {service!r} and user {username!r}",
            f"store one with: keyring set {service} {username}",
        )
    return str(value)


def read_secret(prompt_text: str, stdin: TextIO | None = None) -> str:
    """Read a secret: a hidden prompt on a terminal, else the first line of standard input.

    Raises:
        CredentialError: standard input is empty.
    """
    stream = stdin if stdin is not None else sys.stdin
    if stream.isatty():
        return prompt_hidden(
            prompt_text, "type it and press Enter, or pipe it to standard input instead"
        )
    line = stream.readline()
    value = line.rstrip("\r\n")
    if not value:
        raise CredentialError(
            "no secret on standard input", "pipe it in, e.g. from a password manager command"
        )
    return value
