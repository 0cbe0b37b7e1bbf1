"""The lessons themselves: texts, steps and the mistakes each one explains."""

from __future__ import annotations

from typing import Final

from smtpconsole.practice.lesson_types import (
    Lesson,
    Mistake,
    Step,
    any_reply,
    closed,
    data_line,
    replied,
    replied_text,
    tls_started,
)
from smtpconsole.practice.rules import PracticeRules
from smtpconsole.protocol.dialogue import END_OF_DATA

# The server without STARTTLS or AUTH requirements, for lessons about the mail transaction.
_OPEN_RULES: Final = PracticeRules(require_starttls=False, require_auth=False)

_NOT_VERIFIED: Final = Mistake(
    replied(END_OF_DATA, 554),
    "{code} {text}\nLike AWS SES, the practice server checks the sender only after the whole "
    "message: MAIL FROM and the From header must be verified identities. Use "
    "sender@example.com, or any address at verified.example, in both.",
)
_UNKNOWN_COMMAND: Final = Mistake(
    any_reply(500),
    "{code} {text}\nThe server did not recognise that line as a command. Check the spelling: "
    "commands are EHLO, MAIL FROM:<...>, RCPT TO:<...>, DATA, RSET, NOOP, QUIT.",
)
_SINGLE_DOT: Final = Mistake(
    data_line(lambda line: line.startswith(b".") and not line.startswith(b"..")),
    "The line {line!r} starts with one dot. The server removes a leading dot from every message "
    "line (RFC 5321 section 4.5.2), so the message will hold that line without it. To keep a "
    "leading dot, type two.",
)

_MESSAGE_INSTRUCTION: Final = (
    "Type the message line by line: `From: sender@example.com`, `To: friend@example.net`, "
    "`Subject: Hello`, an empty line, a line of text, and finally a line holding only `.`."
)

FIRST_MAIL: Final = Lesson(
    name="first-mail",
    title="Your first mail in plain SMTP",
    intro=(
        "Send one message by typing the SMTP commands yourself, the way a mail client does. "
        "This server needs neither TLS nor a login for this lesson, so the commands are the "
        "whole story: greet, give the sender, give the recipient, send the message."
    ),
    steps=(
        Step(
            "Greet the server: `EHLO me.example`.",
            replied("EHLO", 250),
            "The server greeted you back and listed its extensions, one per line.",
        ),
        Step(
            "Give the envelope sender: `MAIL FROM:<sender@example.com>`.",
            replied("MAIL FROM", 250),
            "250 Ok: a mail transaction is open.",
        ),
        Step(
            "Give a recipient: `RCPT TO:<friend@example.net>`.",
            replied("RCPT TO", 250),
            "The recipient is accepted. You could add more with further RCPT TO lines.",
        ),
        Step(
            "Ask to send the message: `DATA`.",
            replied("DATA", 354),
            "354: the server now reads message lines until a line holding only a dot.",
        ),
        Step(
            _MESSAGE_INSTRUCTION,
            replied(END_OF_DATA, 250),
            "250 Ok with a message id: the message is in the practice mailbox.",
        ),
        Step("Close the session: `QUIT`.", replied("QUIT", 221), "221 Bye: the server hung up."),
    ),
    mistakes=(
        Mistake(
            replied("MAIL FROM", 503),
            "{code} {text}\nThe server wants EHLO before MAIL FROM. Send `EHLO me.example`.",
        ),
        Mistake(
            replied("RCPT TO", 503),
            "{code} {text}\nRecipients come after the sender: send MAIL FROM:<...> first.",
        ),
        Mistake(
            replied("DATA", 503),
            "{code} {text}\nDATA needs a sender and an accepted recipient first.",
        ),
        Mistake(
            replied("MAIL FROM", 501),
            "{code} {text}\nWrite the sender in angle brackets: `MAIL FROM:<sender@example.com>`.",
        ),
        Mistake(
            replied("RCPT TO", 501),
            "{code} {text}\nWrite the recipient in angle brackets: `RCPT TO:<friend@example.net>`.",
        ),
        _NOT_VERIFIED,
        _SINGLE_DOT,
        _UNKNOWN_COMMAND,
    ),
    outro="Lesson done. The mailbox shows the message and any warnings about its headers.",
    rules=_OPEN_RULES,
)

