"""WebSocket framing, sans I/O: how bytes are cut into frames, the limits, the buffering, server frames.

The protocol's rules, section by section, and the comparison with websockets
are in ``test_wire_rfc.py``.
"""

from __future__ import annotations

import os

import pytest
from wire_frames import Recorder, client_frame, close_payload, feed

from connectfour.web import wire

GiB = 1 << 30
MAX = 1024


# -- cutting bytes into frames -------------------------------------------------------


def test_a_masked_text_frame_is_unmasked():
    _, recorder = feed(client_frame(b'{"type":"init"}'))
    assert recorder.calls == [("message", wire.OP_TEXT, b'{"type":"init"}')]


def test_a_zero_mask_leaves_the_payload_as_sent():
    _, recorder = feed(client_frame(b'{"type":"init"}', mask=b"\x00\x00\x00\x00"))
    assert recorder.calls == [("message", wire.OP_TEXT, b'{"type":"init"}')]


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 29, 125, 126, 1000])
def test_unmasking_xors_the_payload_with_the_key_repeated(size):
    payload, mask = os.urandom(size), os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert wire.unmask(masked, mask) == payload
    _, recorder = feed(client_frame(payload, wire.OP_BINARY, mask=mask), max_size=size)
    assert recorder.calls == [("message", wire.OP_BINARY, payload)]


def test_feeding_returns_what_aiohttp_set_parser_expects():
    parser = wire.Wire(Recorder(), MAX)
    assert parser.feed_data(client_frame(b"x")) == (False, b"")
    assert parser.feed_data(client_frame(b"x")[:3]) == (False, b"")


def test_frames_split_across_reads_and_joined_in_one_read_are_cut_right():
    recorder = Recorder()
    parser = wire.Wire(recorder, MAX)
    data = client_frame(b"one") + client_frame(b"two" * 50) + client_frame(b"three")
    for i in range(len(data)):  # byte by byte
        parser.feed_data(data[i : i + 1])
    parser.feed_data(data)  # all at once
    texts = [call[2] for call in recorder.calls]
    assert texts == [b"one", b"two" * 50, b"three"] * 2


MIXED = b"".join(
    [
        client_frame(b"short"),
        client_frame(b"x" * 300, wire.OP_BINARY),  # a 16-bit length
        client_frame("h\u00e9".encode()[:2], fin=False),
        client_frame(b"?", wire.OP_PING),
        client_frame("h\u00e9".encode()[2:], wire.OP_CONTINUATION),  # a character cut between fragments
        client_frame(b"", wire.OP_PONG),
        client_frame(b"y" * 200, length="64"),  # a 64-bit length, wider than needed
        client_frame(close_payload(1000, b"bye"), wire.OP_CLOSE),
    ]
)
MIXED_CALLS = [
    ("message", wire.OP_TEXT, b"short"),
    ("message", wire.OP_BINARY, b"x" * 300),
    ("ping", b"?"),
    ("message", wire.OP_TEXT, "h\u00e9".encode()),
    ("pong", b""),
    ("message", wire.OP_TEXT, b"y" * 200),
    ("close", 1000, "bye"),
]


def test_a_stream_gives_the_same_calls_in_one_read_and_byte_by_byte():
    assert feed(MIXED)[1].calls == MIXED_CALLS
    assert feed(MIXED, bytewise=True)[1].calls == MIXED_CALLS


def test_a_stream_gives_the_same_calls_wherever_it_is_cut_in_two():
    for cut in range(len(MIXED) + 1):
        recorder = Recorder()
        parser = wire.Wire(recorder, MAX)
        parser.feed_data(MIXED[:cut])
        parser.feed_data(MIXED[cut:])
        assert recorder.calls == MIXED_CALLS, cut


def test_a_stream_gives_the_same_calls_cut_into_reads_of_any_size():
    for step in (2, 3, 5, 7, 13, 64, 127, 500):
        recorder = Recorder()
        parser = wire.Wire(recorder, MAX)
        for i in range(0, len(MIXED), step):
            parser.feed_data(MIXED[i : i + step])
        assert recorder.calls == MIXED_CALLS, step


