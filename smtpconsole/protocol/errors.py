"""Protocol errors of the sans-IO core, split by whose fault they are.

``LocalProtocolError`` means our side asked for something invalid (a field with CR or LF, a bad
parameter). ``RemoteProtocolError`` means the server's bytes do not parse as an SMTP reply.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class; raise one of the two subclasses instead."""

    def __init__(self, message: str) -> None:
        if type(self) is ProtocolError:
            raise TypeError("raise LocalProtocolError or RemoteProtocolError, not ProtocolError")
        super().__init__(message)
        self.message = message


class LocalProtocolError(ProtocolError):
    """Our line or field is invalid, so it was not sent."""

    def __init__(self, message: str, field: str | None = None, value: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class RemoteProtocolError(ProtocolError):
    """The server sent bytes that are not a valid reply; ``raw`` contains them (possibly cut)."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw
