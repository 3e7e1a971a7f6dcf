"""Decoding client frames with precise errors; encoding server events.

Everything here is pure: bytes in, events out, and back.
"""

from __future__ import annotations

import msgspec

from .client_messages import ClientEvent, Init, Match
from .errors import ProtocolError
from .names import name_problem
from .server_messages import ServerEvent

# Typed explicitly: a mypy without PEP 747 TypeForm (which msgspec's stubs use) cannot infer it.
_decoder: msgspec.json.Decoder[ClientEvent] = msgspec.json.Decoder(ClientEvent)
_encoder = msgspec.json.Encoder()

_KNOWN_TYPES = ("init", "play", "resume", "resign", "claim", "rematch")


def decode(frame: str | bytes) -> ClientEvent:
    """Parse one client frame, or raise ProtocolError saying exactly what is wrong."""
    try:
        event = _decoder.decode(frame)
    except msgspec.ValidationError as exc:
        raise _invalid(frame, str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError("invalid_json", f"Message is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ProtocolError("invalid_message", "Message is nested too deeply.") from None
    except Exception as exc:  # whatever else the decoder may raise, the client hears of it
        raise ProtocolError("invalid_message", f"Message could not be read: {type(exc).__name__}.") from None
    if (type(event) is Init or type(event) is Match) and event.name is not None:  # (decoding makes exact types)
        problem = name_problem(event.name)
        if problem is not None:
            raise ProtocolError("invalid_message", f"Invalid name {event.name!r}: {problem}.")
    return event


def _invalid(frame: str | bytes, detail: str) -> ProtocolError:
    if detail.startswith("Invalid value") and detail.endswith("at `$.type`"):
        kind = detail.split("'", 2)[1] if "'" in detail else "?"
        known = ", ".join(_KNOWN_TYPES)
        return ProtocolError("unknown_type", f"Unknown event type {kind!r}; expected one of: {known}.")
    if detail.endswith("at `$.column`"):
        return ProtocolError("invalid_column", f"Column must be an integer from 0 to 6 ({detail}).")
    if detail.startswith("Expected `object`"):
        return ProtocolError("invalid_message", "Message must be a JSON object with a 'type' field.")
    return ProtocolError("invalid_message", f"Invalid message: {detail}.")


def encode(event: ServerEvent) -> bytes:
    """The v1 encoding of an event: compact JSON, fields in declaration order."""
    return _encoder.encode(event)
