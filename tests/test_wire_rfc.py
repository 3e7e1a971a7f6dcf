"""What RFC 6455 requires of a server receiving frames, rule by rule, then the websockets library as an oracle.

Each rule is checked with the frames fed in one read and one byte a read.
The rules are those websockets' ``tests/test_frames.py`` and
``tests/test_protocol.py`` check on the server side, plus the ones it leaves
to its I/O layer (UTF-8 in text messages) or does not check; where we differ
from it on purpose, the test says so.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from websockets.exceptions import PayloadTooBig, ProtocolError
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol
from wire_frames import Recorder, client_frame, close_payload, feed

from connectfour.web import wire

PROTOCOL_ERROR = ("violation", wire.CLOSE_PROTOCOL_ERROR)
INVALID_DATA = ("violation", wire.CLOSE_INVALID_DATA)
TOO_BIG = ("violation", wire.CLOSE_TOO_BIG)
CONTROL = (wire.OP_CLOSE, wire.OP_PING, wire.OP_PONG)


@pytest.fixture(params=["one read", "byte by byte"])
def calls(request):
    """What a new wire reports for ``data``, fed the fixture's way."""

    def run(data: bytes, max_size: int = 1024) -> list[tuple[object, ...]]:
        return feed(data, max_size=max_size, bytewise=request.param == "byte by byte")[1].calls

    return run


# -- 5.1, 5.3: a client masks every frame ------------------------------------------------


def test_a_masked_frame_is_accepted(calls):
    assert calls(client_frame(b"Spam")) == [("message", wire.OP_TEXT, b"Spam")]


@pytest.mark.parametrize("opcode", [wire.OP_TEXT, wire.OP_CONTINUATION, wire.OP_CLOSE, wire.OP_PING, wire.OP_PONG])
def test_an_unmasked_frame_fails_the_connection(calls, opcode):
    assert calls(client_frame(b"Spam", opcode, masked=False)) == [PROTOCOL_ERROR]


# -- 5.2: the base framing ----------------------------------------------------------------


@pytest.mark.parametrize("bit", [0b100, 0b010, 0b001])
@pytest.mark.parametrize("opcode", [wire.OP_TEXT, wire.OP_PING])
def test_a_reserved_bit_without_an_extension_fails_the_connection(calls, bit, opcode):
    assert calls(client_frame(b"x", opcode, rsv=bit)) == [PROTOCOL_ERROR]


@pytest.mark.parametrize("opcode", [*range(0x3, 0x8), *range(0xB, 0x10)])
def test_an_unknown_opcode_fails_the_connection(calls, opcode):
    assert calls(client_frame(b"", opcode)) == [PROTOCOL_ERROR]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_7_16_and_64_bit_lengths_are_read(calls, size):
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert calls(client_frame(payload, wire.OP_BINARY), max_size=65536) == [("message", wire.OP_BINARY, payload)]


@pytest.mark.parametrize("length", ["16", "64"])
def test_a_data_frame_length_wider_than_needed_is_accepted(calls, length):
    # RFC 6455 5.2 asks the sender for the shortest length; like websockets, we are lenient on data frames.
    assert calls(client_frame(b"Spam", length=length)) == [("message", wire.OP_TEXT, b"Spam")]


def test_a_64_bit_length_with_its_top_bit_set_fails_the_connection(calls):
    # websockets reads it unsigned, and so calls it too big (1009).
    assert calls(client_frame(announce=(1 << 63) | 4, length="64") + b"Spam") == [PROTOCOL_ERROR]


# -- 5.4: fragmentation -------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [wire.OP_TEXT, wire.OP_BINARY])
def test_a_fragmented_message_is_reassembled(calls, opcode):
    data = (
        client_frame(b"Sp", opcode, fin=False)
        + client_frame(b"", wire.OP_CONTINUATION, fin=False)
        + client_frame(b"a", wire.OP_CONTINUATION, fin=False)
        + client_frame(b"m", wire.OP_CONTINUATION)
    )
    assert calls(data) == [("message", opcode, b"Spam")]


