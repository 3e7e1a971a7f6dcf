"""The server side of the WebSocket opening handshake (RFC 6455, section 4.2).

One check, ``check_upgrade``, decides every upgrade, whichever way the
connection reached us: the guard at the front (``web/front.py``) parses the raw head
with ``parse_head``; aiohttp's path (``endpoint.accept_headers``) gives its
parsed request. Both pass every header line, repeats included, so that a
second copy can never slip past a check that read the first: the check is as
strict as websockets' own server, which refuses repeated single-valued
fields and reads Connection and Upgrade as token lists over all their copies.

Nothing here needs aiohttp: these are pure functions of the request's parts.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from .origin import OriginPolicy

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

_TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
#: The request line: ``method SP request-target SP HTTP-version CRLF``.
_REQUEST_LINE = re.compile(rf"({_TOKEN}) ([\x21-\x7e]+) (HTTP/[0-9]\.[0-9])\r\n")
#: A whole field line, from a line's start: ``name ":" OWS value CRLF``, the
#: value of tabs, spaces, printable ASCII and obs-text (its trailing OWS
#: included, stripped after). Possessive, so a failure never backtracks.
_FIELD_LINE = re.compile(rf"(?m)^({_TOKEN}):[ \t]*+([\t\x20-\x7e\x80-\xff]*+)\r\n")
_TOKEN_RE = re.compile(_TOKEN)
#: An Upgrade protocol: ``token ["/" token]`` (RFC 9110, 7.8).
_PROTOCOL_RE = re.compile(rf"{_TOKEN}(?:/{_TOKEN})?")

#: Fields the check reads (lower-case); every other one is passed over.
_READ = frozenset(
    ("host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol",
     "origin", "content-length", "transfer-encoding")
)  # fmt: skip
#: Fields that may appear once, in the order a repeat of them is reported.
_SINGLE = (
    ("host", "Host"),
    ("sec-websocket-key", "Sec-WebSocket-Key"),
    ("sec-websocket-version", "Sec-WebSocket-Version"),
    ("origin", "Origin"),
)
_VERSION_13 = {"Sec-WebSocket-Version": "13"}
_NO_BODY = "A WebSocket handshake has no body: no Content-Length but 0, no Transfer-Encoding.\n"


class RequestHead(NamedTuple):
    """A parsed request head. Names are as sent (compare them case-insensitively); values lose their OWS."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]


def parse_head(head: bytes) -> RequestHead | None:
    """The request head ``head``, or None unless it is strictly well-formed HTTP/1.x.

    ``head`` is the request line and every header line, each with its CRLF,
    and without the empty line that ends the head: for a buffer in which
    ``end = buffer.find(b"\\r\\n\\r\\n")``, it is ``buffer[: end + 2]``.

    Strict, so that the guard reads no request otherwise than aiohttp or
    websockets would: CRLF only (a bare LF or CR is refused), no obs-fold,
    no whitespace before a colon, no control character in a value, single
    spaces between the request line's parts. Values are decoded as
    ISO-8859-1: opaque bytes, as HTTP says.

    Fast, for the guard parses one per connection: the regular expressions
    run in C and no Python code runs per field. A field match starts at a
    line's start and holds exactly one LF, its last character; so when there
    are as many matches as LFs after the request line, and the head ends
    with CRLF, the matches tile the whole head: every line is a field.
    """
    text = head.decode("latin-1")
    line = _REQUEST_LINE.match(text)
    if line is None:
        return None
    fields = _FIELD_LINE.findall(text, line.end())
    if len(fields) + 1 != text.count("\n") or not text.endswith("\r\n"):
        return None
    if " \r\n" in text or "\t\r\n" in text:  # rare: trailing whitespace in some value
        fields = [(name, value.rstrip(" \t")) for name, value in fields]
    method, target, version = line.groups()
    return RequestHead(method, target, version, fields)


class HandshakeRefused(Exception):
    """An upgrade request that gets ``status`` with ``text`` (a sentence for people) and ``headers``."""

    def __init__(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, text)
        self.status = status
        self.text = text
        self.headers: dict[str, str] = dict(headers or {})


class Accepted(NamedTuple):
    """A valid upgrade: the Sec-WebSocket-Accept value and the subprotocol chosen, if any."""

    accept: str
    subprotocol: str | None

    def headers(self) -> dict[str, str]:
        """The 101 answer's headers."""
        answer = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": self.accept}
        if self.subprotocol is not None:
            answer["Sec-WebSocket-Protocol"] = self.subprotocol
        return answer


