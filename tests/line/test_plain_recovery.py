"""Piped line mode after a reply that does not parse: later replies still match their lines."""

from __future__ import annotations

import asyncio
import io

from smtpconsole.line.plain import run_plain
from smtpconsole.options import ConnectOptions, ConsoleOptions
from tests.hostile_servers import serve
from tests.session.test_session_recovery import bad_rcpt_reply_script


async def test_plain_mode_goes_on_after_malformed_reply() -> None:
    stdin = io.StringIO(
        "EHLO client.test\nMAIL FROM:<a@example.com>\nRCPT TO:<b@example.com>\nDATA\n"
        "Subject: x\n\nhi\n.\n"
    )
    stdout = io.StringIO()
    async with serve(bad_rcpt_reply_script(b"25O bad\r\n")) as server:
        connect = ConnectOptions(
            server.host, server.port, security="plain", manual=True, read_timeout=10.0
        )
        status = await asyncio.wait_for(
            run_plain(ConsoleOptions(connect=connect), stdin, stdout), 5
        )

    output = stdout.getvalue().splitlines()
    assert status == 0
    assert "S: 25O bad" in output
    assert "!! the reply to RCPT TO does not parse: " in "\n".join(output)
    assert any(line.startswith("-- warning: The reply to RCPT TO did not parse") for line in output)
    assert output.index("S: 354 go ahead") < output.index("C: Subject: x")
    assert "S: 250 2.0.0 queued" in output
    assert "S: 221 bye" in output
