"""RFC 6455's rules for what a client sends, enforced over a real socket on both
ways in (the front door and aiohttp's handler): the connection fails with the
close code the RFC names, and nothing it sent is acted on."""

from __future__ import annotations

import pytest
from rawws import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, RawSocket, client_frame


async def closed_with(server, *frames: bytes) -> int | None:
    raw = await RawSocket.upgraded(server.port)
    await raw.send(b"".join(frames))
    code = await raw.close_code()
    raw.close()
    return code


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
async def test_a_control_frame_over_125_bytes_fails_with_1002(server, opcode):
    assert await closed_with(server, client_frame(b"\x03\xe8" + b"x" * 124, opcode)) == 1002


async def test_a_control_frame_is_refused_at_its_header_however_long_it_claims_to_be(server):
    assert await closed_with(server, client_frame(b"", OP_PING, length=1 << 30)) == 1002


async def test_a_fragmented_control_frame_fails_with_1002(server):
    assert await closed_with(server, client_frame(b"ping", OP_PING, fin=False)) == 1002


async def test_a_one_byte_close_payload_fails_with_1002(server):
    assert await closed_with(server, client_frame(b"\x03", OP_CLOSE)) == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
async def test_an_invalid_close_code_fails_with_1002_and_is_not_echoed(server, code):
    assert await closed_with(server, client_frame(code.to_bytes(2, "big"), OP_CLOSE)) == 1002


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
async def test_a_valid_close_code_is_echoed(server, code):
    assert await closed_with(server, client_frame(code.to_bytes(2, "big") + b"bye", OP_CLOSE)) == code


async def test_a_close_reason_that_is_not_utf8_fails_with_1007(server):
    assert await closed_with(server, client_frame(b"\x03\xe8\xff\xfe", OP_CLOSE)) == 1007


@pytest.mark.parametrize("payload", [b'{"type":"init","x":"\xff"}', b'{"type":"init","x":"\xed\xa0\x80"}', b"\xc3"])
async def test_a_text_message_that_is_not_utf8_fails_with_1007(server, payload):
    assert await closed_with(server, client_frame(payload)) == 1007


async def test_a_text_message_cut_inside_a_character_is_valid_once_joined(server):
    raw = await RawSocket.upgraded(server.port)
    message = '{"type":"init","watch":"é"}'.encode()
    cut = message.index(b"\xc3") + 1
    await raw.send(client_frame(message[:cut], fin=False) + client_frame(message[cut:], OP_CONT))
    assert b"Game not found" in await raw.until(OP_TEXT)  # the watch key was read whole
    raw.close()


@pytest.mark.parametrize("rsv", [1, 2, 4])
async def test_a_reserved_bit_fails_with_1002(server, rsv):
    assert await closed_with(server, client_frame(b'{"type":"init"}', rsv=rsv)) == 1002


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
async def test_a_reserved_opcode_fails_with_1002(server, opcode):
    assert await closed_with(server, client_frame(b"", opcode)) == 1002


async def test_a_data_frame_inside_a_fragmented_message_fails_with_1002(server):
    assert await closed_with(server, client_frame(b"{", fin=False), client_frame(b"}", OP_BINARY)) == 1002


async def test_a_continuation_with_no_message_fails_with_1002(server):
    assert await closed_with(server, client_frame(b"}", OP_CONT)) == 1002


async def test_a_message_over_the_limit_fails_with_1009_at_its_header(make_server):
    server = await make_server(max_frame=1024)
    assert await closed_with(server, client_frame(b"", OP_TEXT, length=1 << 40)) == 1009


async def test_a_fragmented_message_over_the_limit_fails_with_1009(make_server):
    server = await make_server(max_frame=1024)
    frames = client_frame(b"x" * 600, fin=False) + client_frame(b"x" * 600, OP_CONT, fin=False)
    assert await closed_with(server, frames) == 1009
