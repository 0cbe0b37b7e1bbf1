"""The ``token`` and ``ses-password`` subcommands: SASL tokens and Amazon SES SMTP passwords.

Secrets are read from a hidden prompt, from the first line of standard input when it is not a
terminal, or from an environment variable, never from the command line. Results go to standard
output alone, so they can be piped; notes and warnings go to standard error.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import re
import sys
from typing import Any, Final

from smtpconsole.credentials import read_secret, secret_from_env
from smtpconsole.errors import UsageError
from smtpconsole.protocol.errors import LocalProtocolError
from smtpconsole.protocol.sasl import create_mechanism, encode_response

TOKEN_MECHANISMS: Final = ("plain", "login", "xoauth2")

SAME_AS_USER: Final = "\0same-as-user"
"""Value of ``--authzid`` given without a name: the authorization identity is the user."""

READ_FROM_STDIN: Final = "\0stdin"
"""Value of ``--check`` given without a password: the password is read like a secret."""

# Regions with an SES SMTP endpoint email-smtp.REGION.amazonaws.com: the list in AWS's SMTP
# credentials example script, plus regions with an SES endpoint in the AWS General Reference
# (us-west-1, af-south-1, ap-south-2, ap-southeast-3, ap-northeast-3).
# NOTE: a region AWS adds later is rejected until it is added here.
SES_SMTP_REGIONS: Final = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-south-1", "ap-south-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2", "eu-south-1",
    "eu-north-1", "sa-east-1", "us-gov-west-1", "us-gov-east-1",
)  # fmt: skip

# Fixed inputs of the SES SMTP password derivation (version 4), as AWS documents them.
_SES_DATE: Final = "11111111"
_SES_SERVICE: Final = "ses"
_SES_TERMINAL: Final = "aws4_request"
_SES_MESSAGE: Final = "SendRawEmail"
_SES_VERSION_4: Final = 0x04
_SES_VERSION_2: Final = 0x02
_SES_PASSWORD_OCTETS: Final = 33
"""One version byte and an HMAC-SHA256 digest."""

_SES_HOST: Final = re.compile(r"email-smtp(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com\.?", re.I)
_ACCESS_KEY_ID: Final = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}")


# --- Argument parsing ---------------------------------------------------------------------------


def add_token_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``token`` subcommand to an ``argparse`` subparsers object and return its parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "token",
        # Without this, "--password SECRET" would be taken as an abbreviation of --password-env.
        allow_abbrev=False,
        help="print a SASL token (base64) for AUTH PLAIN, LOGIN or XOAUTH2",
        description="Print the base64 token(s) to send after AUTH. The password or access token"
        " is read from a hidden prompt, standard input or --password-env, never from arguments.",
    )
    parser.add_argument(
        "mechanism", choices=TOKEN_MECHANISMS, type=str.lower, help="SASL mechanism of the token"
    )
    parser.add_argument("--user", required=True, help="user name (authentication identity)")
    parser.add_argument(
        "--authzid",
        nargs="?",
        const=SAME_AS_USER,
        default=None,
        metavar="NAME",
        help="PLAIN authorization identity; without NAME the user is repeated (user\\0user\\0pass)",
    )
    parser.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable containing the password or token",
    )
    parser.set_defaults(func=token_command)
    return parser


def add_ses_arguments(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``ses-password`` subcommand to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ses-password",
        allow_abbrev=False,
        help="derive the Amazon SES SMTP password from a secret access key on standard input",
        description="Derive the Amazon SES SMTP password (version 4) for one region from an IAM"
        " secret access key read from standard input or a hidden prompt, or check a password.",
    )
    parser.add_argument("--region", help=f"SES region, one of: {', '.join(SES_SMTP_REGIONS)}")
    parser.add_argument(
        "--check",
        nargs="?",
        const=READ_FROM_STDIN,
        metavar="PASSWORD",
        help="tell a version-4 SMTP password from a legacy one; without PASSWORD it is read"
        " from standard input, which keeps it out of the process list",
    )
    parser.add_argument(
        "--host", help="SMTP host to be used, to warn when it is not the region's endpoint"
    )
    parser.set_defaults(func=ses_password_command)
    return parser


# --- token --------------------------------------------------------------------------------------


def token_command(args: argparse.Namespace) -> int:
    """Print the base64 token(s) for ``args.mechanism`` and return the exit status 0.

    Raises:
        UsageError: the user is missing or a field contains NUL, CR or LF.
        CredentialError: the secret could not be read.
    """
    mechanism_name = str(args.mechanism).upper()
    user = getattr(args, "user", None)
    if not user:
        raise UsageError("missing --user", "give the user name, e.g. --user alice@example.com")
    secret_kind = "access token" if mechanism_name == "XOAUTH2" else "password"
    secret = _read_token_secret(getattr(args, "password_env", None), secret_kind)
    authzid = getattr(args, "authzid", None)
    if authzid == SAME_AS_USER:
        authzid = user
    if authzid is not None and mechanism_name != "PLAIN":
        _note(f"--authzid is ignored for {mechanism_name}")

    try:
        mechanism = create_mechanism(mechanism_name, username=user, secret=secret, authzid=authzid)
    except LocalProtocolError as error:
        raise UsageError(error.message) from None
    if mechanism_name == "LOGIN":
        _note("send AUTH LOGIN, then the first line after 334 Username, the second after Password")
        print(encode_response(user.encode("utf-8")))
        print(encode_response(secret.encode("utf-8")))
    else:
        initial = mechanism.initial_response() or b""
        _note(f"send it as: AUTH {mechanism_name} <token>")
        print(encode_response(initial, initial=True))
    _note("base64 is an encoding, not encryption: treat the token like the password")
    return 0


def _read_token_secret(password_env: str | None, secret_kind: str) -> str:
    if password_env:
        return secret_from_env(password_env)
    return read_secret(f"{secret_kind.capitalize()}: ")


def _note(text: str) -> None:
    print(text, file=sys.stderr)


# --- ses-password -------------------------------------------------------------------------------


def derive_ses_smtp_password(secret_access_key: str, region: str) -> str:
    """Return the version-4 Amazon SES SMTP password for ``secret_access_key`` in ``region``.

    The key is an HMAC-SHA256 chain keyed first by ``"AWS4" + secret`` over the fixed date
    ``11111111``, the region, ``ses``, ``aws4_request`` and ``SendRawEmail``. The digest gets the
    version byte 0x04 in front and is base64-encoded.

    Raises:
        UsageError: ``region`` has no SES SMTP endpoint.
    """
    check_ses_region(region)
    signature = ("AWS4" + secret_access_key).encode("utf-8")
    for message in (_SES_DATE, region, _SES_SERVICE, _SES_TERMINAL, _SES_MESSAGE):
        signature = hmac.new(signature, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(bytes([_SES_VERSION_4]) + signature).decode("ascii")


def check_ses_region(region: str) -> None:
    """Raise ``UsageError`` listing the valid regions when ``region`` has no SES SMTP endpoint."""
    if region not in SES_SMTP_REGIONS:
        raise UsageError(
            f"invalid region {region!r}: no Amazon SES SMTP endpoint",
            f"use one of: {', '.join(SES_SMTP_REGIONS)}",
        )


def ses_region_of_host(host: str) -> str | None:
    """Return the region in ``email-smtp.REGION.amazonaws.com``, or None for another host."""
    match = _SES_HOST.fullmatch(host.strip())
    return match.group(1).lower() if match else None


def ses_password_version(password: str) -> int:
    """Return the version byte of an SES SMTP password: 4 (current) or 2 (legacy).

    Raises:
        UsageError: the text is not base64 of 33 octets starting with 0x04 or 0x02.
    """
    try:
        decoded = base64.b64decode(password.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(
            "invalid SES SMTP password: not base64", "copy the whole password, 44 characters"
        ) from None
    if len(decoded) != _SES_PASSWORD_OCTETS or decoded[0] not in (_SES_VERSION_4, _SES_VERSION_2):
        raise UsageError(
            f"invalid SES SMTP password: {len(decoded)} octets starting with"
            f" 0x{decoded[:1].hex() or '00'}; expected 33 octets starting with 0x04 or 0x02",
            "an SES SMTP password is not the IAM secret access key; derive one with ses-password",
        )
    return decoded[0]


def ses_password_command(args: argparse.Namespace) -> int:
    """Derive or check an SES SMTP password; return 0, or 1 when ``--check`` finds a legacy one.

    Raises:
        UsageError: no or an invalid region, an access key ID given as the secret, or an invalid
            password to check.
        CredentialError: nothing could be read from standard input.
    """
    host = getattr(args, "host", None)
    region = getattr(args, "region", None) or (ses_region_of_host(host) if host else None)
    check = getattr(args, "check", None)
    if check is not None:
        if region:
            check_ses_region(region)
            _warn_on_host(region, host)
        return _check_password(check)
    if not region:
        raise UsageError("missing --region", f"use one of: {', '.join(SES_SMTP_REGIONS)}")
    check_ses_region(region)
    _warn_on_host(region, host)

    secret = read_secret("AWS secret access key: ").strip()
    if _ACCESS_KEY_ID.fullmatch(secret):
        raise UsageError(
            "this is an access key ID, not the secret access key",
            "give the 40-character secret access key that belongs to this access key ID",
        )
    if len(secret) != 40:
        _note(f"warning: secret access keys are 40 characters; this one has {len(secret)}")
    print(derive_ses_smtp_password(secret, region))
    _note(f"SMTP user name: the access key ID; server: email-smtp.{region}.amazonaws.com")
    return 0


def _check_password(check: str) -> int:
    if check == READ_FROM_STDIN:
        password = read_secret("SES SMTP password: ")
    else:
        _note("warning: a password on the command line is visible to other users; use stdin")
        password = check
    version = ses_password_version(password)
    if version == _SES_VERSION_4:
        print("version 4 SES SMTP password (current signing); valid for one region only")
        return 0
    print(
        "version 2 SES SMTP password (legacy signing): derive a version 4 password for your region"
    )
    return 1


def _warn_on_host(region: str, host: str | None) -> None:
    if not host:
        return
    host_region = ses_region_of_host(host)
    if host_region is None:
        _note(f"warning: {host} is not an SES SMTP endpoint (email-smtp.REGION.amazonaws.com)")
    elif host_region != region:
        _note(
            f"warning: the password for {region} will be rejected by {host} (region"
            f" {host_region}); use email-smtp.{region}.amazonaws.com or derive for {host_region}"
        )
