"""Responses to the 334 challenges that follow an AUTH line the user typed.

The builder's AUTH runs the whole exchange through ``Session.authenticate``. A typed AUTH does not:
the session sends it verbatim, and each 334 is offered to the user, who responds by typing or from
the profile. This module keeps the state of that exchange and builds each response line through
``protocol.sasl``; it sends nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from smtpconsole.protocol.dialogue import Dialogue
    from smtpconsole.protocol.replies import Reply
    from smtpconsole.protocol.sasl import SaslMechanism


@dataclass(frozen=True)
class ChallengeAnswer:
    """How to respond to one challenge: from the profile, typed text (sent in base64), base64
    typed as is, or cancel the exchange with ``*``."""

    kind: Literal["profile", "typed", "base64", "cancel"]
    text: str = ""


class TypedAuth:
    """The exchange started by the last typed AUTH line, and the challenge waiting for a response."""

    def __init__(self) -> None:
        self.mechanism_name = ""
        """Mechanism named on the typed AUTH line, such as ``LOGIN``; empty before one."""
        self.initial_response_sent = False
        """True when the typed AUTH line carried an initial response."""
        self.challenge: Reply | None = None
        """The 334 reply waiting for a response, or None."""
        self._mechanism: SaslMechanism | None = None

    def line_typed(self, text: str, dialogue: Dialogue) -> None:
        """Note a typed line; an AUTH command starts a new exchange."""
        from smtpconsole.protocol.commands import verb_of

        if dialogue.in_data or dialogue.awaiting_auth_response or verb_of(text) != "AUTH":
            return
        words = text.split()
        self.mechanism_name = words[1].upper() if len(words) > 1 else ""
        self.initial_response_sent = len(words) > 2
        self._mechanism = None

    def reply_received(self, reply: Reply, dialogue: Dialogue) -> bool:
        """Note a reply; return True when it is a challenge the user should respond to now."""
        if reply.code == 334 and dialogue.awaiting_auth_response and self.mechanism_name:
            self.challenge = reply
            return True
        self.challenge = None
        if reply.code != 334:
            self._mechanism = None
        return False

    def answer_line(
        self, answer: ChallengeAnswer, *, username: str, secret: Callable[[], str]
    ) -> str:
        """Return the line that answers the waiting challenge; ``secret`` is called only for a
        profile response.

        Raises:
            LocalProtocolError: no challenge is waiting, or a field is invalid.
            RemoteProtocolError: the challenge is not base64 or does not fit the mechanism.
            CredentialError: the profile's secret cannot be read.
        """
        from smtpconsole.protocol import sasl
        from smtpconsole.protocol.errors import LocalProtocolError

        challenge = self.challenge
        if challenge is None:
            raise LocalProtocolError("no AUTH challenge is waiting for a response")
        self.challenge = None
        if answer.kind == "cancel":
            self._mechanism = None
            return sasl.CANCEL_LINE
        if answer.kind == "typed":
            return sasl.encode_response(answer.text.encode("utf-8"))
        if answer.kind == "base64":
            return answer.text
        if self._mechanism is None:
            self._mechanism = sasl.create_mechanism(
                self.mechanism_name, username=username, secret=secret()
            )
            self._mechanism.initial_response_sent = self.initial_response_sent
        raw = self._mechanism.respond(sasl.decode_challenge(challenge.text))
        return sasl.encode_response(raw)
