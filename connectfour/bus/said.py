"""What is said to every process (not to a game's channel): each message under a topic.

Two parts of the service talk to every process: the lobby (each process's
part of it) and the operators' announcements. They share one channel, so
each message carries its topic, and a listener hears only its own: nothing
is told apart by its first byte. The body is the speaker's own encoding.
"""

from __future__ import annotations

from typing import Literal

import msgspec

#: Who speaks to every process.
Topic = Literal["lobby", "announcement"]


class Said(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One message to every process: its topic, and its body as the speaker encoded it."""

    topic: Topic
    body: bytes


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Said).decode


def encode_said(topic: Topic, body: bytes) -> bytes:
    return _encode(Said(topic, body))


def decode_said(data: bytes) -> Said:
    """The message; ``msgspec.DecodeError`` (a ``ValueError``) if it is none."""
    return _decode(data)
