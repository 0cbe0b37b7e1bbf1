"""Tests of the incremental reply parser: three feeds per input, limits, and hostile bytes."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtpconsole.protocol.errors import RemoteProtocolError
from smtpconsole.protocol.replies import (
    CLOSED,
    NEED_DATA,
    Reply,
    ReplyParser,
    decode_text,
)

Outcome = Reply | str
"""A parsed reply, or ``"error: <message>"`` for a RemoteProtocolError."""


def drain(parser: ReplyParser) -> list[Outcome]:
    """Call next_reply until it needs data or reports CLOSED; errors become strings."""
    outcomes: list[Outcome] = []
    while True:
        try:
            result = parser.next_reply()
        except RemoteProtocolError as error:
            outcomes.append(f"error: {error.message}")
            continue
        if result is NEED_DATA or result is CLOSED:
            return outcomes
        assert isinstance(result, Reply)
        outcomes.append(result)


def feed_chunks(
    chunks: Iterable[bytes], *, eof: bool = False, max_line_bytes: int = 8192, **kwargs: int
) -> list[Outcome]:
    parser = ReplyParser(max_line_bytes=max_line_bytes, **kwargs)
    outcomes: list[Outcome] = []
    for chunk in chunks:
        parser.feed(chunk)
        outcomes += drain(parser)
    if eof:
        parser.feed_eof()
        outcomes += drain(parser)
    return outcomes


def three_feeds(data: bytes, *, eof: bool = False) -> list[Outcome]:
    """Parse ``data`` whole, byte by byte and with trailing junk; check all three agree."""
    whole = feed_chunks([data], eof=eof)
    one_byte = feed_chunks([data[i : i + 1] for i in range(len(data))], eof=eof)
    assert one_byte == whole
    if not eof:
        # An unfinished line after the input must not change the replies before it.
        with_junk = feed_chunks([data + b"25"])
        assert with_junk == whole
    return whole


def only_reply(outcomes: list[Outcome]) -> Reply:
    assert len(outcomes) == 1, outcomes
    reply = outcomes[0]
    assert isinstance(reply, Reply), reply
    return reply


def test_single_line_reply() -> None:
    reply = only_reply(three_feeds(b"220 mx.example.com ESMTP ready\r\n"))

    assert reply.code == 220
    assert reply.lines == ("mx.example.com ESMTP ready",)
    assert reply.raw == b"220 mx.example.com ESMTP ready\r\n"
    assert not reply.truncated
    assert not reply.missing_crlf


def test_multi_line_reply() -> None:
    data = b"250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"
    reply = only_reply(three_feeds(data))

    assert reply.code == 250
    assert reply.lines == ("mx.example.com", "PIPELINING", "SIZE 1000", "STARTTLS")
    assert reply.raw == data
    assert reply.format_lines() == [
        "250-mx.example.com",
        "250-PIPELINING",
        "250-SIZE 1000",
        "250 STARTTLS",
    ]


def test_final_line_with_code_only() -> None:
    reply = only_reply(three_feeds(b"250-first\r\n250\r\n"))

    assert reply.code == 250
    assert reply.lines == ("first", "")


def test_bare_code_reply() -> None:
    reply = only_reply(three_feeds(b"250\r\n"))

    assert reply.code == 250
    assert reply.lines == ("",)
    assert reply.text == ""


def test_bare_lf_line_end() -> None:
    reply = only_reply(three_feeds(b"250-a\n250 b\n"))

    assert reply.lines == ("a", "b")


def test_pipelined_replies_in_one_chunk() -> None:
    outcomes = three_feeds(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n")

    assert [reply.code for reply in outcomes if isinstance(reply, Reply)] == [250, 250, 354]
    assert len(outcomes) == 3


def test_enhanced_status_code() -> None:
    reply = only_reply(three_feeds(b"535 5.7.8 Authentication credentials invalid\r\n"))

    assert reply.enhanced_status == "5.7.8"


def test_enhanced_status_class_mismatch() -> None:
    reply = only_reply(three_feeds(b"250 5.7.8 odd\r\n"))

    assert reply.enhanced_status is None


def test_reply_properties() -> None:
    reply = only_reply(three_feeds(b"354 go ahead\r\n"))

    assert reply.code_class == 3
    assert reply.is_intermediate
    assert not reply.is_success
    assert not reply.is_error


def test_non_utf8_bytes_escaped() -> None:
    reply = only_reply(three_feeds(b"250 caf\xe9 \xff\r\n"))

    assert reply.lines == ("caf\\xe9 \\xff",)
    assert reply.raw == b"250 caf\xe9 \xff\r\n"


def test_utf8_text_decoded() -> None:
    reply = only_reply(three_feeds("250 Grüße\r\n".encode()))

    assert reply.lines == ("Grüße",)


def test_decode_text_escapes() -> None:
    assert decode_text(b"ok \x80") == "ok \\x80"


def test_missing_crlf_before_eof() -> None:
    reply = only_reply(three_feeds(b"221 bye", eof=True))

    assert reply.code == 221
    assert reply.lines == ("bye",)
    assert reply.missing_crlf


def test_closed_after_eof() -> None:
    parser = ReplyParser()
    parser.feed(b"221 bye\r\n")
    parser.feed_eof()

    assert isinstance(parser.next_reply(), Reply)
    assert parser.next_reply() is CLOSED
    assert parser.next_reply() is CLOSED


def test_need_data_for_partial_line() -> None:
    parser = ReplyParser()
    parser.feed(b"250-first\r\n250 sec")

    assert parser.next_reply() is NEED_DATA
    assert parser.partial


def test_eof_inside_multi_line_reply() -> None:
    outcomes = three_feeds(b"250-first\r\n250-second\r\n", eof=True)

    assert len(outcomes) == 1
    assert isinstance(outcomes[0], str)
    assert "closed in the middle" in outcomes[0]


def test_eof_error_keeps_raw() -> None:
    parser = ReplyParser()
    parser.feed(b"250-first\r\n")
    parser.feed_eof()

    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_reply()
    assert caught.value.raw == b"250-first\r\n"
    assert parser.next_reply() is CLOSED


@pytest.mark.parametrize(
    "line",
    [b"hello there\r\n", b"25\r\n", b"600 too high\r\n", b"199 too low\r\n", b"250x\r\n", b"\r\n"],
)
def test_garbage_line_raises_then_recovers(line: bytes) -> None:
    outcomes = three_feeds(line + b"250 fine\r\n")

    assert len(outcomes) == 2
    assert isinstance(outcomes[0], str)
    assert outcomes[0].startswith("error: ")
    assert isinstance(outcomes[1], Reply)
    assert outcomes[1].lines == ("fine",)


def test_garbage_error_carries_raw() -> None:
    parser = ReplyParser()
    parser.feed(b"* OK IMAP ready\r\n")

    with pytest.raises(RemoteProtocolError) as caught:
        parser.next_reply()
    assert caught.value.raw == b"* OK IMAP ready\r\n"


def test_code_change_inside_multi_line() -> None:
    outcomes = three_feeds(b"250-first\r\n251 second\r\n220 next\r\n")

    assert isinstance(outcomes[0], str)
    assert "changed from 250 to 251" in outcomes[0]
    assert isinstance(outcomes[1], Reply)
    assert outcomes[1].code == 220


def test_line_over_limit_cut_and_flagged() -> None:
    parser = ReplyParser(max_line_bytes=64)
    parser.feed(b"250 " + b"x" * 200 + b"\r\n250 next\r\n")

    first = parser.next_reply()
    assert isinstance(first, Reply)
    assert first.truncated
    assert len(first.raw) == 64
    assert first.lines == ("x" * 60,)
    assert parser.dropped_bytes == 204 + 2 - 64
    second = parser.next_reply()
    assert isinstance(second, Reply)
    assert second.lines == ("next",)
    assert not second.truncated


@pytest.mark.parametrize("length", [62, 63, 64, 65, 66, 67])
def test_line_near_limit_same_for_every_split(length: int) -> None:
    """A line of max_line_bytes plus CRLF is kept whole, one byte more is cut, in any split."""
    data = b"250 " + b"y" * (length - 4) + b"\r\n250 after\r\n"
    whole = feed_chunks([data], max_line_bytes=64)
    one_byte = feed_chunks([data[i : i + 1] for i in range(len(data))], max_line_bytes=64)

    assert one_byte == whole
    first = whole[0]
    assert isinstance(first, Reply)
    assert first.truncated == (length > 64)


def test_endless_line_memory_bounded() -> None:
    limit = 8192
    parser = ReplyParser(max_line_bytes=limit)
    chunk = b"250 " + b"A" * (64 * 1024 - 4)
    parser.feed(chunk)
    filler = b"A" * (64 * 1024)
    total = len(chunk)
    while total < 10 * 1024 * 1024:
        parser.feed(filler)
        total += len(filler)
        # A line of the limit plus CR could still end in LF and be kept whole, so one byte
        # over the limit may wait in the buffer.
        assert len(parser._buffer) <= limit + 1
        assert parser.next_reply() is NEED_DATA
    parser.feed(b"\r\n")

    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    assert reply.truncated
    assert len(reply.raw) == limit
    assert parser.dropped_bytes == total + 2 - limit


def test_endless_reply_keeps_max_lines() -> None:
    parser = ReplyParser(max_reply_lines=5)
    outcomes: list[Outcome] = []
    for number in range(1000):
        parser.feed(b"250-line %d\r\n" % number)
        outcomes += drain(parser)
        assert len(parser._current) <= 5
    parser.feed(b"250 last\r\n")
    outcomes += drain(parser)

    reply = only_reply(outcomes)
    assert reply.truncated
    assert len(reply.lines) == 5
    assert reply.lines[0] == "line 0"
    assert reply.lines[-1] == "last"


def test_reply_at_max_lines_not_truncated() -> None:
    data = b"".join(b"250-%d\r\n" % n for n in range(4)) + b"250 end\r\n"
    reply = only_reply(feed_chunks([data], max_reply_lines=5))

    assert len(reply.lines) == 5
    assert not reply.truncated


def test_take_buffered_returns_unparsed_bytes() -> None:
    parser = ReplyParser()
    parser.feed(b"220 go ahead\r\n250-injected\r\n250 more")

    reply = parser.next_reply()
    assert isinstance(reply, Reply)
    assert parser.take_buffered() == b"250-injected\r\n250 more"
    assert not parser.partial
    assert parser.next_reply() is NEED_DATA


def test_feed_after_eof_is_an_error() -> None:
    parser = ReplyParser()
    parser.feed_eof()

    with pytest.raises(RuntimeError):
        parser.feed(b"250 late\r\n")


# --- Properties -------------------------------------------------------------------------------

reply_lines = st.lists(
    st.tuples(
        st.sampled_from([b"220", b"250", b"354", b"421", b"535", b"999", b"25", b"abc", b""]),
        st.sampled_from([b" ", b"-", b"", b"x"]),
        st.binary(max_size=30).map(lambda text: text.replace(b"\n", b"")),
        st.sampled_from([b"\r\n", b"\n"]),
    ).map(b"".join),
    max_size=12,
).map(b"".join)


@st.composite
def split_points(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    bounds = [0, *cuts, len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(st.binary(max_size=300), reply_lines), eof=st.booleans(), seed=st.data())
def test_arbitrary_bytes_only_remote_errors(data: bytes, eof: bool, seed: st.DataObject) -> None:
    """Any bytes in any split give replies or RemoteProtocolError, the same for every split."""
    chunks = seed.draw(split_points(data))
    whole = feed_chunks([data], eof=eof, max_line_bytes=16, max_reply_lines=4)
    split = feed_chunks(chunks, eof=eof, max_line_bytes=16, max_reply_lines=4)

    assert split == whole
    for outcome in whole:
        if isinstance(outcome, Reply):
            assert 200 <= outcome.code <= 599
            assert len(outcome.lines) <= 4
            # Each kept line is at most the limit plus CRLF.
            assert len(outcome.raw) <= (16 + 2) * len(outcome.lines)


@settings(max_examples=200, deadline=None)
@given(data=reply_lines)
def test_raw_bytes_preserved(data: bytes) -> None:
    """Without limits hit, the raw bytes of replies and errors add up to the input."""
    parser = ReplyParser()
    parser.feed(data)
    seen = b""
    while True:
        try:
            result = parser.next_reply()
        except RemoteProtocolError as error:
            seen += error.raw
            continue
        if result is NEED_DATA:
            break
        assert isinstance(result, Reply)
        seen += result.raw
    assert seen + parser.take_buffered() == data
