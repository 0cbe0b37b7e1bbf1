"""The explanation panel: what the selected (or last) reply means and what to do next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from smtpconsole.tui import help_text

if TYPE_CHECKING:
    from smtpconsole.protocol.explain import Explanation
    from smtpconsole.protocol.replies import Reply

EMPTY_TEXT = "No reply yet. The meaning of the selected or last reply shows here."


class ExplanationPanel(Static):
    """Code, enhanced status code, meaning and next step of one reply, from ``explain.explain``."""

    HELP = help_text.EXPLANATION_HELP

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(EMPTY_TEXT, id=id)
        self.reply: Reply | None = None
        """The reply explained, or None before the first one."""

    def on_mount(self) -> None:
        self.border_title = "Last reply"

    def show_reply(
        self,
        reply: Reply,
        *,
        host: str | None = None,
        last_verb: str | None = None,
        selected: bool = False,
    ) -> None:
        """Explain ``reply``; ``selected`` is True when it was picked in the pane, not the last one."""
        from smtpconsole.protocol.explain import explain

        self.reply = reply
        self.border_title = "Selected reply" if selected else "Last reply"
        self.update(self.render_explanation(reply, explain(reply, host=host, last_verb=last_verb)))

    @staticmethod
    def render_explanation(reply: Reply, found: Explanation) -> Text:
        """Return the panel text for ``reply`` and its explanation."""
        style = {2: "green", 3: "cyan", 4: "yellow", 5: "red"}.get(reply.code_class, "")
        text = Text()
        text.append(f"{found.code}", style=f"bold {style}")
        if found.enhanced_status:
            text.append(f" {found.enhanced_status}", style=style)
        first_line = reply.lines[0] if reply.lines else ""
        text.append(f"  {first_line}\n", style="dim")
        text.append("Meaning: ", style="bold")
        text.append(f"{found.meaning}\n")
        if found.enhanced_meaning:
            text.append("Status: ", style="bold")
            text.append(f"{found.enhanced_meaning}\n")
        text.append("Next: ", style="bold")
        text.append(found.action)
        if found.provider_hint:
            text.append("\nProvider: ", style="bold")
            text.append(found.provider_hint)
        return text