def key_valid(key: bytes) -> bool:
    """Sec-WebSocket-Key must be 16 bytes in base64 (24 characters)."""
    if len(key) != 24:
        return False
    try:
        return len(binascii.a2b_base64(key, strict_mode=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept_key(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a (valid) Sec-WebSocket-Key."""
    return binascii.b2a_base64(hashlib.sha1(key + _GUID).digest(), newline=False)


def choose_subprotocol(offered: str, supported: tuple[str, ...]) -> str | None:
    """The first subprotocol of the client's list that we speak, or None."""
    for name in offered.split(","):
        name = name.strip()
        if name and name in supported:
            return name
    return None


def check_upgrade(
    method: str,
    version: str,
    headers: Iterable[tuple[str, str]],
    *,
    scheme: str,
    allowed_origins: tuple[str, ...],
    subprotocols: tuple[str, ...],
) -> Accepted:
    """The answer to a WebSocket upgrade request, or HandshakeRefused saying why not.

    ``version`` is the request line's, as ``"HTTP/1.1"``; ``headers`` every
    (name, value) pair in order, repeats included, names in any case.
    ``scheme`` is how the client reached us ("http", or "https" on TLS or
    behind a trusted proxy that says so): the server's own origin is
    ``{scheme}://{Host}``. Refusals are 405 for another method, 403 for an
    origin not allowed, 400 for anything else (with
    ``Sec-WebSocket-Version: 13`` when the version is wrong, as RFC 6455 asks).

    A field's usual form (one copy, ``Connection: Upgrade``, one offered
    subprotocol) is checked directly; any other is parsed as a list.
    """
    if method != "GET":
        raise HandshakeRefused(405, f"A WebSocket handshake is a GET request, not {method}.\n", {"Allow": "GET"})
    fields: dict[str, str] = {}  # the first copy of each field read
    repeated: dict[str, list[str]] = {}  # every copy of each field sent more than once
    for name, value in headers:
        name = name.lower()
        if name in _READ:
            if name in fields:
                copies = repeated.get(name)
                if copies is None:
                    repeated[name] = [fields[name], value]
                else:
                    copies.append(value)
            else:
                fields[name] = value
    get = fields.get

    upgrade = get("upgrade")
    if upgrade is None:
        raise HandshakeRefused(400, "This is a WebSocket endpoint: send an Upgrade: websocket request.\n")
    if "upgrade" in repeated or upgrade.lower() != "websocket":
        copies = repeated.get("upgrade") or [upgrade]
        protocols = _list(copies, _PROTOCOL_RE)
        if protocols is None or len(protocols) != 1 or protocols[0].lower() != "websocket":
            shown = _show(", ".join(copies))
            raise HandshakeRefused(400, f"The Upgrade header must be exactly websocket, not {shown}.\n")
    connection = get("connection")
    if connection is None or "connection" in repeated or connection.lower() != "upgrade":
        options = _list(repeated.get("connection") or [connection or ""], _TOKEN_RE)
        if not options or not any(option.lower() == "upgrade" for option in options):
            raise HandshakeRefused(
                400, "The Connection header must include Upgrade, in a comma-separated list of tokens.\n"
            )
    if version != "HTTP/1.1":
        raise HandshakeRefused(400, f"A WebSocket handshake needs HTTP/1.1, not {_show(version)}.\n")
    if "transfer-encoding" in fields or (
        "content-length" in fields and set(repeated.get("content-length") or [fields["content-length"]]) != {"0"}
    ):
        raise HandshakeRefused(400, _NO_BODY)
    if repeated:
        for name, shown in _SINGLE:
            if name in repeated:
                times = len(repeated[name])
                extra = _VERSION_13 if name == "sec-websocket-version" else None
                raise HandshakeRefused(400, f"{shown} must be sent once, not {times} times.\n", extra)
    host = get("host")
    if host is None:
        raise HandshakeRefused(400, "The Host header is missing.\n")

    key = get("sec-websocket-key", "").encode("ascii", "replace")
    if not key_valid(key):
        raise HandshakeRefused(400, "Sec-WebSocket-Key must be 16 bytes in base64.\n")
    if get("sec-websocket-version") != "13":
        raise HandshakeRefused(400, "Only WebSocket version 13 is supported.\n", _VERSION_13)
    origin = get("origin")
    if origin is not None and not OriginPolicy.of(allowed_origins).allows(origin, scheme, host):
        raise HandshakeRefused(403, f"Origin {_show(origin)} is not allowed to connect.\n")

    chosen = get("sec-websocket-protocol")
    if chosen is not None and ("sec-websocket-protocol" in repeated or chosen not in subprotocols):
        names = _list(repeated.get("sec-websocket-protocol") or [chosen], _TOKEN_RE)
        if names is None:
            raise HandshakeRefused(400, "Sec-WebSocket-Protocol must be a comma-separated list of tokens.\n")
        chosen = next((name for name in names if name in subprotocols), None)
    return Accepted(accept_key(key).decode("ascii"), chosen)


def _list(copies: list[str], item: re.Pattern[str]) -> list[str] | None:
    """The elements of a ``1#item`` field over all its copies; None if one is malformed.

    Empty elements are passed over, as RFC 9110 (5.6.1) asks, but each copy
    must hold at least one element, as websockets' server requires.
    """
    elements: list[str] = []
    for value in copies:
        count = len(elements)
        for element in value.split(","):
            element = element.strip(" \t")
            if element:
                if item.fullmatch(element) is None:
                    return None
                elements.append(element)
        if len(elements) == count:
            return None
    return elements


def _show(value: str) -> str:
    """``value`` fit to be quoted in an answer: anything not ASCII escaped."""
    return value if value.isascii() else value.encode("ascii", "backslashreplace").decode("ascii")
