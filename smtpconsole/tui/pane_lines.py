"""Turn transcript events into coloured pane lines.

Imported on the first event rather than at start-up, because it pulls in the transcript, the
protocol core and the reply explanations. The text of every line comes from
``transcript.format_event`` after ``transcript.redact``, so the pane shows what an export shows.
"""

from __future__ import annotations

from smtpconsole import transcript
from smtpconsole.protocol import explain
from smtpconsole.protocol.commands import verb_of
from smtpconsole.tui.widgets.protocol_pane import PaneLine

EXPLAIN_PREFIX = "   ↳ "
"""Indent of the inline explanation written under each reply that is not a success."""


class EventFormatter:
    """Convert events to ``PaneLine`` records, remembering the last command for explanations."""

    def __init__(self, host: str | None = None) -> None:
        self.host = host
        self.last_verb: str | None = None

    def lines(self, event: transcript.Event) -> list[PaneLine]:
        """Return the display lines of ``event``, redacted, with an explanation under a failure."""
        redacted = transcript.redact(event)
        kind = self._kind(redacted)
        texts = transcript.format_event(redacted) or [""]
        latency = redacted.latency if isinstance(redacted, transcript.ReplyReceived) else None
        verb = self.last_verb if isinstance(redacted, transcript.ReplyReceived) else None
        result = [
            PaneLine(text, kind, redacted.at, latency if index == 0 else None, redacted, verb)
            for index, text in enumerate(texts)
        ]
        if isinstance(redacted, transcript.LineSent) and redacted.source == "data":
            self.last_verb = "DATA-END"
        elif isinstance(redacted, transcript.LineSent) and not redacted.secret:
            self.last_verb = verb_of(redacted.raw) or None
        elif isinstance(redacted, transcript.ReplyReceived) and not redacted.reply.is_success:
            result.append(self._explanation(redacted))
        return result

    def _explanation(self, event: transcript.ReplyReceived) -> PaneLine:
        found = explain.explain(event.reply, host=self.host, last_verb=self.last_verb)
        text = f"{EXPLAIN_PREFIX}{found.meaning} {found.action}".rstrip()
        return PaneLine(text, "explain", event.at, None, event, self.last_verb)

    @staticmethod
    def _kind(event: transcript.Event) -> str:
        if isinstance(event, transcript.LineSent):
            if event.secret:
                return "secret"
            return "data" if event.source == "data" else "sent"
        if isinstance(event, transcript.ReplyReceived):
            return f"reply-{min(max(event.reply.code_class, 2), 5)}"
        if isinstance(event, transcript.AdviceGiven):
            return f"advice-{event.advice.level}"
        kinds: dict[type[object], str] = {
            transcript.TlsStarted: "tls",
            transcript.TlsFailed: "closed",
            transcript.BytesDiscarded: "discarded",
            transcript.MalformedReply: "malformed",
            transcript.ConnectionClosed: "closed",
        }
        return kinds.get(type(event), "note")
