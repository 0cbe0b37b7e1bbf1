"""SASL client mechanisms for SMTP AUTH (RFC 4954): PLAIN, LOGIN, CRAM-MD5, XOAUTH2 and SCRAM.

Each mechanism turns raw challenges into raw responses. ``encode_response`` and
``decode_challenge`` do the base64 on the wire, and ``auth_line`` builds the AUTH command. Nothing
here does I/O, because the session sends each line and feeds each 334 challenge to ``respond``.

An exchange, as the session drives it::

    line, included = auth_line(mechanism)      # "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
    reply 334 <challenge>  ->  encode_response(mechanism.respond(decode_challenge(text)))
    reply 235              ->  mechanism.finish(None)   # SCRAM checks the server signature here
    at any 334             ->  mechanism.cancel()       # the line "*" ends the exchange (501)
"""

from __future__ import annotations

import abc
import base64
import binascii
import re
from typing import ClassVar, Final

from smtpconsole.protocol import commands
from smtpconsole.protocol.errors import LocalProtocolError, RemoteProtocolError

MAX_COMMAND_LINE_OCTETS: Final = 512
"""Maximum command line length in octets, CRLF included (RFC 5321 4.5.3.1.4, RFC 4954 section 4)."""

CANCEL_LINE: Final = "*"
"""The client line that cancels an exchange at a 334 challenge (RFC 4954 section 4)."""

MIN_SASL_RESPONSE_CHARS: Final = 8
"""Shortest base64 word that ``looks_like_sasl_response`` takes for a SASL response.

Shorter words are not, so that commands such as ``NOOP`` and short lines stay visible and
recallable. A base64 user name or password is rarely shorter.
"""