@pytest.mark.parametrize(
    ("frames", "max_size", "calls"),
    [
        (
            [client_frame(b'{"type":"play","column":3}'), client_frame(b"")],
            MAX,
            [("message", wire.OP_TEXT, b'{"type":"play","column":3}'), ("message", wire.OP_TEXT, b"")],
        ),
        (
            [client_frame(b"z" * 125), client_frame("\u00e9t\u00e9".encode(), mask=b"\x00\x00\x00\x00")],
            MAX,
            [("message", wire.OP_TEXT, b"z" * 125), ("message", wire.OP_TEXT, "\u00e9t\u00e9".encode())],
        ),
        ([client_frame(b"\xff\xfe")], MAX, [("violation", wire.CLOSE_INVALID_DATA)]),
        ([client_frame(b"x", fin=False), client_frame(b"y")], MAX, [("violation", wire.CLOSE_PROTOCOL_ERROR)]),
        ([client_frame(b"x" * 30)], 20, [("violation", wire.CLOSE_TOO_BIG)]),
        # 132 bytes, as a frame of 126 with a 6-byte header would be:
        ([client_frame(b"x" * 124, length="16")], MAX, [("message", wire.OP_TEXT, b"x" * 124)]),
        (
            [client_frame(b"x" * 120, length="64"), client_frame(b"x", rsv=4)],
            MAX,
            [("message", wire.OP_TEXT, b"x" * 120), ("violation", wire.CLOSE_PROTOCOL_ERROR)],
        ),
    ],
)
def test_each_frame_in_a_read_of_its_own_is_cut_and_checked_as_any_other(frames, max_size, calls):
    """One whole small text frame per read is the commonest case, parsed in fewer steps."""
    recorder = Recorder()
    parser = wire.Wire(recorder, max_size)
    for frame in frames:
        parser.feed_data(frame)
    assert recorder.calls == calls


def test_payloads_are_bytes_even_when_the_frame_was_buffered():
    # The recorder asserts the type: a bytearray from the buffer must not leak out.
    data = client_frame(b"abc", mask=b"\x00\x00\x00\x00") + client_frame(b"?", wire.OP_PING, mask=b"\x00\x00\x00\x00")
    assert feed(data, bytewise=True)[1].calls == [("message", wire.OP_TEXT, b"abc"), ("ping", b"?")]


# -- limits, enforced at the header -------------------------------------------------


@pytest.mark.parametrize("length", ["minimal", "64"])
def test_a_frame_of_exactly_max_size_is_accepted(length):
    _, recorder = feed(client_frame(b"x" * MAX, length=length))
    assert recorder.calls == [("message", wire.OP_TEXT, b"x" * MAX)]


@pytest.mark.parametrize(("size", "length"), [(MAX + 1, "minimal"), (MAX + 1, "64"), (GiB, "minimal"), (1 << 62, "64")])
def test_a_data_frame_over_max_size_is_refused_from_its_header_alone(size, length):
    header = client_frame(announce=size, length=length)
    parser, recorder = feed(header)
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]
    assert not parser._buffer


def test_a_data_frame_over_max_size_is_refused_as_its_header_completes_byte_by_byte():
    header = client_frame(announce=GiB)
    recorder = Recorder()
    parser = wire.Wire(recorder, MAX)
    for i in range(len(header) - 1):
        parser.feed_data(header[i : i + 1])
    assert recorder.calls == []
    parser.feed_data(header[-1:])
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]


@pytest.mark.parametrize("opcode", [wire.OP_PING, wire.OP_PONG, wire.OP_CLOSE])
def test_a_control_frame_announcing_1_gib_is_refused_from_its_first_two_bytes(opcode):
    parser, recorder = feed(client_frame(announce=GiB, opcode=opcode)[:2])
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]
    assert not parser._buffer


def test_a_fragment_taking_the_message_over_max_size_is_refused_at_its_header():
    first = client_frame(b"x" * 600, fin=False)
    second = client_frame(b"x" * 600, wire.OP_CONTINUATION)
    _, recorder = feed(first + second[:8])  # the second's header, no payload
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]


def test_every_fragment_counts_against_the_message_limit():
    data = b"".join(client_frame(b"x" * 400, opcode, fin=False) for opcode in (wire.OP_TEXT, 0))
    _, recorder = feed(data + client_frame(b"x" * 400, wire.OP_CONTINUATION))
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]