STARTTLS_AUTH: Final = Lesson(
    name="starttls-auth",
    title="STARTTLS and AUTH PLAIN, as on AWS SES",
    intro=(
        "This server behaves like the AWS SES SMTP endpoint: it lists AUTH before TLS, yet "
        "refuses AUTH until STARTTLS, and accepts mail only after a login. The user and password "
        "were printed when the practice server started."
    ),
    steps=(
        Step(
            "Greet the server: `EHLO me.example`.",
            replied("EHLO", 250),
            "Both STARTTLS and AUTH PLAIN LOGIN are listed, although TLS is not active yet.",
        ),
        Step(
            "Try `AUTH PLAIN` now, before TLS, to see what SES replies.",
            replied("AUTH", 530),
            "530 Must issue a STARTTLS command first: a password must never cross the network "
            "in clear text.",
            optional=True,
        ),
        Step(
            "Upgrade the connection: `STARTTLS`.",
            replied("STARTTLS", 220),
            "220 Ready to start TLS. The console performs the TLS handshake now.",
        ),
        Step(
            "Wait for the TLS handshake to finish.",
            tls_started,
            "TLS is active. The server forgot your EHLO (RFC 3207 section 4.2).",
        ),
        Step(
            "Greet the server again: `EHLO me.example`.",
            replied("EHLO", 250),
            "STARTTLS is gone from the list, because TLS is active; AUTH is still there.",
        ),
        Step(
            "Log in: `AUTH PLAIN` followed by base64 of NUL, user, NUL, password (the console's "
            "AUTH helper builds it), or `AUTH PLAIN` alone and the response after the 334.",
            replied("AUTH", 235),
            "235 Authentication successful. MAIL FROM is accepted from now on.",
        ),
        Step(
            "Send a message: `MAIL FROM:<sender@example.com>`, `RCPT TO:<friend@example.net>`, "
            "`DATA`, the message lines and a line holding only `.`.",
            replied(END_OF_DATA, 250),
            "250 Ok with a message id, as SES sends it.",
        ),
    ),
    mistakes=(
        Mistake(
            replied("AUTH", 535),
            "{code} {text}\nThe user name or password is wrong. For PLAIN, the argument is "
            "base64 of NUL, user, NUL, password. On AWS SES the same reply comes when IAM access "
            "keys are used instead of SES SMTP credentials, or credentials of another region.",
        ),
        Mistake(
            replied("AUTH", 501),
            "{code} {text}\nThe AUTH data is not valid base64, or PLAIN's three parts are not "
            "separated by NUL bytes.",
        ),
        Mistake(
            replied("AUTH", 503),
            "{code} {text}\nAfter STARTTLS the server forgot your EHLO: send EHLO again, then "
            "AUTH.",
        ),
        Mistake(
            replied_text("MAIL FROM", 530, "Authentication required"),
            "{code} {text}\nThis server, like SES, takes mail only after AUTH.",
        ),
        Mistake(
            any_reply(530),
            "{code} {text}\nOnly EHLO, STARTTLS, NOOP and QUIT are accepted before TLS. Send "
            "STARTTLS first.",
        ),
        _NOT_VERIFIED,
        _UNKNOWN_COMMAND,
    ),
    outro="Lesson done: this is the sequence every SES client goes through.",
    rules=PracticeRules(),
)