def looks_like_sasl_response(line: str | bytes) -> bool:
    """Tell whether ``line`` could be a SASL response, and so a secret, when sent as a line.

    That is one word, not a command verb, valid base64 (RFC 4648 alphabet and padding) of at
    least ``MIN_SASL_RESPONSE_CHARS`` characters. A password typed after a rejected AUTH (such as
    ``503 already authenticated``) goes out as a command, and this is how it is still recognised.
    """
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    words = text.split()
    if len(words) != 1 or len(words[0]) < MIN_SASL_RESPONSE_CHARS:
        return False
    if commands.verb_of(text) in commands.KNOWN_VERBS:
        return False
    try:
        base64.b64decode(words[0], validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


class SaslMechanism(abc.ABC):
    """One client side of one SASL exchange; create a new object for each AUTH attempt."""

    name: ClassVar[str]
    """The mechanism name as sent after AUTH, such as ``PLAIN``."""

    def __init__(self) -> None:
        self.cancelled = False
        """True after ``cancel``, after which the mechanism responds to no more challenges."""
        self.initial_response_sent = False
        """True once the initial response went out, on the AUTH line or after an empty 334."""

    def initial_response(self) -> bytes | None:
        """Return the raw initial response (RFC 4954 section 4), or None for mechanisms without one.

        Calling this does not change state; ``auth_line`` records whether the response was sent.
        """
        return None

    def respond(self, challenge: bytes) -> bytes:
        """Return the raw response to one decoded 334 challenge.

        An empty challenge while the initial response is still unsent is a request for that
        response (RFC 4954 section 4), so it is sent then.

        Raises:
            RemoteProtocolError: the challenge does not fit this mechanism at this step. The caller
                should then cancel with ``CANCEL_LINE``.
        """
        if self.cancelled:
            raise LocalProtocolError(f"the {self.name} exchange was cancelled", field="mechanism")
        initial = self.initial_response()
        if not self.initial_response_sent and initial is not None and challenge == b"":
            self.initial_response_sent = True
            return initial
        return self._answer(challenge)

    @abc.abstractmethod
    def _answer(self, challenge: bytes) -> bytes:
        """Return the response to a challenge that is not a request for the initial response."""

    def finish(self, data: bytes | None) -> None:
        """Check the end of a successful exchange (235); ``data`` is any final server data.

        Raises:
            RemoteProtocolError: the server did not prove what the mechanism requires (SCRAM).
        """
        # Only SCRAM has something to check after 235.
        return None

    def cancel(self) -> str:
        """Mark the exchange cancelled and return the line that cancels it (``*``)."""
        self.cancelled = True
        return CANCEL_LINE


def _check_field(field: str, value: str) -> None:
    # NUL separates PLAIN's fields, and CR or LF would end the command line early.
    for char, label in (("\0", "NUL"), ("\r", "CR"), ("\n", "LF")):
        if char in value:
            raise LocalProtocolError(f"invalid {field}: contains {label}", field=field, value=value)


def _unexpected(mechanism: str, challenge: bytes) -> RemoteProtocolError:
    challenge_text = challenge.decode("utf-8", errors="backslashreplace")
    return RemoteProtocolError(
        f"unexpected {mechanism} challenge {challenge_text!r}: the exchange has no further step",
        challenge,
    )


class PlainMechanism(SaslMechanism):
    """PLAIN (RFC 4616): ``authzid NUL authcid NUL password`` in one response."""

    name = "PLAIN"

    def __init__(self, username: str, password: str, authzid: str | None = None) -> None:
        super().__init__()
        for field, value in (("username", username), ("password", password)):
            _check_field(field, value)
        if authzid is not None:
            _check_field("authzid", authzid)
        self._message = "\0".join((authzid or "", username, password)).encode("utf-8")

    def initial_response(self) -> bytes:
        return self._message

    def _answer(self, challenge: bytes) -> bytes:
        raise _unexpected(self.name, challenge)


class LoginMechanism(SaslMechanism):
    """LOGIN (draft-murchison-sasl-login): the username, then the password, each on request.

    Servers word the prompts differently (``Username:``, ``username:``, ``User Name\\0``,
    ``Password:``), so the prompt is matched by its words, case and a trailing NUL ignored. A prompt
    with neither word gets the username first, then the password. With ``send_username_first``
    the username goes on the AUTH line (``AUTH LOGIN <base64 user>``), which many servers accept.
    """

    name = "LOGIN"

    def __init__(self, username: str, password: str, send_username_first: bool = False) -> None:
        super().__init__()
        _check_field("username", username)
        _check_field("password", password)
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")
        self._send_username_first = send_username_first
        self._username_sent = False
        self._password_sent = False

    def initial_response(self) -> bytes | None:
        return self._username if self._send_username_first else None

    def respond(self, challenge: bytes) -> bytes:
        # An empty LOGIN prompt is not a request for the initial response, so it is handled like
        # any unrecognised prompt: the username first, then the password.
        if self.cancelled:
            raise LocalProtocolError("the LOGIN exchange was cancelled", field="mechanism")
        return self._answer(challenge)

    def _answer(self, challenge: bytes) -> bytes:
        kind = _login_prompt_kind(challenge)
        username_sent = self.initial_response_sent or self._username_sent
        if kind is None:
            kind = "password" if username_sent else "username"
        if self._password_sent:
            raise _unexpected(self.name, challenge)
        if kind == "username":
            # Sent again on a second request, because a server that ignored the initial response
            # requests the username again.
            self._username_sent = True
            return self._username
        self._password_sent = True
        return self._password


def _login_prompt_kind(challenge: bytes) -> str | None:
    words = re.sub(rb"[^a-z]", b"", challenge.lower())
    if words in (b"username", b"user", b"login"):
        return "username"
    if words in (b"password", b"pass"):
        return "password"
    return None


class CramMd5Mechanism(SaslMechanism):
    """CRAM-MD5 (RFC 2195): ``username SP hex(HMAC-MD5(password, challenge))``."""

    name = "CRAM-MD5"

    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        _check_field("username", username)
        _check_field("password", password)
        self._username = username.encode("utf-8")
        self._password = password.encode("utf-8")
        self._answered = False

    def _answer(self, challenge: bytes) -> bytes:
        import hashlib
        import hmac

        if not challenge:
            raise RemoteProtocolError("empty CRAM-MD5 challenge: the server sent no timestamp")
        if self._answered:
            raise _unexpected(self.name, challenge)
        self._answered = True
        digest = hmac.new(self._password, challenge, hashlib.md5).hexdigest()
        return self._username + b" " + digest.encode("ascii")


class XOAuth2Mechanism(SaslMechanism):
    """XOAUTH2 (Google and Microsoft): ``user=U^Aauth=Bearer TOKEN^A^A`` as the initial response.

    When the token is rejected the server sends a 334 whose challenge is a JSON error. The client
    must respond with an empty line, and the server then sends the final error reply.
    """

    name = "XOAUTH2"

    def __init__(self, username: str, access_token: str) -> None:
        super().__init__()
        _check_field("username", username)
        _check_field("access token", access_token)
        self._message = f"user={username}\x01auth=Bearer {access_token}\x01\x01".encode()
        self.error: dict[str, object] | None = None
        """The decoded JSON error from the server's 334, such as ``{"status": "400"}``."""
        self.error_text: str | None = None
        """The error challenge as text, kept also when it is not JSON."""

    def initial_response(self) -> bytes:
        return self._message

    def _answer(self, challenge: bytes) -> bytes:
        import json

        self.error_text = challenge.decode("utf-8", errors="backslashreplace")
        try:
            decoded = json.loads(challenge)
        except ValueError:
            decoded = None
        self.error = decoded if isinstance(decoded, dict) else None
        return b""


class ScramMechanism(SaslMechanism):
    """SCRAM (RFC 5802) without channel binding; the server signature is checked in ``finish``."""

    name: ClassVar[str] = "SCRAM"
    hash_name: ClassVar[str]

    def __init__(
        self, username: str, password: str, authzid: str | None = None, nonce: str | None = None
    ) -> None:
        import secrets

        super().__init__()
        _check_field("username", username)
        _check_field("password", password)
        self._password = saslprep(password, field="password").encode("utf-8")
        self._nonce = nonce or secrets.token_urlsafe(24)
        if "," in self._nonce or not self._nonce.isprintable():
            raise LocalProtocolError("invalid nonce: contains ',' or a non-printable character")
        authz = f"a={_scram_name(authzid)}" if authzid else ""
        self._gs2_header = f"n,{authz},"
        self._client_first_bare = f"n={_scram_name(username)},r={self._nonce}"
        self._auth_message: bytes | None = None
        self._server_key: bytes | None = None
        self.server_verified = False
        """True once the server signature (``v=``) matched."""

    def initial_response(self) -> bytes:
        return (self._gs2_header + self._client_first_bare).encode("utf-8")

    def _digest(self, key: bytes, message: bytes) -> bytes:
        import hmac

        return hmac.new(key, message, self.hash_name).digest()

    def _answer(self, challenge: bytes) -> bytes:
        if self._auth_message is None:
            return self._client_final(challenge)
        self._check_server_final(challenge)
        return b""

    def _client_final(self, server_first: bytes) -> bytes:
        import hashlib

        attributes = _scram_attributes(server_first, self.name)
        nonce, salt_text, iterations_text = (attributes.get(key) for key in ("r", "s", "i"))
        if "m" in attributes:
            raise RemoteProtocolError(f"{self.name}: unsupported mandatory extension", server_first)
        if nonce is None or salt_text is None or iterations_text is None:
            raise RemoteProtocolError(
                f"{self.name}: server-first-message lacks r, s or i", server_first
            )
        if not nonce.startswith(self._nonce) or nonce == self._nonce:
            raise RemoteProtocolError(
                f"{self.name}: the server nonce does not extend ours", server_first
            )
        if not iterations_text.isdigit() or int(iterations_text) < 1:
            raise RemoteProtocolError(f"{self.name}: invalid iteration count", server_first)
        salt = _b64decode_strict(salt_text, f"{self.name} salt", server_first)

        # RFC 5802 section 3: SaltedPassword, ClientKey, StoredKey, AuthMessage, ClientProof.
        salted = hashlib.pbkdf2_hmac(self.hash_name, self._password, salt, int(iterations_text))
        client_key = self._digest(salted, b"Client Key")
        stored_key = hashlib.new(self.hash_name, client_key).digest()
        channel_binding = base64.b64encode(self._gs2_header.encode("utf-8")).decode("ascii")
        without_proof = f"c={channel_binding},r={nonce}"
        auth_message = ",".join(
            (self._client_first_bare, server_first.decode("utf-8"), without_proof)
        ).encode("utf-8")
        client_signature = self._digest(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature, strict=True))
        self._auth_message = auth_message
        self._server_key = self._digest(salted, b"Server Key")
        return f"{without_proof},p={base64.b64encode(proof).decode('ascii')}".encode()

    def _check_server_final(self, server_final: bytes) -> None:
        import hmac

        if self.server_verified:
            raise _unexpected(self.name, server_final)
        attributes = _scram_attributes(server_final, self.name)
        if "e" in attributes:
            raise RemoteProtocolError(
                f"{self.name}: server error {attributes['e']!r}", server_final
            )
        verifier = attributes.get("v")
        if verifier is None or self._server_key is None or self._auth_message is None:
            raise RemoteProtocolError(f"{self.name}: server-final-message lacks v", server_final)
        expected = self._digest(self._server_key, self._auth_message)
        received = _b64decode_strict(verifier, f"{self.name} server signature", server_final)
        if not hmac.compare_digest(expected, received):
            raise RemoteProtocolError(
                f"{self.name}: the server signature is wrong, so the server does not know the"
                " password; do not trust this server",
                server_final,
            )
        self.server_verified = True

    def finish(self, data: bytes | None) -> None:
        if data:
            self._check_server_final(data)
        if not self.server_verified:
            raise RemoteProtocolError(
                f"{self.name}: the server accepted us without proving that it knows the password"
            )