def test_a_fragmented_message_of_exactly_max_size_is_accepted():
    data = client_frame(b"x" * 600, fin=False) + client_frame(b"y" * (MAX - 600), wire.OP_CONTINUATION)
    _, recorder = feed(data)
    assert recorder.calls == [("message", wire.OP_TEXT, b"x" * 600 + b"y" * (MAX - 600))]


def test_after_a_fragmented_message_the_next_one_has_the_whole_limit_again():
    message = client_frame(b"x" * 600, fin=False) + client_frame(b"y" * 400, wire.OP_CONTINUATION)
    _, recorder = feed(message + client_frame(b"z" * MAX))
    assert [len(call[2]) for call in recorder.calls] == [1000, MAX]


def test_control_frames_inside_a_fragmented_message_do_not_count_against_its_limit():
    # websockets counts them (a 100-byte ping after 1000 bytes of a 1024-byte message is 1009 there).
    data = (
        client_frame(b"x" * 1000, fin=False)
        + client_frame(b"p" * 100, wire.OP_PING)
        + client_frame(b"y" * 24, wire.OP_CONTINUATION)
    )
    _, recorder = feed(data)
    assert recorder.calls == [("ping", b"p" * 100), ("message", wire.OP_TEXT, b"x" * 1000 + b"y" * 24)]


HEADERS_THAT_FAIL = {
    "unknown opcode": (client_frame(opcode=0x3, announce=GiB), wire.CLOSE_PROTOCOL_ERROR),
    "reserved bit": (client_frame(rsv=0b100, announce=100), wire.CLOSE_PROTOCOL_ERROR),
    "unmasked": (client_frame(masked=False, announce=100), wire.CLOSE_PROTOCOL_ERROR),
    "continuation without a message": (client_frame(opcode=0, announce=100), wire.CLOSE_PROTOCOL_ERROR),
    "control over 125 bytes": (client_frame(opcode=wire.OP_PING, announce=126), wire.CLOSE_PROTOCOL_ERROR),
    "fragmented control": (client_frame(opcode=wire.OP_PING, fin=False, announce=10), wire.CLOSE_PROTOCOL_ERROR),
    "64-bit length with its top bit set": (client_frame(announce=1 << 63, length="64"), wire.CLOSE_PROTOCOL_ERROR),
    "over max size": (client_frame(announce=MAX + 1), wire.CLOSE_TOO_BIG),
}


@pytest.mark.parametrize("fault", HEADERS_THAT_FAIL)
def test_a_header_that_breaks_a_rule_fails_the_connection_before_its_payload(fault):
    header, code = HEADERS_THAT_FAIL[fault]
    _, recorder = feed(header)
    assert recorder.calls == [("violation", code)]


def test_a_new_message_inside_a_fragmented_one_fails_at_its_header():
    _, recorder = feed(client_frame(b"ab", fin=False) + client_frame(announce=100))
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]


# -- buffering -----------------------------------------------------------------------


@pytest.mark.parametrize("length", ["minimal", "64"])
@pytest.mark.parametrize("step", [1, 7, 1000])
def test_a_max_size_frame_in_many_reads_never_holds_more_than_itself(length, step):
    data = client_frame(b"x" * MAX, length=length) + client_frame(b"next")
    recorder = Recorder()
    parser = wire.Wire(recorder, MAX)
    for i in range(0, len(data), step):
        parser.feed_data(data[i : i + step])
        assert parser.buffered <= MAX + wire.MAX_HEADER
    assert recorder.calls == [("message", wire.OP_TEXT, b"x" * MAX), ("message", wire.OP_TEXT, b"next")]
    assert not parser._buffer


def test_the_read_completing_a_frame_adds_to_the_buffer_only_what_the_frame_lacks():
    big = client_frame(b"x" * MAX)
    many = b"".join(client_frame(b"m%d" % i) for i in range(50))
    recorder = Recorder()
    parser = wire.Wire(recorder, MAX)
    parser.feed_data(big[:10])
    parser.feed_data(big[10:] + many + big[:500])  # the rest, 50 whole frames, the start of another
    assert len(recorder.calls) == 51
    assert parser.buffered == 500


def test_a_partial_frame_grows_its_buffer_in_place_and_is_not_parsed_again():
    # Appending to one bytearray is linear; rebuilding ``buffer + data`` on each read was quadratic.
    data = client_frame(b"x" * MAX)
    parser = wire.Wire(Recorder(), MAX)
    parser.feed_data(data[:100])
    buffer = parser._buffer
    for i in range(100, len(data) - 1, 10):
        parser.feed_data(data[i : min(i + 10, len(data) - 1)])
        assert parser._buffer is buffer
    assert len(buffer) == len(data) - 1


