"""Line-mode history on disk, with secrets masked by ``transcript.redact`` before they are written.

A line that looks like a SASL response (``sasl.looks_like_sasl_response``, the same test by which
the dialogue marks such a line secret) is not stored at all, because a masked line is of no use to
recall. A password typed after a rejected AUTH (such as ``503 already authenticated``) goes out as
a command, so this test, not the AUTH exchange, is what keeps it out of the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit.history import FileHistory

from smtpconsole.protocol.commands import verb_of
from smtpconsole.protocol.sasl import looks_like_sasl_response
from smtpconsole.transcript import LineSent, redact

HISTORY_FILE_MODE = 0o600
"""Mode of the history file: it can name accounts and addresses."""


def mask_history_line(line: str, secret: bool) -> str:
    """Return ``line`` as the history keeps it, masked by the transcript's redaction rules.

    Args:
        line: the typed line, without CRLF.
        secret: True when the dialogue takes the line as a secret, such as the response to a 334
            challenge. An AUTH line is always treated as secret so its initial response is masked.
    """
    secret = secret or verb_of(line) == "AUTH"
    event = LineSent(raw=line.encode("utf-8") + b"\r\n", source="typed", secret=secret)
    masked = redact(event)
    assert isinstance(masked, LineSent)
    return masked.raw.decode("utf-8", errors="replace").removesuffix("\r\n")


class MaskedFileHistory(FileHistory):
    """``FileHistory`` that masks AUTH arguments and 334 responses before they reach the file.

    ``is_secret`` returns True while the session awaits the response to a 334 challenge, which is
    when the line being stored is a secret. Lines for which ``looks_like_sasl_response`` is True
    are left out of the file and of the in-memory list.
    """

    def __init__(self, path: str | Path, is_secret: Callable[[], bool]) -> None:
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, HISTORY_FILE_MODE)
            os.close(descriptor)
        super().__init__(str(path))
        self._is_secret = is_secret

    def append_string(self, string: str) -> None:
        if looks_like_sasl_response(string):
            return
        # The in-memory list shares the masking, so the up-arrow never brings a secret back.
        super().append_string(mask_history_line(string, self._is_secret()))