def test_pings_and_pongs_inside_a_fragmented_message_are_reported_at_once(calls):
    data = (
        client_frame(b"Spam", fin=False)
        + client_frame(b"Ping", wire.OP_PING)
        + client_frame(b"Ham", wire.OP_CONTINUATION, fin=False)
        + client_frame(b"Pong", wire.OP_PONG)
        + client_frame(b"Eggs", wire.OP_CONTINUATION)
    )
    assert calls(data) == [("ping", b"Ping"), ("pong", b"Pong"), ("message", wire.OP_TEXT, b"SpamHamEggs")]


def test_a_close_inside_a_fragmented_message_closes_and_drops_the_message(calls):
    # RFC 6455 5.4 lets control frames come between fragments; websockets fails with 1002 instead.
    data = client_frame(b"Spam", fin=False) + client_frame(close_payload(1001), wire.OP_CLOSE)
    assert calls(data) == [("close", 1001, "")]


def test_a_continuation_without_a_message_fails_the_connection(calls):
    assert calls(client_frame(b"Spam", wire.OP_CONTINUATION)) == [PROTOCOL_ERROR]


def test_a_continuation_after_a_finished_message_fails_the_connection(calls):
    data = client_frame(b"Spam") + client_frame(b"Eggs", wire.OP_CONTINUATION)
    assert calls(data) == [("message", wire.OP_TEXT, b"Spam"), PROTOCOL_ERROR]


@pytest.mark.parametrize("opcode", [wire.OP_TEXT, wire.OP_BINARY])
def test_a_new_message_inside_a_fragmented_one_fails_the_connection(calls, opcode):
    assert calls(client_frame(b"", fin=False) + client_frame(b"", opcode)) == [PROTOCOL_ERROR]


def test_a_fragmented_message_over_max_size_fails_with_1009(calls):
    data = client_frame(b"\xf0\x9f", fin=False) + client_frame(b"\x98\x80", wire.OP_CONTINUATION)
    assert calls(data, max_size=3) == [TOO_BIG]


def test_a_frame_over_max_size_fails_with_1009(calls):
    assert calls(client_frame(b"x" * 1025, wire.OP_BINARY)) == [TOO_BIG]


# -- 5.5: control frames ------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [wire.OP_PING, wire.OP_PONG])
def test_a_control_frame_of_125_bytes_is_accepted(calls, opcode):
    kind = "ping" if opcode == wire.OP_PING else "pong"
    assert calls(client_frame(b"a" * 125, opcode)) == [(kind, b"a" * 125)]


@pytest.mark.parametrize("opcode", [wire.OP_PING, wire.OP_PONG, wire.OP_CLOSE])
def test_a_control_frame_over_125_bytes_fails_the_connection(calls, opcode):
    assert calls(client_frame(close_payload(1000, b"a" * 124), opcode)) == [PROTOCOL_ERROR]


def test_a_control_frame_length_wider_than_needed_fails_the_connection(calls):
    # websockets accepts b"\x88\x7e\x00\x7d" + 125 bytes; a length field saying 126 or 127 here
    # means over 125 bytes or not the shortest form, both forbidden, and is refused at once.
    assert calls(client_frame(b"a" * 125, wire.OP_PING, length="16")) == [PROTOCOL_ERROR]


@pytest.mark.parametrize("opcode", [wire.OP_PING, wire.OP_PONG, wire.OP_CLOSE])
def test_a_fragmented_control_frame_fails_the_connection(calls, opcode):
    assert calls(client_frame(b"", opcode, fin=False)) == [PROTOCOL_ERROR]


def test_a_ping_is_reported_with_its_payload(calls):
    assert calls(client_frame(b"", wire.OP_PING) + client_frame(b"\x00\xff", wire.OP_PING)) == [
        ("ping", b""),
        ("ping", b"\x00\xff"),
    ]


def test_a_pong_is_reported_with_its_payload(calls):
    assert calls(client_frame(b"", wire.OP_PONG) + client_frame(b"\x00\xff", wire.OP_PONG)) == [
        ("pong", b""),
        ("pong", b"\x00\xff"),
    ]


def test_an_empty_close_frame_has_no_code(calls):
    assert calls(client_frame(b"", wire.OP_CLOSE)) == [("close", None, "")]