def test_a_control_frame_is_buffered_whole_at_most():
    data = client_frame(b"p" * 125, wire.OP_PING)
    parser, recorder = feed(data[:-1], bytewise=True)
    assert parser.buffered == len(data) - 1 <= wire.MAX_CONTROL_PAYLOAD + 6
    parser.feed_data(data[-1:])
    assert recorder.calls == [("ping", b"p" * 125)]


def test_nothing_is_parsed_or_buffered_after_a_violation():
    parser, recorder = feed(client_frame(masked=False, announce=3) + b"abc" + client_frame(b"late"))
    parser.feed_data(client_frame(b"later")[:3])
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]
    assert not parser._buffer


def test_nothing_is_parsed_or_buffered_after_a_close():
    parser, recorder = feed(client_frame(b"", wire.OP_CLOSE) + client_frame(b"late"))
    parser.feed_data(client_frame(b"later")[:3])
    assert recorder.calls == [("close", None, "")]
    assert not parser._buffer


def test_a_violation_drops_the_buffered_frame_and_the_message_being_reassembled():
    more = client_frame(b"c" * 100, wire.OP_CONTINUATION, fin=False)
    parser, recorder = feed(client_frame(b"ab", fin=False) + more[:50])
    assert parser._buffer and parser._fragments
    parser.feed_data(more[50:] + client_frame(b"d" * 100)[:50])  # then a new message inside this one
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]
    assert not parser._buffer and not parser._fragments


class Stopper(Recorder):
    """Closes the connection on its first message, as ``Connection`` does on a flood."""

    def __init__(self) -> None:
        super().__init__()
        self.wire: wire.Wire | None = None

    def on_message(self, opcode: int, payload: bytes) -> None:
        super().on_message(opcode, payload)
        assert self.wire is not None
        self.wire.stop()


@pytest.mark.parametrize("cut", [0, 3, 8])
def test_frames_after_a_handler_stops_the_wire_are_ignored_even_in_the_same_read(cut):
    stopper = Stopper()
    parser = stopper.wire = wire.Wire(stopper, MAX)
    first = client_frame(b"first")
    parser.feed_data(first[:cut])
    parser.feed_data(first[cut:] + client_frame(b"second") + client_frame(b"third")[:4])
    assert stopper.calls == [("message", wire.OP_TEXT, b"first")]
    assert not parser._buffer


def test_end_of_stream_is_reported_once_and_drops_a_partial_frame():
    parser, recorder = feed(client_frame(b"cut short")[:5])
    parser.feed_eof()
    parser.feed_eof()
    parser.feed_data(client_frame(b"late"))
    assert recorder.calls == [("eof",)]
    assert not parser._buffer


# -- server frames -------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_server_frames_carry_the_right_length_header(size):
    frame = wire.frame(b"x" * size)
    if size < 126:
        assert frame[:2] == bytes((0x81, size))
    elif size < 65536:
        assert frame[:4] == bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        assert frame[:10] == bytes((0x81, 127)) + size.to_bytes(8, "big")
    assert frame.endswith(b"x" * size)


def test_a_close_frame_carries_its_code_and_reason():
    assert wire.close_frame(1000, "bye") == b"\x88\x05\x03\xe8bye"
    assert wire.close_frame(1001) == b"\x88\x02\x03\xe9"


LONG_REASONS = ["a" * 200, "\u00e9" * 100, "\u3042" * 50, "\U0001f600" * 40, "a" + "\U0001f600" * 40]


@pytest.mark.parametrize("reason", LONG_REASONS)
def test_a_close_frame_cuts_a_long_reason_between_characters(reason):
    frame = wire.close_frame(1008, reason)
    assert frame[0] == 0x88 and frame[1] == len(frame) - 2 <= 125
    text = frame[4:].decode()  # raises if a character was cut
    assert reason.startswith(text) and len(frame[4:]) > 119
    # And our own parser takes it as a valid close frame.
    _, recorder = feed(client_frame(frame[2:], wire.OP_CLOSE))
    assert recorder.calls == [("close", 1008, text)]
