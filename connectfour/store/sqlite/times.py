"""Each event's time, exactly as it was appended: a game's times as one BLOB of its row, and back.

A time is a float (seconds since the epoch). The times of one game lie
close together and close to its ``created_at``, so their IEEE 754 bits agree
with that time's in the sign, the exponent and the upper mantissa: each is
kept as the XOR of its bits with those of ``created_at``, which is small.
The BLOB is one byte, the width (the bytes the widest XOR needs, 1 to 8),
then that many planes of one byte per time: every time's lowest byte, then
every time's next one, and so on. A game played over minutes takes 4 or 5
bytes per event (``repr`` would take 17 or 18); any float at all (a clock
that went back, a time of another exponent) comes back exactly, only wider.

Both ways are a few calls into C (big integers, byte slices) whatever the
number of times, made when a game is folded or read from SQLite, never per
move: in memory a game keeps its times as a list of floats.
"""

from __future__ import annotations

import struct

_DOUBLE = struct.Struct("<d")


def _repeated(base: float, count: int) -> int:
    """``base``'s bits in each of ``count`` 64-bit lanes of one integer."""
    return int.from_bytes(_DOUBLE.pack(base) * count, "little")


def encode(times: list[float], base: float) -> bytes | None:
    """The BLOB of ``times`` (None for none), each kept against ``base``, the game's ``created_at``."""
    count = len(times)
    if not count:
        return None
    bits = int.from_bytes(struct.pack(f"<{count}d", *times), "little") ^ _repeated(base, count)
    lanes = bits.to_bytes(8 * count, "little")
    zero = bytes(count)
    width = 8
    while width > 1 and lanes[width - 1 :: 8] == zero:
        width -= 1
    return bytes((width,)) + b"".join(lanes[plane::8] for plane in range(width))


def decode(blob: bytes | None, base: float) -> list[float]:
    """The times ``encode`` kept in ``blob`` against ``base``; ValueError if it is not such a BLOB."""
    if not blob:
        return []
    width = blob[0]
    count = (len(blob) - 1) // width if 1 <= width <= 8 else 0
    if not count or 1 + width * count != len(blob):
        raise ValueError(f"no times in a BLOB of {len(blob)} bytes of width {width}")
    lanes = bytearray(8 * count)
    for plane in range(width):
        lanes[plane::8] = blob[1 + plane * count : 1 + (plane + 1) * count]
    bits = int.from_bytes(lanes, "little") ^ _repeated(base, count)
    return list(struct.unpack(f"<{count}d", bits.to_bytes(8 * count, "little")))