def test_a_close_frame_reports_its_code_and_reason(calls):
    assert calls(client_frame(close_payload(1001, "caf\u00e9".encode()), wire.OP_CLOSE)) == [
        ("close", 1001, "caf\u00e9")
    ]


def test_a_close_frame_of_one_byte_fails_the_connection(calls):
    assert calls(client_frame(b"\x03", wire.OP_CLOSE)) == [PROTOCOL_ERROR]


def test_a_close_reason_that_is_not_utf8_fails_with_1007(calls):
    assert calls(client_frame(close_payload(1000, b"\xff\xff"), wire.OP_CLOSE)) == [INVALID_DATA]


@pytest.mark.parametrize("opcode", [wire.OP_TEXT, wire.OP_BINARY, wire.OP_CONTINUATION, *CONTROL])
def test_nothing_after_a_close_frame_is_reported(calls, opcode):
    data = client_frame(close_payload(1000), wire.OP_CLOSE) + client_frame(b"", opcode)
    assert calls(data) == [("close", 1000, "")]


# -- 7.4: close codes -----------------------------------------------------------------------

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CODES)
def test_a_close_frame_with_a_valid_code_is_reported(calls, code):
    assert wire.close_code_valid(code)
    assert calls(client_frame(close_payload(code, b"why"), wire.OP_CLOSE)) == [("close", code, "why")]


@pytest.mark.parametrize("code", INVALID_CODES)
def test_a_close_frame_with_an_invalid_code_fails_the_connection(calls, code):
    assert not wire.close_code_valid(code)
    assert calls(client_frame(close_payload(code), wire.OP_CLOSE)) == [PROTOCOL_ERROR]


def test_the_valid_close_codes_are_exactly_1000_to_1003_1007_to_1014_and_3000_to_4999():
    valid = [code for code in range(1 << 16) if wire.close_code_valid(code)]
    assert valid == [*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)]


# -- 5.6, 8.1: text is UTF-8 ------------------------------------------------------------------

NOT_UTF8 = {
    "stray continuation byte": b"\x80",
    "invalid byte": b"\xff",
    "truncated sequence": b"caf\xc3",
    "overlong encoding": b"\xc0\xaf",
    "encoded surrogate": b"\xed\xa0\x80",
    "beyond U+10FFFF": b"\xf4\x90\x80\x80",
}


def test_non_ascii_text_is_accepted(calls):
    text = "caf\u00e9 \u3042 \U0001f600".encode()
    assert calls(client_frame(text)) == [("message", wire.OP_TEXT, text)]


@pytest.mark.parametrize("fault", NOT_UTF8)
def test_a_text_message_that_is_not_utf8_fails_with_1007(calls, fault):
    assert calls(client_frame(b"ok " + NOT_UTF8[fault])) == [INVALID_DATA]


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_a_character_cut_between_fragments_is_valid(calls, cut):
    text = "\U0001f600".encode()
    data = client_frame(text[:cut], fin=False) + client_frame(text[cut:], wire.OP_CONTINUATION)
    assert calls(data) == [("message", wire.OP_TEXT, text)]


def test_a_fragmented_text_message_is_checked_whole(calls):
    data = client_frame("\U0001f600".encode()[:2], fin=False) + client_frame(b"ok", wire.OP_CONTINUATION)
    assert calls(data) == [INVALID_DATA]


def test_a_binary_message_is_not_checked(calls):
    assert calls(client_frame(b"\xff\xfe", wire.OP_BINARY)) == [("message", wire.OP_BINARY, b"\xff\xfe")]


# -- 7.1.7: once failed, the connection processes nothing more ----------------------------------


def test_nothing_after_a_violation_is_reported(calls):
    data = b"\xff\xff" + client_frame(b"Spam") + client_frame(close_payload(1000), wire.OP_CLOSE)
    assert calls(data) == [PROTOCOL_ERROR]


def test_the_end_of_the_stream_after_a_violation_is_still_reported():
    parser, recorder = feed(b"\xff\xff")
    parser.feed_data(b"\x00\x00")
    parser.feed_eof()
    assert recorder.calls == [PROTOCOL_ERROR, ("eof",)]


