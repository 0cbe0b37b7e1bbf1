"""Tables behind ``explain``: reply codes, their meaning after each command, and RFC 3463 codes.

Each entry names the RFC that defines it. Titles follow the RFC wording; meanings and actions are
plain-English paraphrases for someone typing SMTP by hand.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class CodeEntry(NamedTuple):
    title: str
    meaning: str
    action: str
    source: str


_5321 = "RFC 5321 section 4.2.3"
_4954 = "RFC 4954 section 6"

REPLY_CODES: Final[dict[int, CodeEntry]] = {
    211: CodeEntry(
        "System status, or system help reply",
        "The server sent status information, usually in answer to HELP or a status request.",
        "Read the text; nothing else is needed.",
        _5321,
    ),
    214: CodeEntry(
        "Help message",
        "The server sent help text, usually in answer to HELP.",
        "Read the text for the commands or syntax it describes.",
        _5321,
    ),
    220: CodeEntry(
        "Service ready",
        "The server is ready: this is the greeting after connecting, or the go-ahead for TLS "
        "after STARTTLS.",
        "After the greeting, send EHLO. After STARTTLS, start the TLS handshake.",
        _5321,
    ),
    221: CodeEntry(
        "Service closing transmission channel",
        "The server is closing the connection, normally in answer to QUIT.",
        "Nothing to do; connect again to send more mail.",
        _5321,
    ),
    235: CodeEntry(
        "Authentication successful",
        "AUTH succeeded: the server now knows who you are.",
        "Continue with MAIL FROM.",
        _4954,
    ),
    250: CodeEntry(
        "Requested mail action okay, completed",
        "The command succeeded.",
        "Continue with the next command.",
        _5321,
    ),
    251: CodeEntry(
        "User not local; will forward",
        "The recipient is not on this server, but the server accepts the message and forwards it.",
        "Continue; the server takes care of the forwarding.",
        _5321,
    ),
    252: CodeEntry(
        "Cannot verify the user, but will accept the message and attempt delivery",
        "The server does not confirm whether the address exists (usually in answer to VRFY), "
        "which is common to keep spammers from probing addresses.",
        "Send the message with RCPT TO; VRFY is not a reliable way to check an address.",
        _5321,
    ),
    334: CodeEntry(
        "Server challenge",
        "The server waits for the next line of the AUTH exchange; the text after 334 is a "
        "base64-encoded challenge, which can be empty.",
        "Send the base64-encoded response on a line of its own, or a single * to cancel AUTH.",
        "RFC 4954 section 4",
    ),
    354: CodeEntry(
        "Start mail input; end with <CRLF>.<CRLF>",
        "The server waits for the message: headers, a blank line, the body.",
        "Send the message lines. A line holding only a dot ends the message; a body line that "
        "starts with a dot must be sent with one more dot in front (dot-stuffing).",
        _5321,
    ),
    421: CodeEntry(
        "Service not available, closing transmission channel",
        "The server is closing the connection: it is shutting down, overloaded, or the "
        "connection was idle or misbehaving too long.",
        "Connect again. If it came after an idle pause, send commands sooner or use NOOP to "
        "keep the connection alive.",
        _5321,
    ),
    432: CodeEntry(
        "A password transition is needed",
        "The account must change its password before this mechanism can be used.",
        "Log in once with a plain mechanism over TLS, or change the password with the provider.",
        _4954,
    ),
    450: CodeEntry(
        "Requested mail action not taken: mailbox unavailable",
        "The mailbox is temporarily unavailable (busy, or blocked for policy reasons such as "
        "greylisting).",
        "Try again later; mail servers retry such replies automatically.",
        _5321,
    ),
    451: CodeEntry(
        "Requested action aborted: local error in processing",
        "The server had a temporary problem handling the command.",
        "Try again later. If it persists, report the reply text to the server's operator.",
        _5321,
    ),
    452: CodeEntry(
        "Requested action not taken: insufficient system storage",
        "The server is temporarily out of space, or (after RCPT) too many recipients were given "
        "for one message.",
        "Try again later, or split the recipients over several messages.",
        _5321,
    ),
    454: CodeEntry(
        "TLS not available, or temporary authentication failure",
        "After STARTTLS: TLS cannot start now. After AUTH: authentication failed for a temporary "
        "reason on the server side.",
        "Try again later. For STARTTLS, check that the server has a certificate configured.",
        "RFC 3207 section 4, RFC 4954 section 6",
    ),
    455: CodeEntry(
        "Server unable to accommodate parameters",
        "The server cannot handle the MAIL FROM or RCPT TO parameters right now.",
        "Try again later, or send without the extra parameters.",
        _5321,
    ),
    500: CodeEntry(
        "Syntax error, command unrecognized",
        "The server did not understand the command: a typo in the verb, a line too long, or a "
        "command the server does not support.",
        "Check the spelling of the command; HELP lists what the server knows.",
        _5321,
    ),
    501: CodeEntry(
        "Syntax error in parameters or arguments",
        "The command is known but its argument is wrong, e.g. an address without angle "
        "brackets or invalid base64 in AUTH.",
        "Fix the argument: addresses are written MAIL FROM:<a@example.com>.",
        _5321,
    ),
    502: CodeEntry(
        "Command not implemented",
        "The server recognises the command but does not implement it.",
        "Use another command; EHLO lists the extensions the server supports.",
        _5321,
    ),
    503: CodeEntry(
        "Bad sequence of commands",
        "The command came at the wrong moment in the dialogue, e.g. DATA before RCPT TO or "
        "MAIL before EHLO.",
        "Send the missing step first: EHLO, then MAIL FROM, then RCPT TO, then DATA.",
        _5321,
    ),
    504: CodeEntry(
        "Command parameter not implemented",
        "The command is supported but not with this parameter, e.g. an AUTH mechanism the "
        "server does not offer.",
        "Use a parameter the server lists in its EHLO reply.",
        _5321,
    ),
    521: CodeEntry(
        "Server does not accept mail",
        "This host never accepts mail.",
        "Send to the domain's real mail server (its MX records); do not retry here.",
        "RFC 7504 section 3",
    ),
    530: CodeEntry(
        "Authentication required",
        "The server accepts this command only after AUTH (or, if the text says so, only after "
        "STARTTLS).",
        "Authenticate with AUTH first; if the text mentions STARTTLS, send STARTTLS and EHLO "
        "before AUTH.",
        _4954,
    ),
    534: CodeEntry(
        "Authentication mechanism is too weak",
        "The server refuses this AUTH mechanism for this account as too weak.",
        "Use a stronger mechanism from the EHLO AUTH list, or the one the provider documents.",
        _4954,
    ),
    535: CodeEntry(
        "Authentication credentials invalid",
        "The user name or password (or token) was rejected.",
        "Check the user name and secret; many providers need an app password or special SMTP "
        "credentials rather than the account password.",
        _4954,
    ),
    538: CodeEntry(
        "Encryption required for requested authentication mechanism",
        "This AUTH mechanism may only be used over an encrypted connection.",
        "Send STARTTLS (then EHLO again) before AUTH, or connect with implicit TLS.",
        _4954,
    ),
    550: CodeEntry(
        "Requested action not taken: mailbox unavailable",
        "The mailbox does not exist or cannot be used, or the server refuses the message for "
        "policy reasons (relaying denied, sender blocked).",
        "Check the address. If the text mentions relaying or policy, authenticate or send "
        "through your own provider.",
        _5321,
    ),
    551: CodeEntry(
        "User not local; please try <forward-path>",
        "The recipient is not on this server; the text may name where to send instead.",
        "Send to the address or server given in the text.",
        _5321,
    ),
    552: CodeEntry(
        "Requested mail action aborted: exceeded storage allocation",
        "The message is too large for the server or the recipient's mailbox is full.",
        "Make the message smaller (check the SIZE value in the EHLO reply) or contact the "
        "recipient.",
        _5321,
    ),
    553: CodeEntry(
        "Requested action not taken: mailbox name not allowed",
        "The address is not acceptable, e.g. a syntax error or a sender the account may not use.",
        "Check the address syntax and that you may send as this sender.",
        _5321,
    ),
    554: CodeEntry(
        "Transaction failed",
        "The server rejected the message or the connection for good (in a greeting: no SMTP "
        "service here).",
        "Read the text for the reason: policy, content or identity. Resending unchanged fails "
        "again.",
        _5321,
    ),
    555: CodeEntry(
        "MAIL FROM/RCPT TO parameters not recognized or not implemented",
        "The server does not know a parameter given after the address.",
        "Send the command without that parameter, or use only parameters the EHLO reply lists.",
        "RFC 5321 section 4.2.3 and 4.1.1.11",
    ),
    556: CodeEntry(
        "Domain does not accept mail",
        "The recipient's domain states that it accepts no mail (for example with a null MX).",
        "Do not retry; the address cannot receive mail.",
        "RFC 7504 section 3",
    ),
}

CODE_CLASS_FALLBACK: Final[dict[int, CodeEntry]] = {
    2: CodeEntry(
        "Positive completion",
        "The command succeeded.",
        "Continue with the next command.",
        "RFC 5321 section 4.2.1",
    ),
    3: CodeEntry(
        "Positive intermediate",
        "The server accepted the command and waits for more input.",
        "Send the information the text asks for.",
        "RFC 5321 section 4.2.1",
    ),
    4: CodeEntry(
        "Transient negative completion",
        "The command failed for a temporary reason.",
        "Try the same command again later.",
        "RFC 5321 section 4.2.1",
    ),
    5: CodeEntry(
        "Permanent negative completion",
        "The command failed and will fail again if repeated unchanged.",
        "Read the text, change the command or its arguments, and try again.",
        "RFC 5321 section 4.2.1",
    ),
}

# Meanings that depend on the command the reply is for. Keys: (code, verb) with verbs as
# commands.verb_of returns them, "GREETING" for the first reply and "DATA-END" for the reply
# after the final "." of DATA. (530, "STARTTLS-FIRST") is used for any 530 that names STARTTLS.
VERB_SPECIFIC: Final[dict[tuple[int, str], CodeEntry]] = {
    (220, "GREETING"): CodeEntry(
        "Service ready",
        "The server greets you and is ready for commands.",
        "Send EHLO with your host name.",
        _5321,
    ),
    (220, "STARTTLS"): CodeEntry(
        "Ready to start TLS",
        "The server agreed to STARTTLS and waits for the TLS handshake.",
        "Start the TLS handshake now, then send EHLO again: the server forgets everything said "
        "before TLS.",
        "RFC 3207 section 4",
    ),
    (250, "EHLO"): CodeEntry(
        "EHLO accepted",
        "The server greets you back; each further line names an extension it supports "
        "(SIZE, STARTTLS, AUTH, ...).",
        "Use the listed extensions: STARTTLS if offered and not yet active, then AUTH, then "
        "MAIL FROM.",
        "RFC 5321 section 4.1.1.1",
    ),
    (250, "MAIL FROM"): CodeEntry(
        "Sender accepted",
        "The server accepted the envelope sender and started a new message.",
        "Add recipients with RCPT TO.",
        "RFC 5321 section 3.3",
    ),
    (250, "RCPT TO"): CodeEntry(
        "Recipient accepted",
        "The server accepted this recipient for the message.",
        "Add more recipients with RCPT TO, or send DATA.",
        "RFC 5321 section 3.3",
    ),
    (250, "DATA-END"): CodeEntry(
        "Message accepted",
        "The server took responsibility for the message; the text often holds its queue id.",
        "Send another message with MAIL FROM, or QUIT.",
        "RFC 5321 section 4.1.1.4",
    ),
    (250, "RSET"): CodeEntry(
        "Transaction reset",
        "The server dropped the sender, recipients and data of the current message.",
        "Start again with MAIL FROM.",
        "RFC 5321 section 4.1.1.5",
    ),
    (250, "NOOP"): CodeEntry(
        "No operation",
        "The server is alive; NOOP changes nothing and resets its idle timer.",
        "Continue.",
        "RFC 5321 section 4.1.1.9",
    ),
    (354, "DATA"): CodeEntry(
        "Send the message",
        "The server waits for the message lines.",
        "Type the headers, a blank line and the body; end with a line holding only a dot.",
        "RFC 5321 section 4.1.1.4",
    ),
    (421, "GREETING"): CodeEntry(
        "Service not available",
        "The server refuses connections right now (overloaded, rate-limited or shutting down).",
        "Wait and connect again later.",
        _5321,
    ),
    (454, "STARTTLS"): CodeEntry(
        "TLS not available due to temporary reason",
        "The server cannot start TLS now.",
        "Try again later; do not send credentials without TLS.",
        "RFC 3207 section 4",
    ),
    (454, "AUTH"): CodeEntry(
        "Temporary authentication failure",
        "Authentication failed because of a temporary server problem, not your credentials.",
        "Try again later.",
        _4954,
    ),
    (501, "AUTH"): CodeEntry(
        "Bad AUTH argument or cancelled exchange",
        "The AUTH data could not be decoded (invalid base64, wrong PLAIN layout) or the "
        "exchange was cancelled with *.",
        'Send base64 of the raw response; for PLAIN that is base64("\\0user\\0password").',
        _4954,
    ),
    (503, "DATA"): CodeEntry(
        "DATA before any accepted recipient",
        "A message needs a sender and at least one accepted recipient before DATA.",
        "Send MAIL FROM and RCPT TO (and check that RCPT TO got 250), then DATA.",
        "RFC 5321 section 3.3",
    ),
    (503, "RCPT TO"): CodeEntry(
        "RCPT TO before MAIL FROM",
        "Recipients can only be added after a sender has started the message.",
        "Send MAIL FROM:<sender> first.",
        "RFC 5321 section 3.3",
    ),
    (503, "MAIL FROM"): CodeEntry(
        "MAIL FROM at the wrong moment",
        "Either EHLO/HELO has not been sent yet, or a message is already open.",
        "Send EHLO first, or RSET to drop the open message.",
        "RFC 5321 section 4.1.4",
    ),
    (503, "AUTH"): CodeEntry(
        "AUTH at the wrong moment",
        "AUTH needs a preceding EHLO (again after STARTTLS), or you are already authenticated.",
        "Send EHLO, then AUTH; after a 235 there is no need to authenticate again.",
        _4954,
    ),
    (530, "STARTTLS-FIRST"): CodeEntry(
        "STARTTLS required first",
        "The server accepts this command only over TLS.",
        "Send STARTTLS, finish the TLS handshake, send EHLO again, then repeat the command.",
        "RFC 3207 section 4",
    ),
    (530, "MAIL FROM"): CodeEntry(
        "Authentication required before sending",
        "This server accepts mail only from authenticated clients.",
        "Authenticate with AUTH (after STARTTLS), then send MAIL FROM again.",
        _4954,
    ),
    (552, "MAIL FROM"): CodeEntry(
        "Declared size too large",
        "The SIZE given with MAIL FROM is over the server's limit.",
        "Make the message smaller than the SIZE value in the EHLO reply.",
        "RFC 1870 section 6",
    ),
    (552, "DATA-END"): CodeEntry(
        "Message too large",
        "The message data went over the server's size limit and was discarded.",
        "Make the message smaller than the SIZE value in the EHLO reply.",
        "RFC 1870 section 6",
    ),
    (554, "GREETING"): CodeEntry(
        "No SMTP service here",
        "The server refuses to talk to you at all, often because your IP address is blocked.",
        "Connect from another network or use your provider's submission server.",
        _5321,
    ),
    (554, "DATA-END"): CodeEntry(
        "Message rejected",
        "The server received the whole message and then rejected it (policy, content, or an "
        "unverified identity).",
        "Read the reason in the text and fix it; resending unchanged fails again.",
        _5321,
    ),
}

CLASS_MEANINGS: Final[dict[int, str]] = {
    2: "The action succeeded; any detail reports a change made on the way.",
    4: "The message as sent is valid, but a temporary condition stopped it; sending later may "
    "succeed.",
    5: "The message will not succeed if sent again unchanged; the message or the destination "
    "must change.",
}

STATUS_CLASSES: Final[dict[int, str]] = {
    2: "Success",
    4: "Persistent Transient Failure",
    5: "Permanent Failure",
}

# RFC 3463 section 3: subject sub-codes, with what each covers.
STATUS_SUBJECTS: Final[dict[int, tuple[str, str]]] = {
    0: ("Other or Undefined Status", "No further detail on the subject is available."),
    1: ("Addressing Status", "Something about the sender or recipient address."),
    2: ("Mailbox Status", "Something about the recipient's mailbox."),
    3: ("Mail System Status", "Something about the receiving mail system."),
    4: ("Network and Routing Status", "Something about the network or mail routing."),
    5: ("Mail Delivery Protocol Status", "Something about the SMTP dialogue itself."),
    6: ("Message Content or Media Status", "Something about the message content."),
    7: ("Security or Policy Status", "Security or policy: authentication, TLS, permissions."),
}

# What the subject sub-code says in a success (class 2) code. The meanings in STATUS_SUBJECTS and
# STATUS_DETAILS describe failures, so a success code uses these instead.
SUCCESS_SUBJECTS: Final[dict[int, str]] = {
    0: "No further detail is given.",
    1: "About the address: OK.",
    2: "About the mailbox: OK.",
    3: "About the mail system: OK.",
    4: "About the network and routing: OK.",
    5: "About the SMTP dialogue: OK.",
    6: "About the message content: OK.",
    7: "About security or policy: OK.",
}

# (subject, detail) pairs whose STATUS_DETAILS meaning also reads right in a success code.
SUCCESS_DETAILS: Final[frozenset[tuple[int, int]]] = frozenset({(0, 0), (1, 5), (1, 9)})

_3463 = "RFC 3463"

# (subject, detail) -> (title, meaning, source).
STATUS_DETAILS: Final[dict[tuple[int, int], tuple[str, str, str]]] = {
    (0, 0): ("Other undefined status", "No further detail is given.", _3463 + " section 3.1"),
    # X.1 Addressing, RFC 3463 section 3.2
    (1, 0): ("Other address status", "Something about an address is wrong.", _3463),
    (1, 1): ("Bad destination mailbox address", "The recipient's mailbox does not exist.", _3463),
    (1, 2): (
        "Bad destination system address",
        "The recipient's domain does not exist or does not accept mail.",
        _3463,
    ),
    (1, 3): (
        "Bad destination mailbox address syntax",
        "The recipient address is malformed.",
        _3463,
    ),
    (1, 4): (
        "Destination mailbox address ambiguous",
        "The address matches several mailboxes.",
        _3463,
    ),
    (1, 5): ("Destination address valid", "The recipient address is valid.", _3463),
    (1, 6): (
        "Destination mailbox has moved, No forwarding address",
        "The recipient moved and left no new address.",
        _3463,
    ),
    (1, 7): ("Bad sender's mailbox address syntax", "The sender address is malformed.", _3463),
    (1, 8): (
        "Bad sender's system address",
        "The sender's domain does not exist or cannot receive replies.",
        _3463,
    ),
    (1, 9): (
        "Message relayed to non-compliant mailer",
        "The message went on to a system that cannot return delivery status.",
        "RFC 3886",
    ),
    (1, 10): (
        "Recipient address has null MX",
        "The recipient's domain publishes a null MX: it accepts no mail.",
        "RFC 7505",
    ),
    # X.2 Mailbox, RFC 3463 section 3.3
    (2, 0): (
        "Other or undefined mailbox status",
        "The mailbox exists but something about it stopped delivery.",
        _3463,
    ),
    (2, 1): (
        "Mailbox disabled, not accepting messages",
        "The mailbox exists but is disabled.",
        _3463,
    ),
    (2, 2): ("Mailbox full", "The recipient's mailbox is over its quota.", _3463),
    (2, 3): (
        "Message length exceeds administrative limit",
        "The message is larger than the recipient accepts.",
        _3463,
    ),
    (2, 4): (
        "Mailing list expansion problem",
        "The recipient is a list that could not be expanded.",
        _3463,
    ),
    # X.3 Mail system, RFC 3463 section 3.4
    (3, 0): ("Other or undefined mail system status", "The receiving system had a problem.", _3463),
    (3, 1): ("Mail system full", "The receiving system is out of storage.", _3463),
    (3, 2): (
        "System not accepting network messages",
        "The receiving system accepts no mail now.",
        _3463,
    ),
    (3, 3): (
        "System not capable of selected features",
        "The message needs a feature the system lacks.",
        _3463,
    ),
    (3, 4): ("Message too big for system", "The message is larger than the system accepts.", _3463),
    (3, 5): ("System incorrectly configured", "The receiving system is misconfigured.", _3463),
    (3, 6): (
        "Requested priority was changed",
        "The server changed the priority requested with MT-PRIORITY.",
        "RFC 6710",
    ),
    # X.4 Network and routing, RFC 3463 section 3.5
    (4, 0): (
        "Other or undefined network or routing status",
        "A network or routing problem.",
        _3463,
    ),
    (4, 1): ("No answer from host", "The next server did not answer.", _3463),
    (4, 2): ("Bad connection", "The connection broke during the transaction.", _3463),
    (4, 3): ("Directory server failure", "A lookup (such as DNS) failed.", _3463),
    (4, 4): ("Unable to route", "No route to the destination was found.", _3463),
    (4, 5): ("Mail system congestion", "The system is too busy now.", _3463),
    (4, 6): ("Routing loop detected", "The message went around in a loop.", _3463),
    (4, 7): ("Delivery time expired", "The message waited too long in the queue.", _3463),
    # X.5 Protocol, RFC 3463 section 3.6
    (5, 0): (
        "Other or undefined protocol status",
        "Something went wrong in the SMTP dialogue.",
        _3463,
    ),
    (5, 1): ("Invalid command", "The command is unknown or not allowed now.", _3463),
    (5, 2): ("Syntax error", "The command's syntax is wrong.", _3463),
    (5, 3): (
        "Too many recipients",
        "The message has more recipients than the server takes at once.",
        _3463,
    ),
    (5, 4): ("Invalid command arguments", "The command's arguments are not valid.", _3463),
    (5, 5): ("Wrong protocol version", "The protocol version does not match.", _3463),
    (5, 6): (
        "Authentication Exchange line is too long",
        "An AUTH line was longer than the server accepts.",
        "RFC 4954",
    ),
    # X.6 Content, RFC 3463 section 3.7
    (6, 0): ("Other or undefined media error", "Something about the message content.", _3463),
    (6, 1): ("Media not supported", "The content type is not supported.", _3463),
    (6, 2): (
        "Conversion required and prohibited",
        "The content needs converting but conversion is not allowed.",
        _3463,
    ),
    (6, 3): (
        "Conversion required but not supported",
        "The content needs a conversion the system cannot do.",
        _3463,
    ),
    (6, 4): (
        "Conversion with loss performed",
        "The content was converted and lost some detail.",
        _3463,
    ),
    (6, 5): ("Conversion Failed", "Converting the content failed.", _3463),
    (6, 6): (
        "Message content not available",
        "Content referenced by BURL could not be fetched.",
        "RFC 4468",
    ),
    (6, 7): (
        "Non-ASCII addresses not permitted for that sender/recipient",
        "An address with non-ASCII characters cannot be used here.",
        "RFC 6531",
    ),
    (6, 8): (
        "UTF-8 string reply is required, but not permitted by the SMTP client",
        "The server needs to send a UTF-8 reply but the client did not allow it.",
        "RFC 6531",
    ),
    (6, 9): (
        "UTF-8 header message cannot be transferred to one or more recipients",
        "A message with UTF-8 headers cannot reach a recipient, so it is rejected.",
        "RFC 6531",
    ),
    (6, 10): (
        "UTF-8 string reply is required, but not permitted by the SMTP client",
        "A registered duplicate of X.6.8, deprecated.",
        "RFC 6531",
    ),
    # X.7 Security and policy, RFC 3463 section 3.8
    (7, 0): (
        "Other or undefined security status",
        "A security or policy rule stopped the command.",
        _3463,
    ),
    (7, 1): (
        "Delivery not authorized, message refused",
        "The sender is not allowed to send this message to this destination.",
        _3463,
    ),
    (7, 2): ("Mailing list expansion prohibited", "The sender may not send to this list.", _3463),
    (7, 3): (
        "Security conversion required but not possible",
        "The message needs a security conversion that cannot be done.",
        _3463,
    ),
    (7, 4): (
        "Security features not supported",
        "The requested security feature is not supported.",
        _3463,
    ),
    (7, 5): ("Cryptographic failure", "A cryptographic operation failed.", _3463),
    (7, 6): (
        "Cryptographic algorithm not supported",
        "The algorithm used is not supported.",
        _3463,
    ),
    (7, 7): ("Message integrity failure", "The message was changed or damaged on the way.", _3463),
    (7, 8): ("Authentication credentials invalid", "The user name or secret is wrong.", "RFC 4954"),
    (7, 9): (
        "Authentication mechanism is too weak",
        "The server refuses this AUTH mechanism.",
        "RFC 4954",
    ),
    (7, 10): ("Encryption Needed", "The operation needs an encrypted connection.", "RFC 5248"),
    (7, 11): (
        "Encryption required for requested authentication mechanism",
        "This AUTH mechanism needs TLS first.",
        "RFC 4954",
    ),
    (7, 12): (
        "A password transition is needed",
        "The password must be changed before this mechanism works.",
        "RFC 4954",
    ),
    (7, 13): ("User Account Disabled", "The account is disabled.", "RFC 5248"),
    (7, 14): (
        "Trust relationship required",
        "The server needs a trust relationship with the client before accepting.",
        "RFC 5248",
    ),
    (7, 15): (
        "Priority Level is too low",
        "The message's MT-PRIORITY is too low for now.",
        "RFC 6710",
    ),
    (7, 16): (
        "Message is too big for the specified priority",
        "Large messages need a lower priority.",
        "RFC 6710",
    ),
    (7, 17): (
        "Mailbox owner has changed",
        "The mailbox now belongs to someone else (RRVS).",
        "RFC 7293",
    ),
    (7, 18): (
        "Domain owner has changed",
        "The domain now belongs to someone else (RRVS).",
        "RFC 7293",
    ),
    (7, 19): (
        "RRVS test cannot be completed",
        "The server could not check the RRVS parameter.",
        "RFC 7293",
    ),
    (7, 20): (
        "No passing DKIM signature found",
        "The message has no valid DKIM signature.",
        "RFC 7372",
    ),
    (7, 21): (
        "No acceptable DKIM signature found",
        "DKIM signatures pass but none is acceptable to the receiver.",
        "RFC 7372",
    ),
    (7, 22): (
        "No valid author-matched DKIM signature found",
        "No passing DKIM signature is from the From domain.",
        "RFC 7372",
    ),
    (7, 23): (
        "SPF validation failed",
        "The sending IP address is not allowed by the sender domain's SPF record.",
        "RFC 7372",
    ),
    (7, 24): ("SPF validation error", "The SPF check could not be completed.", "RFC 7372"),
    (7, 25): (
        "Reverse DNS validation failed",
        "The sending IP address has no matching reverse DNS name.",
        "RFC 7372",
    ),
    (7, 26): (
        "Multiple authentication checks failed",
        "Several checks (SPF, DKIM, DMARC, reverse DNS) failed together.",
        "RFC 7372",
    ),
    (7, 27): (
        "Sender address has null MX",
        "The sender's domain publishes a null MX, so it cannot receive bounces.",
        "RFC 7505",
    ),
    # NOTE: X.7.28 ("Mail flood detected") is left out: no RFC defining it was at hand to cite.
    (7, 29): ("Arc validation failure", "The message's ARC chain did not validate.", "RFC 8617"),
    (7, 30): (
        "REQUIRETLS support required",
        "The message asks for REQUIRETLS and a server on the path does not support it.",
        "RFC 8689",
    ),
}

# Next step for a status whatever the reply code. The key's first number is the class, or 0 for
# any class.
STATUS_ACTIONS: Final[dict[tuple[int, int, int], str]] = {
    (0, 1, 1): "Check the recipient address for typos.",
    (0, 1, 3): "Write the recipient as local@domain inside angle brackets.",
    (0, 1, 7): "Write the sender as local@domain inside angle brackets.",
    (0, 2, 2): "Wait until the recipient frees space, or contact them another way.",
    (0, 3, 4): "Make the message smaller than the SIZE value in the EHLO reply.",
    (0, 5, 1): "Check the command's spelling and its place in the dialogue.",
    (0, 5, 3): "Send to fewer recipients per message.",
    (0, 7, 0): "Read the text for which rule applies; often STARTTLS or AUTH comes first.",
    (0, 7, 1): "Authenticate, or send as an address this account may use.",
    (0, 7, 8): "Check the user name and secret; many providers need an app password or "
    "special SMTP credentials.",
    (0, 7, 9): "Use a stronger AUTH mechanism from the EHLO list.",
    (0, 7, 10): "Send STARTTLS (or connect with TLS) and try again.",
    (0, 7, 11): "Send STARTTLS and EHLO again before AUTH.",
    (0, 7, 13): "Ask the provider to enable the account.",
    (0, 7, 23): "Send through a server listed in the sender domain's SPF record.",
    (0, 7, 26): "Set up SPF, DKIM and DMARC for the sender domain, or send through its provider.",
    (0, 7, 27): "Use a sender domain that can receive mail.",
}