NEED_RCPT: Final = Lesson(
    name="need-rcpt",
    title="Why DATA gets 503 Error: need RCPT command",
    intro=(
        "A mail transaction has a fixed order (RFC 5321 section 3.3): MAIL FROM, then at least "
        "one accepted RCPT TO, then DATA. In this lesson you break the order on purpose."
    ),
    steps=(
        Step("Greet the server: `EHLO me.example`.", replied("EHLO", 250)),
        Step("Give the sender: `MAIL FROM:<sender@example.com>`.", replied("MAIL FROM", 250)),
        Step(
            "Now type `DATA` at once, without any RCPT TO.",
            replied("DATA", 503),
            "503 Error: need RCPT command. With no accepted recipient the server has nowhere "
            "to deliver, so it refuses the message before reading it. Postfix sends the same "
            "text.",
        ),
        Step(
            "Add a recipient: `RCPT TO:<friend@example.net>`.",
            replied("RCPT TO", 250, 251),
            "Only a 250 or 251 reply counts: a rejected recipient does not open DATA.",
        ),
        Step("Now `DATA` again.", replied("DATA", 354), "354: this time the server listens."),
        Step(_MESSAGE_INSTRUCTION, replied(END_OF_DATA, 250), "The message is accepted."),
    ),
    mistakes=(
        Mistake(
            replied("RCPT TO", 5),
            "{code} {text}\nThat recipient was rejected, so it does not count: DATA would still "
            "get 503. Check the address and its angle brackets.",
        ),
        _NOT_VERIFIED,
        _UNKNOWN_COMMAND,
    ),
    outro="Lesson done: MAIL, RCPT, DATA, always in that order.",
    rules=_OPEN_RULES,
)

TIMEOUTS: Final = Lesson(
    name="timeouts",
    title="Timeouts and 421",
    intro=(
        "Servers do not wait for ever. This one, like SES, closes a connection that stays "
        "silent for its idle timeout (10 seconds unless changed with --idle-timeout), with "
        "421 Timeout waiting for data from client."
    ),
    steps=(
        Step("Greet the server: `EHLO me.example`.", replied("EHLO", 250)),
        Step(
            "Send `NOOP`. It does nothing, except that the server's idle timer starts again.",
            replied("NOOP", 250),
            "250 Ok. Clients that keep a connection open send NOOP now and then.",
        ),
        Step(
            "Now type nothing and wait for the idle timeout.",
            any_reply(421),
            "421 always means the server is closing the connection (RFC 5321 section 3.8), "
            "whatever command was sent last.",
        ),
        Step(
            "Watch the connection close.",
            closed,
            "The connection is closed. Connect again to continue. A reply code starting with 4 "
            "means trying again later can work.",
        ),
    ),
    mistakes=(_UNKNOWN_COMMAND,),
    outro="Lesson done: keep commands flowing, or expect 421.",
    rules=_OPEN_RULES,
)

DOT_STUFFING: Final = Lesson(
    name="dot-stuffing",
    title="Dot-stuffing: a body line that starts with a dot",
    intro=(
        "A line holding only a dot ends the message. So how do you send a line that starts "
        "with a dot? The client doubles the dot, and the server removes one again "
        "(RFC 5321 section 4.5.2)."
    ),
    steps=(
        Step("Greet the server: `EHLO me.example`.", replied("EHLO", 250)),
        Step("Give the sender: `MAIL FROM:<sender@example.com>`.", replied("MAIL FROM", 250)),
        Step("Give a recipient: `RCPT TO:<friend@example.net>`.", replied("RCPT TO", 250)),
        Step("Type `DATA`.", replied("DATA", 354)),
        Step(
            "Type the headers (`From: sender@example.com`, `Subject: Dots`), an empty line, and "
            "then the body line `..hidden`, with two dots.",
            data_line(lambda line: line.startswith(b"..")),
            "You doubled the dot. The server removes one, so the message holds `{received}`.",
        ),
        Step(
            "End the message with a line holding only `.`.",
            replied(END_OF_DATA, 250),
            "Accepted. Open the message in the mailbox: the server removed one leading dot from "
            "each line that had one, so those lines read {dot_lines}.",
        ),
    ),
    mistakes=(
        Mistake(
            replied(END_OF_DATA, 250),
            "The message ended before the line with two dots: a line holding only `.` ends "
            "DATA. Send MAIL FROM, RCPT TO and DATA again to retry.",
            steps=frozenset({4}),
        ),
        _SINGLE_DOT,
        _NOT_VERIFIED,
        _UNKNOWN_COMMAND,
    ),
    outro="Lesson done. The console's message composer stuffs dots for you.",
    rules=_OPEN_RULES,
)

LESSON_DEFINITIONS: Final = (FIRST_MAIL, STARTTLS_AUTH, NEED_RCPT, TIMEOUTS, DOT_STUFFING)
