"""aiosmtpd handlers for the script tests: PIPELINING on offer, and every envelope kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PipeliningHandler:
    """Adds PIPELINING to aiosmtpd's EHLO reply (aiosmtpd 1.4 does not offer it) and keeps mail."""

    messages: list[Any] = field(default_factory=list)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # aiosmtpd leaves setting the client name to a handle_EHLO hook.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 2.0.0 Message accepted"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"
