"""Help shown by F1 for the focused area (Textual's help panel reads each widget's ``HELP``)."""

from __future__ import annotations

PANE_HELP = """\
## Protocol pane

Every line sent (`C:`) and received (`S:`), TLS boundaries (`==`), remarks (`--`) and
problems (`!!`), with advice and explanations inline. Secrets are shown as `********`.

- **Up/Down** move the line cursor; the explanation panel follows a selected reply.
- **End** follows the newest line again. **c** copies the line under the cursor.
- **F2** shows timestamps and reply latency. **Ctrl+F** searches.
- **Ctrl+G** shows or hides the guided commands (with the lesson and the mailbox) beside the
  pane. Under 100 columns they start hidden, so the pane takes the whole width.
- **F9** exports the transcript as text. **Ctrl+R** saves the commands of the current
  connection as a scenario file that `smtpconsole run` replays.
"""

INPUT_HELP = """\
## Raw input

**Enter** sends the line exactly as typed, plus CRLF. Nothing typed here is a console command.

- **Up/Down** recall lines sent before (secret lines are not kept).
- After a `354` reply the border reads **DATA**: every line is a message line and a line holding
  only `.` ends the message. A body line starting with `.` must be sent as `..`.
- Typed `STARTTLS` answered by `220` starts TLS on the same connection.
- Typed `AUTH` answered by `334` offers to answer the challenge (F6).
- **Ctrl+G** shows or hides the guided commands, which start hidden under 100 columns.
- **Ctrl+R** saves the commands of the current connection as a scenario file that
  `smtpconsole run` replays; the pane shows the replay command.
"""

BUILDER_HELP = """\
## Guided commands

The commands that make sense now, the usual next step marked with a star. Pick one, fill in its
fields and check the **exact line** before it goes; **Enter** in a field or **Send** sends it
through the same session as typed lines. AUTH builds the token from user and password through
the SASL mechanism and masks it. **Compose message** opens the composer (MAIL, RCPT, DATA).
**Ctrl+G** hides this column (and shows it again), giving the protocol pane the whole width.
"""

SEARCH_HELP = """\
## Search

Type to highlight matching lines. **Enter** or **Up** goes to the previous (older) match,
**Down** to the next one, **Escape** closes the bar.
"""

EXPLANATION_HELP = """\
## Reply explanation

The code, the enhanced status code, what the reply means and what to do next, for the reply
selected in the pane or else the last reply.
"""

MAILBOX_HELP = """\
## Practice mailbox

Messages the practice server accepted, with warnings about missing or misspelled headers.
"""
