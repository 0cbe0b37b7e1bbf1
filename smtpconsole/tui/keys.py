"""Keys of the main screen, as data: each has an id (for keymaps) and a tooltip (for the footer).

Keys with ``show=False`` stay out of the footer, because each footer key adds to the start-up
time that bench/tui_startup.py measures; F1 and F10 list them all.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType


def _binding(
    key: str, action: str, description: str, binding_id: str, tooltip: str, show: bool = True
) -> Binding:
    return Binding(key, action, description, show=show, id=binding_id, tooltip=tooltip)


MAIN_SCREEN_BINDINGS: list[BindingType] = [
    _binding(
        "f2",
        "toggle_timestamps",
        "Times",
        "pane.timestamps",
        "Show or hide the time of each line and the latency of each reply",
        show=False,
    ),
    _binding(
        "ctrl+f",
        "search",
        "Search",
        "pane.search",
        "Search the protocol pane; Up/Down go through the matches",
        show=False,
    ),
    _binding(
        "f3",
        "next_match(-1)",
        "Prev match",
        "pane.previous_match",
        "Go to the previous (older) match of the search",
        show=False,
    ),
    _binding(
        "shift+f3",
        "next_match(1)",
        "Next match",
        "pane.next_match",
        "Go to the next (newer) match of the search",
        show=False,
    ),
    _binding(
        "f4",
        "compose",
        "Compose",
        "message.compose",
        "Write a message and send it with MAIL, RCPT and DATA",
    ),
    _binding(
        "ctrl+g",
        "toggle_side_panel",
        "Guided",
        "view.side_panel",
        "Show or hide the guided commands, with the lesson and mailbox, beside the pane",
        show=False,
    ),
    _binding(
        "f5",
        "reconnect",
        "Reconnect",
        "session.reconnect",
        "Connect again to the same server (a new connection, same transcript)",
    ),
    _binding(
        "f6",
        "answer_challenge",
        "Answer 334",
        "auth.answer_challenge",
        "Answer the server's AUTH challenge from the profile or by typing it",
        show=False,
    ),
    _binding(
        "f7",
        "toggle_keepalive",
        "Keepalive",
        "session.keepalive",
        "Send NOOP when idle (--keepalive, else 5 s), so the server does not drop the connection",
        show=False,
    ),
    _binding(
        "f8",
        "show_certificate",
        "Certificate",
        "tls.certificate",
        "Show the server certificate chain and the verification result",
        show=False,
    ),
    _binding(
        "f9",
        "export",
        "Export",
        "transcript.export",
        "Write the transcript, secrets masked, to a file in the exports folder",
        show=False,
    ),
    _binding(
        "ctrl+r",
        "save_scenario",
        "Save scenario",
        "session.save_scenario",
        "Save the commands of this connection as a scenario file that smtpconsole run replays",
        show=False,
    ),
    _binding(
        "f12",
        "choose_lesson",
        "Lessons",
        "practice.choose_lesson",
        "Choose a practice lesson (with smtpconsole practice only)",
        show=False,
    ),
    _binding(
        "ctrl+s",
        "app.save_profile",
        "Save profile",
        "profile.save_connection",
        "Save this connection as a profile (the password only as its source)",
        show=False,
    ),
    _binding(
        "ctrl+l",
        "focus_input",
        "Input",
        "input.focus",
        "Move the focus to the raw input line",
        show=False,
    ),
    _binding(
        "ctrl+o",
        "focus_pane",
        "Pane",
        "pane.focus",
        "Move the focus to the protocol pane to select and copy lines",
        show=False,
    ),
]
