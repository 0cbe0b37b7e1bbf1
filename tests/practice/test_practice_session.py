"""The console's own Session against the practice server, with the options the CLI builds."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator

import pytest

from smtpconsole.errors import UsageError
from smtpconsole.practice import cli as practice_cli
from smtpconsole.practice.server import PracticeServer
from smtpconsole.protocol import sasl
from smtpconsole.protocol.explain import explain
from smtpconsole.session import Session


def parse(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="smtpconsole")
    subparsers = parser.add_subparsers(dest="command", required=True)
    practice_cli.add_practice_arguments(subparsers)
    return parser.parse_args(["practice", *arguments])


@pytest.fixture
def started() -> Iterator[Callable[[list[str]], PracticeServer]]:
    servers: list[PracticeServer] = []

    def start(arguments: list[str]) -> PracticeServer:
        server = practice_cli.start_from_args(parse(arguments))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    os.environ.pop(practice_cli.PASSWORD_ENV, None)


def test_arguments_defaults() -> None:
    args = parse([])
    assert (args.serve_only, args.port, args.idle_timeout, args.lesson, args.line) == (
        False, None, 10.0, None, False,
    )  # fmt: skip


def test_arguments_all_given() -> None:
    args = parse(
        ["--serve-only", "--port", "2526", "--idle-timeout", "2.5", "--lesson", "timeouts"]
    )
    assert (args.serve_only, args.port, args.idle_timeout, args.lesson) == (
        True, 2526, 2.5, "timeouts",
    )  # fmt: skip


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_invalid_idle_timeout_rejected(value: str) -> None:
    with pytest.raises(UsageError, match="invalid idle timeout"):
        parse(["--idle-timeout", value])


def test_lesson_sets_rules_and_manual_plain(started: Callable[[list[str]], PracticeServer]) -> None:
    server = started(["--lesson", "first-mail", "--idle-timeout", "4"])
    options = practice_cli.console_options(server, parse(["--lesson", "first-mail"]))
    assert server.lesson is not None and server.lesson.name == "first-mail"
    assert server.rules.require_starttls is False
    assert server.rules.idle_timeout == 4
    assert options.connect.security == "plain"
    assert options.connect.manual is True
    assert os.environ[practice_cli.PASSWORD_ENV] == server.password


async def test_session_connects_and_sends(started: Callable[[list[str]], PracticeServer]) -> None:
    server = started([])
    options = practice_cli.console_options(server, parse([]))
    session = Session(options.connect)
    await session.connect()
    assert session.tls_info is not None and session.tls_info.verified
    secret = os.environ[practice_cli.PASSWORD_ENV]
    mechanism = sasl.create_mechanism("PLAIN", username=server.user, secret=secret)
    assert (await session.authenticate(mechanism)).code == 235
    assert (await session.send_command("MAIL FROM:<sender@example.com>")).code == 250
    assert (await session.send_command("RCPT TO:<friend@example.net>")).code == 250
    assert (await session.send_command("DATA")).code == 354
    final = await session.send_data(b"From: sender@example.com\r\nSubject: s\r\n\r\nbody\r\n.\r\n")
    await session.close()
    assert final.code == 250
    assert len(server.mailbox) == 1


async def test_practice_replies_get_ses_hints(
    started: Callable[[list[str]], PracticeServer],
) -> None:
    server = started([])
    options = practice_cli.console_options(server, parse([]))
    session = Session(options.connect)
    await session.connect()
    mechanism = sasl.create_mechanism("PLAIN", username=server.user, secret="wrong")
    failed = await session.authenticate(mechanism)
    mechanism = sasl.create_mechanism("PLAIN", username=server.user, secret=server.password)
    await session.authenticate(mechanism)
    await session.send_command("MAIL FROM:<stranger@example.org>")
    await session.send_command("RCPT TO:<friend@example.net>")
    await session.send_command("DATA")
    rejected = await session.send_data(b"Subject: s\r\n\r\nbody\r\n.\r\n")
    await session.close()
    failed_hint = explain(failed, host=server.host, last_verb="AUTH").provider_hint
    rejected_hint = explain(rejected, host=server.host, last_verb=".").provider_hint
    assert failed_hint is not None and failed_hint.startswith("AWS SES:")
    assert rejected_hint is not None and "verified in the SES console" in rejected_hint
