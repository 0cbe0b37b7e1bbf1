"""The sans-IO SMTP core: reply parsing, command building and the dialogue's phases.

This package contains no networking code and imports only the standard library. The session feeds
it received bytes and reports what it sent; front ends read its state, advice and suggestions.
"""

from smtpconsole.protocol.capabilities import Capabilities
from smtpconsole.protocol.dialogue import Advice, Dialogue, Phase, SentLine, Suggestion
from smtpconsole.protocol.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from smtpconsole.protocol.replies import CLOSED, NEED_DATA, Reply, ReplyParser

__all__ = [
    "CLOSED",
    "NEED_DATA",
    "Advice",
    "Capabilities",
    "Dialogue",
    "LocalProtocolError",
    "Phase",
    "ProtocolError",
    "RemoteProtocolError",
    "Reply",
    "ReplyParser",
    "SentLine",
    "Suggestion",
]