class ScramSha1Mechanism(ScramMechanism):
    name = "SCRAM-SHA-1"
    hash_name = "sha1"


class ScramSha256Mechanism(ScramMechanism):
    name = "SCRAM-SHA-256"
    hash_name = "sha256"


def _scram_name(name: str) -> str:
    # RFC 5802 section 5.1: saslname escapes "=" as "=3D" and "," as "=2C".
    prepared = saslprep(name, field="username")
    return prepared.replace("=", "=3D").replace(",", "=2C")


def _scram_attributes(message: bytes, mechanism: str) -> dict[str, str]:
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError(f"{mechanism}: message is not UTF-8", message) from None
    attributes: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise RemoteProtocolError(f"{mechanism}: invalid attribute {part!r}", message)
        attributes.setdefault(key, value)
    return attributes


def _b64decode_strict(text: str, what: str, raw: bytes) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RemoteProtocolError(f"invalid {what}: not base64: {text!r}", raw) from None


def saslprep(text: str, *, field: str = "string") -> str:
    """Prepare a username or password with SASLprep (RFC 4013) for SCRAM.

    ASCII text only has control characters rejected. Other text is mapped (non-ASCII spaces to
    space, characters "mapped to nothing" removed), normalised with NFKC and checked against the
    prohibited tables and the bidirectional rule of RFC 3454 section 6.

    Raises:
        LocalProtocolError: the text contains a prohibited character.
    """
    if text.isascii():
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
            raise LocalProtocolError(f"invalid {field}: contains a control character", field=field)
        return text
    # Imported here: the tables take a few milliseconds to load, and most secrets are ASCII.
    import stringprep
    import unicodedata

    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char
        for char in text
        if not stringprep.in_table_b1(char)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    for char in prepared:
        if _is_prohibited(char):
            raise LocalProtocolError(
                f"invalid {field}: character U+{ord(char):04X} is prohibited by SASLprep",
                field=field,
            )
    _check_bidi(prepared, field)
    return prepared


def _is_prohibited(char: str) -> bool:
    import stringprep

    tables = (
        stringprep.in_table_c12,
        stringprep.in_table_c21,
        stringprep.in_table_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
        stringprep.in_table_a1,
    )
    return any(table(char) for table in tables)


def _check_bidi(text: str, field: str) -> None:
    # RFC 3454 section 6: text with right-to-left characters must not mix in left-to-right ones
    # and must start and end with a right-to-left character.
    import stringprep

    if not any(stringprep.in_table_d1(char) for char in text):
        return
    if any(stringprep.in_table_d2(char) for char in text) or not (
        stringprep.in_table_d1(text[0]) and stringprep.in_table_d1(text[-1])
    ):
        raise LocalProtocolError(
            f"invalid {field}: mixes right-to-left and left-to-right text", field=field
        )


SUPPORTED_MECHANISMS: Final = (
    "PLAIN",
    "LOGIN",
    "CRAM-MD5",
    "XOAUTH2",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
)

# Preference order of ``preferred_mechanism``. SCRAM makes the server prove that it has the
# password. PLAIN and LOGIN are the best supported. CRAM-MD5 comes last, because it needs the
# password stored in clear on the server and often fails for that reason.
_PREFERENCE: Final = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN", "CRAM-MD5")


def preferred_mechanism(offered: tuple[str, ...] | list[str], *, oauth: bool = False) -> str | None:
    """Return the mechanism to use from those a server offers, or None when none is supported.

    XOAUTH2 is chosen only when ``oauth`` is True, because it takes an access token, not a password.
    """
    offered_upper = {name.upper() for name in offered}
    if oauth:
        return "XOAUTH2" if "XOAUTH2" in offered_upper else None
    return next((name for name in _PREFERENCE if name in offered_upper), None)