# -- websockets as an oracle ----------------------------------------------------------------------
#
# Random streams of well-formed and broken masked frames go to a Wire, cut at
# random points, and frame by frame to websockets' sans-I/O ServerProtocol;
# the messages, pings, pongs and the close (or the failure code) must agree.
# Where we differ on purpose (each one has its own test above), ``expected``
# says what we do instead:
#
# 1. a control frame whose length field says 126 or 127: 1002 at the header
#    (websockets: accepted if the payload is 125 bytes or less, else 1009 or 1002);
# 2. a 64-bit length with its top bit set: 1002 (websockets: 1009);
# 3. a close frame inside a fragmented message: a close (websockets: 1002);
# 4. a text message that is not UTF-8: 1007 (websockets' sans-I/O layer
#    leaves that to its I/O layer, which fails with 1007 too);
# 5. websockets counts control frames against the limit of the message they
#    interrupt, and against ``max_size`` when it is under 125: where that makes
#    it fail a frame we accept, only what came before is compared.


@dataclasses.dataclass
class Spec:
    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    masked: bool = True
    mask: bytes = b"\x00\x00\x00\x00"
    length: str = "minimal"  # or "16", "64", "top bit"

    def encode(self) -> bytes:
        if self.length == "top bit":
            announce = (1 << 63) | len(self.payload)
            length = "64"
        else:
            announce, length = None, self.length
        return client_frame(
            self.payload,
            self.opcode,
            fin=self.fin,
            rsv=self.rsv,
            masked=self.masked,
            mask=self.mask,
            length=length,
            announce=announce,
        )

    def extended_length(self) -> bool:
        return self.length != "minimal" or len(self.payload) > 125


