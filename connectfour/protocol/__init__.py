"""The wire protocol: message types, decoding with precise errors, encoding."""

from .codec import decode, encode
from .errors import ERROR_CODES, ProtocolError
from .legacy import encode_legacy
from .revisions import SUBPROTOCOL_V1

__all__ = ["ERROR_CODES", "SUBPROTOCOL_V1", "ProtocolError", "decode", "encode", "encode_legacy"]
