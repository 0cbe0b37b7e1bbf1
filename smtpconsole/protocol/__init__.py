"""The sans-IO SMTP core: reply parsing, command building and the dialogue's phases.

This package contains no networking code and imports only the standard library. The session feeds
it received bytes and reports what it sent; front ends read its state, advice and suggestions.

The names below are imported on first use (PEP 562), so that importing one submodule, such as
``protocol.commands``, does not load the whole core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtpconsole.protocol.capabilities import Capabilities
    from smtpconsole.protocol.dialogue import Advice, Dialogue, Phase, SentLine, Suggestion
    from smtpconsole.protocol.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
    from smtpconsole.protocol.replies import CLOSED, NEED_DATA, Reply, ReplyParser

_SUBMODULE_OF: dict[str, str] = {
    "CLOSED": "replies",
    "NEED_DATA": "replies",
    "Advice": "dialogue",
    "Capabilities": "capabilities",
    "Dialogue": "dialogue",
    "LocalProtocolError": "errors",
    "Phase": "dialogue",
    "ProtocolError": "errors",
    "RemoteProtocolError": "errors",
    "Reply": "replies",
    "ReplyParser": "replies",
    "SentLine": "dialogue",
    "Suggestion": "dialogue",
}

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


def __getattr__(name: str) -> object:
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value