def create_mechanism(
    name: str,
    *,
    username: str,
    secret: str,
    authzid: str | None = None,
    login_initial_response: bool = False,
) -> SaslMechanism:
    """Return a new mechanism object for ``name`` (case-insensitive).

    Args:
        name: PLAIN, LOGIN, CRAM-MD5, XOAUTH2, SCRAM-SHA-1 or SCRAM-SHA-256.
        username: the authentication identity.
        secret: the password, or the OAuth 2.0 access token for XOAUTH2.
        authzid: authorization identity for PLAIN and SCRAM; ignored by the others.
        login_initial_response: for LOGIN, send the username on the AUTH line.

    Raises:
        LocalProtocolError: the mechanism is not supported or a field contains NUL, CR or LF.
    """
    key = name.strip().upper()
    if key == "PLAIN":
        return PlainMechanism(username, secret, authzid)
    if key == "LOGIN":
        return LoginMechanism(username, secret, send_username_first=login_initial_response)
    if key == "CRAM-MD5":
        return CramMd5Mechanism(username, secret)
    if key == "XOAUTH2":
        return XOAuth2Mechanism(username, secret)
    if key == "SCRAM-SHA-1":
        return ScramSha1Mechanism(username, secret, authzid)
    if key == "SCRAM-SHA-256":
        return ScramSha256Mechanism(username, secret, authzid)
    raise LocalProtocolError(
        f"unsupported SASL mechanism {name!r}; supported: {', '.join(SUPPORTED_MECHANISMS)}",
        field="mechanism",
        value=name,
    )


def encode_response(raw: bytes, *, initial: bool = False) -> str:
    """Return ``raw`` in base64 for the wire.

    An empty initial response is sent as ``=`` and an empty reply to a challenge as an empty line
    (RFC 4954 section 4).
    """
    if not raw:
        return "=" if initial else ""
    return base64.b64encode(raw).decode("ascii")


def decode_challenge(text: str) -> bytes:
    """Decode the text of a 334 reply into the raw challenge; an empty text gives ``b""``.

    Missing ``=`` padding is accepted because some servers omit it.

    Raises:
        RemoteProtocolError: the text is not base64; the message shows the text.
    """
    stripped = text.strip()
    if not stripped:
        return b""
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise RemoteProtocolError(
            f"invalid 334 challenge: not base64: {stripped!r}", stripped.encode("utf-8")
        ) from None


def auth_line(mechanism: SaslMechanism) -> tuple[str, bool]:
    """Return the AUTH command line (without CRLF) and whether it carries the initial response.

    The initial response goes on the line only when the whole line, CRLF included, fits in 512
    octets (RFC 4954 section 4). Otherwise the line is ``AUTH NAME`` and the response follows the
    server's empty 334. Records on ``mechanism`` whether the response was sent.
    """
    initial = mechanism.initial_response()
    if initial is None:
        return commands.auth(mechanism.name), False
    line = commands.auth(mechanism.name, encode_response(initial, initial=True))
    if len(line) + 2 > MAX_COMMAND_LINE_OCTETS:
        return commands.auth(mechanism.name), False
    mechanism.initial_response_sent = True
    return line, True