@st.composite
def _pick(draw: st.DrawFn, choices: tuple[tuple[int, st.SearchStrategy[Any]], ...]) -> Any:
    n = draw(st.integers(0, sum(weight for weight, _ in choices) - 1))
    for weight, strategy in choices:
        if n < weight:
            return draw(strategy)
        n -= weight
    raise AssertionError(n)


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``choices``, each as often as its weight says (``one_of`` merges repeated strategies)."""
    return _pick(choices)


masks = st.one_of(st.just(b"\x00\x00\x00\x00"), st.binary(min_size=4, max_size=4))
MAX_SIZES = weighted((6, st.just(1024)), (4, st.just(300)), (3, st.just(125)), (1, st.just(16)), (1, st.just(0)))


def long_payloads(pieces: st.SearchStrategy[bytes], max_size: int) -> st.SearchStrategy[bytes]:
    """A short piece repeated (cheaper than drawing every byte) to about ``max_size`` bytes, or just around it."""
    sizes = st.one_of(st.integers(max_size // 4, max_size + 8), st.sampled_from([max_size - 1, max_size, max_size + 1]))
    return st.tuples(pieces, sizes).map(lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[: max(0, pair[1])])


ASCII = st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=3).map(str.encode)


@functools.cache
def texts(max_size: int) -> st.SearchStrategy[bytes]:
    return weighted(
        (14, st.text(max_size=40).map(str.encode)),  # valid UTF-8, often not ASCII
        (4, long_payloads(ASCII, max_size)),
        (1, long_payloads(st.text(min_size=1, max_size=3).map(str.encode), max_size)),  # may end inside a character
        (1, st.binary(max_size=12)),  # rarely UTF-8
        (1, st.sampled_from(list(NOT_UTF8.values()))),
    )


@functools.cache
def binaries(max_size: int) -> st.SearchStrategy[bytes]:
    return weighted((3, st.binary(max_size=20)), (2, long_payloads(st.binary(min_size=1, max_size=4), max_size)))


@functools.cache
def messages(max_size: int) -> st.SearchStrategy[list[Spec]]:
    return _messages(max_size)


@st.composite
def _messages(draw: st.DrawFn, max_size: int) -> list[Spec]:
    """A text or binary message, whole or in fragments cut anywhere (inside a character too), rarely unfinished."""
    opcode = draw(st.sampled_from([wire.OP_TEXT, wire.OP_BINARY]))
    data = draw(texts(max_size) if opcode == wire.OP_TEXT else binaries(max_size))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    parts = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    specs = [Spec(wire.OP_CONTINUATION if i else opcode, part, i == len(parts) - 1) for i, part in enumerate(parts)]
    for spec in specs:
        spec.mask = draw(masks)
        if draw(st.integers(0, 9)) == 0:
            spec.length = draw(st.sampled_from(["16", "64"]))
    if draw(st.integers(0, 19)) == 0:
        specs[-1].fin = False
    interrupt = draw(st.lists(st.tuples(st.integers(1, max(1, len(specs) - 1)), PINGS), max_size=2))
    for at, control in sorted(interrupt, key=lambda pair: -pair[0]):
        specs.insert(at, control)
    return specs


@st.composite
def pings(draw: st.DrawFn) -> Spec:
    payload = draw(PING_PAYLOADS)
    return Spec(draw(st.sampled_from([wire.OP_PING, wire.OP_PONG])), payload, mask=draw(masks))


PING_PAYLOADS = weighted((8, st.binary(max_size=10)), (1, st.binary(min_size=120, max_size=125)))
PINGS = pings()


@st.composite
def closes(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["valid", "valid", "valid", "empty", "one byte", "invalid", "any", "bad reason"]))
    if kind == "empty":
        payload = b""
    elif kind == "one byte":
        payload = draw(st.binary(min_size=1, max_size=1))
    else:
        codes = {"valid": st.sampled_from(VALID_CODES), "invalid": st.sampled_from(INVALID_CODES)}.get(
            kind, st.integers(0, 65535)
        )
        if kind == "bad reason":
            reason = draw(st.sampled_from(list(NOT_UTF8.values())))
        else:
            reason = draw(st.text(max_size=30)).encode()  # at most 120 bytes
        payload = close_payload(draw(codes), reason)
    return Spec(wire.OP_CLOSE, payload, mask=draw(masks))


@functools.cache
def endings(max_size: int) -> st.SearchStrategy[Spec | None]:
    whole = weighted((2, messages(max_size).map(lambda specs: specs[0])), (1, PINGS), (1, closes()))
    return weighted((1, st.none()), (1, closes()), (2, broken(whole)))


@st.composite
def broken(draw: st.DrawFn, frames: st.SearchStrategy[Spec]) -> Spec:
    """A frame with one thing wrong, or several: reserved bits, no mask, any opcode, a wider length..."""
    spec: Spec = draw(frames)
    for _ in range(draw(st.integers(1, 2))):
        fault = draw(st.sampled_from(["rsv", "unmasked", "opcode", "fin", "wide length", "top bit", "long control"]))
        if fault == "rsv":
            spec.rsv = draw(st.integers(1, 7))
        elif fault == "unmasked":
            spec.masked = False
        elif fault == "opcode":
            spec.opcode = draw(st.integers(0, 15))
        elif fault == "fin":
            spec.fin = not spec.fin
        elif fault == "wide length":
            spec.length = draw(st.sampled_from(["16", "64"]))
        elif fault == "top bit":
            spec.length = "top bit"
        else:
            spec.payload = draw(st.binary(min_size=126, max_size=130))
    return spec


@functools.cache
def groups_of(max_size: int) -> st.SearchStrategy[list[Spec]]:
    return weighted((4, messages(max_size)), (1, PINGS.map(lambda spec: [spec])))


@st.composite
def streams(draw: st.DrawFn, max_size: int) -> list[Spec]:
    """Messages, pings and pongs, with perhaps a close or a broken frame somewhere, most often last."""
    groups = draw(st.lists(groups_of(max_size), min_size=1, max_size=8))
    last = draw(endings(max_size))
    if last is not None:
        groups.insert(len(groups) if draw(st.booleans()) else draw(st.integers(0, len(groups))), [last])
    return [spec for group in groups for spec in group]


def expected(specs: list[Spec], max_size: int) -> tuple[list[tuple[object, ...]], tuple[object, ...] | None, bool]:
    """What a Wire must report, from websockets: (calls, the final close or violation, whether all is known)."""
    ws = ServerProtocol(state=State.OPEN, max_size=max_size)
    calls: list[tuple[object, ...]] = []
    parts: list[bytes] = []
    opcode = 0
    for spec in specs:
        data_frame = spec.opcode < 3
        if spec.opcode in CONTROL and spec.extended_length():  # 1.
            return calls, PROTOCOL_ERROR, True
        if data_frame and spec.length == "top bit":  # 2.
            return calls, PROTOCOL_ERROR, True
        ws.receive_data(spec.encode())
        for frame in ws.events_received():
            assert isinstance(frame, Frame)
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                if frame.opcode is not Opcode.CONT:
                    opcode, parts = int(frame.opcode), []
                parts.append(bytes(frame.data))
                if frame.fin:
                    message = b"".join(parts)
                    if opcode == wire.OP_TEXT:
                        try:
                            message.decode()
                        except UnicodeDecodeError:  # 4.
                            return calls, INVALID_DATA, True
                    calls.append(("message", opcode, message))
            elif frame.opcode is Opcode.PING:
                calls.append(("ping", bytes(frame.data)))
            elif frame.opcode is Opcode.PONG:
                calls.append(("pong", bytes(frame.data)))
        exc = ws.parser_exc
        if exc is not None:
            if isinstance(exc, ProtocolError) and str(exc) == "incomplete fragmented message":  # 3.
                assert ws.close_rcvd is not None
                code = None if ws.close_rcvd.code == 1005 else ws.close_rcvd.code
                return calls, ("close", code, ws.close_rcvd.reason), True
            if isinstance(exc, PayloadTooBig) and spec.opcode in CONTROL:  # 5.
                if not spec.fin or spec.rsv:
                    return calls, PROTOCOL_ERROR, True
                return calls, None, False
            code = {ProtocolError: 1002, UnicodeDecodeError: 1007, PayloadTooBig: 1009}[type(exc)]
            assert ws.close_sent is not None and ws.close_sent.code == code
            return calls, ("violation", code), True
        if ws.close_rcvd is not None:
            code = None if ws.close_rcvd.code == 1005 else ws.close_rcvd.code
            return calls, ("close", code, ws.close_rcvd.reason), True
    return calls, None, True


def test_the_oracle_turns_websockets_events_into_wire_calls():
    specs = [Spec(wire.OP_TEXT, b"a", fin=False), Spec(wire.OP_PING, b"p"), Spec(wire.OP_CONTINUATION, b"b")]
    specs.append(Spec(wire.OP_CLOSE, close_payload(1000, b"bye")))
    assert expected(specs, 1024) == (
        [("ping", b"p"), ("message", wire.OP_TEXT, b"ab")],
        ("close", 1000, "bye"),
        True,
    )
    assert expected([Spec(wire.OP_TEXT, b"x" * 300)], 200) == ([], TOO_BIG, True)
    assert expected([Spec(wire.OP_TEXT, b"\xff")], 200) == ([], INVALID_DATA, True)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(max_size=MAX_SIZES, data=st.data())
def test_a_wire_agrees_with_websockets_on_random_streams(max_size, data):
    specs = data.draw(streams(max_size))
    frames = [spec.encode() for spec in specs]
    stream = b"".join(frames)
    how = data.draw(st.sampled_from(["anywhere", "anywhere", "inside each header", "byte by byte"]))
    if how == "anywhere":
        cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    elif how == "inside each header":
        at = data.draw(st.integers(1, wire.MAX_HEADER))
        starts = itertools.accumulate((len(frame) for frame in frames), initial=0)
        cuts = [start + at for start in starts if start + at < len(stream)]
    else:
        cuts = list(range(1, len(stream)))
    recorder = Recorder()
    parser = wire.Wire(recorder, max_size)
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        parser.feed_data(stream[a:b])
        assert parser.buffered <= max(max_size, wire.MAX_CONTROL_PAYLOAD) + wire.MAX_HEADER

    calls, end, known = expected(specs, max_size)
    event(f"ends with {end[:2] if end else end}" if known else "websockets stops early")
    event(f"{min(len(calls), 5)}+ calls before the end")
    if not known:
        assert recorder.calls[: len(calls)] == calls
    elif end is None:
        assert recorder.calls == calls
    else:
        assert recorder.calls == [*calls, end]
