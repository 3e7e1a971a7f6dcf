"""WebSocket framing, sans I/O: bytes in, handler calls out."""

from __future__ import annotations

import os

import pytest

from connectfour.web import wire


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_message(self, opcode: int, payload: bytes) -> None:
        self.calls.append(("message", opcode, payload))

    def on_ping(self, payload: bytes) -> None:
        self.calls.append(("ping", payload))

    def on_pong(self) -> None:
        self.calls.append(("pong",))

    def on_close(self, code: int | None, reason: str) -> None:
        self.calls.append(("close", code, reason))

    def on_violation(self, code: int, reason: str) -> None:
        self.calls.append(("violation", code))

    def on_eof(self) -> None:
        self.calls.append(("eof",))


def client_frame(payload: bytes, opcode: int = wire.OP_TEXT, fin: bool = True, mask: bytes | None = None) -> bytes:
    mask = os.urandom(4) if mask is None else mask
    size = len(payload)
    head = bytes(((0x80 if fin else 0) | opcode,))
    if size < 126:
        head += bytes((0x80 | size,))
    elif size < 1 << 16:
        head += bytes((0x80 | 126,)) + size.to_bytes(2, "big")
    else:
        head += bytes((0x80 | 127,)) + size.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.fixture
def feed():
    recorder = Recorder()
    parser = wire.Wire(recorder, max_size=1024)
    return parser, recorder


def test_a_masked_text_frame_is_unmasked(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b'{"type":"init"}'))
    assert recorder.calls == [("message", wire.OP_TEXT, b'{"type":"init"}')]


def test_frames_split_across_reads_and_joined_in_one_read_are_cut_right(feed):
    parser, recorder = feed
    data = client_frame(b"one") + client_frame(b"two" * 50) + client_frame(b"three")
    for i in range(len(data)):  # byte by byte
        parser.feed_data(data[i : i + 1])
    parser.feed_data(data)  # all at once
    texts = [call[2] for call in recorder.calls]
    assert texts == [b"one", b"two" * 50, b"three"] * 2


def test_a_fragmented_message_is_reassembled(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b'{"type":', fin=False) + client_frame(b'"init"}', opcode=wire.OP_CONTINUATION))
    assert recorder.calls == [("message", wire.OP_TEXT, b'{"type":"init"}')]


def test_a_ping_between_fragments_is_answered_at_once(feed):
    parser, recorder = feed
    parser.feed_data(
        client_frame(b"ab", fin=False) + client_frame(b"?", opcode=wire.OP_PING) + client_frame(b"cd", opcode=0)
    )
    assert recorder.calls == [("ping", b"?"), ("message", wire.OP_TEXT, b"abcd")]


def test_an_oversized_frame_is_a_1009_violation(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b"x" * 2000)[:20])  # the header alone tells
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]


def test_an_oversized_fragmented_message_is_a_1009_violation(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b"x" * 600, fin=False) + client_frame(b"x" * 600, opcode=0))
    assert recorder.calls == [("violation", wire.CLOSE_TOO_BIG)]


def test_an_unmasked_frame_is_a_1002_violation(feed):
    parser, recorder = feed
    parser.feed_data(bytes((0x81, 2)) + b"hi")
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]


def test_a_continuation_without_a_message_is_a_1002_violation(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b"x", opcode=wire.OP_CONTINUATION))
    assert recorder.calls == [("violation", wire.CLOSE_PROTOCOL_ERROR)]


def test_a_close_frame_reports_its_code_and_stops_parsing(feed):
    parser, recorder = feed
    parser.feed_data(client_frame(b"\x03\xe8bye", opcode=wire.OP_CLOSE) + client_frame(b"late"))
    assert recorder.calls == [("close", 1000, "bye")]


def test_end_of_stream_is_reported_once(feed):
    parser, recorder = feed
    parser.feed_eof()
    parser.feed_eof()
    assert recorder.calls == [("eof",)]


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
