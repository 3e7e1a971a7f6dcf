"""The opening handshake as pure functions: the door's head parser, the upgrade check, the origin rule.

The upgrade check is held to websockets' own server (``websockets.server.
ServerProtocol``, used here as an oracle): whatever it refuses, we refuse.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.server import ServerProtocol

from connectfour.web.handshake import Accepted, HandshakeRefused, check_upgrade, parse_head
from connectfour.web.origin import OriginPolicy, normalise, origin_allowed

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's own example
V1 = "connectfour.v1"

#: What Chrome sends to open a WebSocket, to within a version number.
CHROME = (
    b"GET /ws HTTP/1.1\r\n"
    b"Host: localhost:8000\r\n"
    b"Connection: Upgrade\r\n"
    b"Pragma: no-cache\r\n"
    b"Cache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    b"Chrome/124.0.0.0 Safari/537.36\r\n"
    b"Upgrade: websocket\r\n"
    b"Origin: http://localhost:8000\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"Sec-WebSocket-Protocol: connectfour.v1\r\n"
)  # fmt: skip

STANDARD = (
    ("Host", "127.0.0.1"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
)


def fields(*extra: tuple[str, str], without: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The standard upgrade's fields less those named in ``without``, plus ``extra``."""
    return [(name, value) for name, value in STANDARD if name not in without] + list(extra)


def instead(name: str, *values: str) -> list[tuple[str, str]]:
    """The standard upgrade's fields with ``name`` sent as ``values``, one copy each, at the end."""
    return fields(*((name, value) for value in values), without=(name,))


def check(
    headers: list[tuple[str, str]],
    *,
    method: str = "GET",
    version: str = "HTTP/1.1",
    scheme: str = "http",
    allowed: tuple[str, ...] = (),
) -> Accepted:
    return check_upgrade(method, version, headers, scheme=scheme, allowed_origins=allowed, subprotocols=(V1,))


def refusal(headers: list[tuple[str, str]], **options) -> HandshakeRefused:
    with pytest.raises(HandshakeRefused) as refused:
        check(headers, **options)
    return refused.value


def head_bytes(headers: list[tuple[str, str]], line: str = "GET /ws HTTP/1.1") -> bytes:
    return (line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)).encode("latin-1")


def websockets_accepts(head: bytes) -> bool:
    """Whether websockets' server would answer 101 (it leaves Host and origins to its caller)."""
    protocol = ServerProtocol()
    protocol.receive_data(head + b"\r\n")
    events = protocol.events_received()
    return bool(events) and protocol.accept(events[0]).status_code == 101


# -- parse_head ------------------------------------------------------------------------


def test_a_browser_head_is_parsed_into_its_request_line_and_fields():
    head = parse_head(CHROME)
    assert head is not None
    assert (head.method, head.target, head.version) == ("GET", "/ws", "HTTP/1.1")
    assert len(head.headers) == 13
    assert head.headers[0] == ("Host", "localhost:8000")
    assert ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits") in head.headers


def test_field_names_are_kept_as_sent_and_values_lose_their_surrounding_whitespace():
    head = parse_head(b"GET / HTTP/1.1\r\nSEC-WebSocket-KEY:\t " + KEY.encode() + b" \t\r\nX-Empty:\r\nX-Blank:  \r\n")
    assert head is not None
    assert head.headers == [("SEC-WebSocket-KEY", KEY), ("X-Empty", ""), ("X-Blank", "")]


def test_whitespace_inside_a_value_is_kept():
    head = parse_head(b"GET / HTTP/1.1\r\nUser-Agent: a  b\tc\r\n")
    assert head is not None and head.headers == [("User-Agent", "a  b\tc")]


def test_repeated_fields_are_all_kept_in_order():
    head = parse_head(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nHost: a\r\nupgrade: h2c\r\n")
    assert head is not None
    assert head.headers == [("Upgrade", "websocket"), ("Host", "a"), ("upgrade", "h2c")]


def test_bytes_beyond_ascii_in_a_value_are_read_as_latin_1():
    head = parse_head(b"GET / HTTP/1.1\r\nUser-Agent: t\xe9st\xff\r\n")
    assert head is not None and head.headers == [("User-Agent", "t\xe9st\xff")]


def test_a_head_with_no_fields_is_parsed():
    assert parse_head(b"GET / HTTP/1.1\r\n") == ("GET", "/", "HTTP/1.1", [])


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/2.0", "HTTP/0.9"])
def test_the_version_is_given_as_sent_for_the_check_to_judge(version):
    head = parse_head(f"GET / {version}\r\nHost: a\r\n".encode())
    assert head is not None and head.version == version


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"GET /ws HTTP/1.1\nHost: a\nUpgrade: websocket\n", id="bare LF ending every line"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\nUpgrade: websocket\r\n", id="bare LF between fields"),
        pytest.param(b"GET /ws HTTP/1.1\nHost: a\r\n", id="bare LF after the request line"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\n", id="bare LF at the end"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\rb\r\n", id="bare CR in a value"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\r\n folded\r\n", id="obs-fold"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost : a\r\n", id="space before the colon"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost\t: a\r\n", id="tab before the colon"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost a\r\n", id="no colon"),
        pytest.param(b"GET /ws HTTP/1.1\r\n: a\r\n", id="no name"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHo(st: a\r\n", id="a name that is no token"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\x00b\r\n", id="NUL in a value"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\x7fb\r\n", id="DEL in a value"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\x1bb\r\n", id="ESC in a value"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a", id="no CRLF after the last field"),
        pytest.param(b"GET /ws HTTP/1.1\r\nHost: a\r\n\r\n", id="the final empty line included"),
        pytest.param(b"GET /ws HTTP/1.1", id="no CRLF after the request line"),
        pytest.param(b"GET  /ws HTTP/1.1\r\n", id="two spaces in the request line"),
        pytest.param(b"GET /ws HTTP/1.1 \r\n", id="a space after the version"),
        pytest.param(b"GET\t/ws HTTP/1.1\r\n", id="a tab in the request line"),
        pytest.param(b"GET /ws\r\n", id="no version"),
        pytest.param(b"GET /ws http/1.1\r\n", id="a lower-case version"),
        pytest.param(b"GET /ws HTTP/11\r\n", id="a version without a dot"),
        pytest.param(b"G(T /ws HTTP/1.1\r\n", id="a method that is no token"),
        pytest.param(b"GET /w\xe9 HTTP/1.1\r\n", id="a target beyond ASCII"),
        pytest.param(b"", id="nothing"),
        pytest.param(b"\r\n", id="an empty line"),
    ],
)
def test_a_head_that_is_not_strict_http_is_not_parsed(head):
    assert parse_head(head) is None


def test_a_long_malformed_value_is_refused_in_linear_time():
    """Possessive quantifiers: a failure does not backtrack through every split of a value."""
    head = b"GET / HTTP/1.1\r\nX-Padding: " + b"a " * 4000 + b"\n\r\n"
    assert parse_head(head) is None


_names = st.from_regex(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+", fullmatch=True)
_values = st.from_regex(r"([\x21-\x7e\x80-\xff]([\x20\x09\x21-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?", fullmatch=True)
_ows = st.sampled_from(["", " ", "\t", "  \t"])


@given(st.lists(st.tuples(_names, _ows, _values, _ows), max_size=12))
def test_any_well_formed_head_is_read_back_field_for_field(lines):
    head = b"GET /ws HTTP/1.1\r\n" + b"".join(
        f"{name}:{before}{value}{after}\r\n".encode("latin-1") for name, before, value, after in lines
    )
    parsed = parse_head(head)
    assert parsed is not None
    assert parsed.headers == [(name, value) for name, _, value, _ in lines]


# -- check_upgrade: what it accepts ---------------------------------------------------


def test_a_valid_upgrade_is_accepted_with_rfc_6455s_accept_value():
    accepted = check(fields())
    assert accepted == Accepted(ACCEPT, None)
    assert accepted.headers() == {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": ACCEPT}


def test_chromes_upgrade_is_accepted_with_our_subprotocol():
    head = parse_head(CHROME)
    assert head is not None
    accepted = check_upgrade(
        head.method, head.version, head.headers, scheme="http", allowed_origins=(), subprotocols=(V1,)
    )
    assert accepted == Accepted(ACCEPT, V1)
    assert accepted.headers()["Sec-WebSocket-Protocol"] == V1


@pytest.mark.parametrize(
    "offered, chosen",
    [
        ([("Sec-WebSocket-Protocol", "chat, connectfour.v1")], V1),
        ([("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Protocol", "connectfour.v1")], V1),
        ([("Sec-WebSocket-Protocol", "chat")], None),
        ([("Sec-WebSocket-Protocol", "Connectfour.V1")], None),  # subprotocols are case-sensitive
        ([], None),
    ],
)
def test_the_first_offered_subprotocol_we_speak_is_chosen_over_all_copies(offered, chosen):
    assert check(fields(*offered)).subprotocol == chosen


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(instead("Connection", "keep-alive, Upgrade"), id="Firefox's Connection"),
        pytest.param(instead("Connection", "keep-alive", "upgrade"), id="Connection in two copies"),
        pytest.param(instead("Connection", ",UPGRADE, ,"), id="empty list elements"),
        pytest.param(instead("Upgrade", "WebSocket"), id="WebSocket in any case"),
        pytest.param([(name.upper(), value) for name, value in fields()], id="names in any case"),
        pytest.param(fields(("Content-Length", "0")), id="an empty Content-Length"),
        pytest.param(fields(("Content-Length", "0"), ("Content-Length", "0")), id="two empty Content-Lengths"),
        pytest.param(fields(("Sec-WebSocket-Extensions", "permessage-deflate")), id="extensions, declined"),
        pytest.param(fields(("X-Repeated", "a"), ("X-Repeated", "b")), id="repeats of a field we do not read"),
    ],
)
def test_a_valid_upgrade_is_accepted_in_every_form_http_allows(headers):
    assert check(headers).accept == ACCEPT
    assert websockets_accepts(head_bytes(headers))


# -- check_upgrade: what it refuses, as websockets' server does ------------------------------


REFUSALS = [
    # (id, headers, status, words in the answer)
    ("no Upgrade", fields(without=("Upgrade",)), "websocket endpoint"),
    ("Upgrade: h2c", instead("Upgrade", "h2c"), "upgrade header"),
    ("Upgrade of two protocols", instead("Upgrade", "websocket, h2c"), "upgrade header"),
    ("a second Upgrade", fields(("Upgrade", "h2c")), "upgrade header"),
    ("a second Upgrade: websocket", fields(("Upgrade", "websocket")), "upgrade header"),
    ("an Upgrade with a version", instead("Upgrade", "websocket/13"), "upgrade header"),
    ("a malformed Upgrade", instead("Upgrade", "web socket"), "upgrade header"),
    ("an empty Upgrade copy", fields(("Upgrade", "")), "upgrade header"),
    ("no Connection", fields(without=("Connection",)), "connection header"),
    ("Connection: close", instead("Connection", "close"), "connection header"),
    ("Connection: noupgradex", instead("Connection", "noupgradex"), "connection header"),
    ("Connection: Upgrade-Insecure", instead("Connection", "Upgrade-Insecure"), "connection header"),
    ("a Connection list without commas", instead("Connection", "keep-alive upgrade"), "connection header"),
    ("a Connection option with parameters", instead("Connection", "upgrade;q=1"), "connection header"),
    ("an empty Connection copy", fields(("Connection", "")), "connection header"),
    ("no key", fields(without=("Sec-WebSocket-Key",)), "16 bytes in base64"),
    ("a short key", instead("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), "16 bytes in base64"),
    ("a key beyond ASCII", instead("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ\xe9="), "16 bytes in base64"),
    ("a second key", fields(("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")), "sec-websocket-key must be sent once"),
    ("the same key twice", fields(("Sec-WebSocket-Key", KEY)), "sec-websocket-key must be sent once"),
    ("a malformed subprotocol list", fields(("Sec-WebSocket-Protocol", "chat v1")), "sec-websocket-protocol"),
    ("a body by length", fields(("Content-Length", "5")), "no body"),
    ("a body after an empty length", fields(("Content-Length", "0"), ("Content-Length", "5")), "no body"),
    ("a chunked body", fields(("Transfer-Encoding", "chunked")), "no body"),
]
VERSION_REFUSALS = [
    ("no version", fields(without=("Sec-WebSocket-Version",)), "version 13"),
    ("version 8", instead("Sec-WebSocket-Version", "8"), "version 13"),
    ("a second version", fields(("Sec-WebSocket-Version", "8")), "sec-websocket-version must be sent once"),
    ("version 13 twice", fields(("Sec-WebSocket-Version", "13")), "sec-websocket-version must be sent once"),
]


@pytest.mark.parametrize("headers, words", [pytest.param(h, w, id=i) for i, h, w in REFUSALS + VERSION_REFUSALS])
def test_a_malformed_upgrade_is_refused_with_400_as_websockets_refuses_it(headers, words):
    refused = refusal(headers)
    assert refused.status == 400
    assert words in refused.text.lower()
    assert not websockets_accepts(head_bytes(headers))


@pytest.mark.parametrize("headers", [pytest.param(h, id=i) for i, h, _ in VERSION_REFUSALS])
def test_a_wrong_version_is_answered_with_the_version_we_speak(headers):
    assert refusal(headers).headers == {"Sec-WebSocket-Version": "13"}


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/2.0", "HTTP/0.9"])
def test_a_version_of_http_other_than_1_1_is_refused(version):
    refused = refusal(fields(), version=version)
    assert refused.status == 400 and f"HTTP/1.1, not {version}" in refused.text
    assert not websockets_accepts(head_bytes(fields(), line=f"GET /ws {version}"))


def test_another_method_is_refused_with_405_and_allow_get():
    refused = refusal(fields(), method="HEAD")
    assert refused.status == 405 and refused.headers == {"Allow": "GET"}
    assert not websockets_accepts(head_bytes(fields(), line="HEAD /ws HTTP/1.1"))


def test_a_request_without_host_is_refused():
    refused = refusal(fields(without=("Host",)))
    assert refused.status == 400 and "Host" in refused.text


def test_a_second_host_is_refused():
    refused = refusal(fields(("Host", "127.0.0.1")))
    assert refused.status == 400 and "Host must be sent once" in refused.text


def test_a_second_origin_is_refused_even_when_both_are_allowed():
    refused = refusal(fields(("Origin", "http://127.0.0.1"), ("Origin", "http://127.0.0.1")), allowed=("*",))
    assert refused.status == 400 and "Origin must be sent once" in refused.text
    assert not websockets_accepts(head_bytes(fields(("Origin", "http://a"), ("Origin", "http://a"))))


def test_a_refused_origin_gets_403_naming_it():
    refused = refusal(fields(("Origin", "http://evil.example")))
    assert refused.status == 403 and "http://evil.example" in refused.text


def test_a_refused_origin_beyond_ascii_is_named_escaped():
    refused = refusal(fields(("Origin", "http://\xe9vil.example\udcff")))
    assert refused.status == 403 and "http://\\xe9vil.example\\udcff" in refused.text
    refused.text.encode("ascii")


# -- the origin rule -------------------------------------------------------------------------


def test_a_request_without_origin_is_not_from_a_page_and_is_let_in():
    assert origin_allowed(None, "http", "a.example", ())
    assert origin_allowed(None, "http", "a.example", ("https://b.example",))


def test_the_servers_own_origin_is_allowed():
    assert origin_allowed("http://a.example:8000", "http", "a.example:8000", ())


def test_listed_origins_are_allowed_besides_the_servers_own():
    listed = ("https://b.example",)
    assert origin_allowed("https://b.example", "http", "a.example", listed)
    assert origin_allowed("http://a.example", "http", "a.example", listed)
    assert not origin_allowed("https://c.example", "http", "a.example", listed)


@pytest.mark.parametrize(
    "origin, scheme",
    [("https://a.example", "http"), ("http://a.example", "https"), ("ws://a.example", "http")],
)
def test_the_own_origin_must_have_the_requests_scheme(origin, scheme):
    assert not origin_allowed(origin, scheme, "a.example", ())


def test_the_scheme_is_the_callers_so_https_behind_tls_is_the_own_origin():
    assert origin_allowed("https://a.example", "https", "a.example", ())


@pytest.mark.parametrize(
    "origin, scheme, host",
    [
        ("http://a.example", "http", "a.example:80"),
        ("http://a.example:80", "http", "a.example"),
        ("https://a.example", "https", "a.example:443"),
        ("https://a.example:443", "https", "a.example"),
        ("http://[::1]", "http", "[::1]:80"),
    ],
)
def test_a_default_port_is_the_same_as_none(origin, scheme, host):
    assert origin_allowed(origin, scheme, host, ())


@pytest.mark.parametrize(
    "origin, scheme, host",
    [
        ("http://a.example", "http", "a.example:8080"),
        ("http://a.example:443", "http", "a.example"),
        ("https://a.example:80", "https", "a.example"),
        ("http://a.example:8000", "http", "a.example:8001"),
    ],
)
def test_any_other_port_is_another_origin(origin, scheme, host):
    assert not origin_allowed(origin, scheme, host, ())


def test_the_host_is_compared_in_any_case():
    assert origin_allowed("http://A.Example", "http", "a.EXAMPLE", ())
    assert origin_allowed("HTTPS://B.EXAMPLE", "http", "a.example", ("https://b.example",))


def test_listed_origins_are_normalised_once_like_the_origin():
    policy = OriginPolicy(("HTTPS://B.Example:443/", "*x", "http://c.example:8080"))
    assert policy.listed == frozenset(("https://b.example", "*x", "http://c.example:8080"))
    assert policy.allows("https://b.example", "http", "a.example")
    assert OriginPolicy.of(("https://b.example",)) is OriginPolicy.of(("https://b.example",))


def test_a_trailing_slash_is_ignored():
    assert origin_allowed("http://a.example/", "http", "a.example", ())


@pytest.mark.parametrize(
    "origin", ["http://a.example/path", "http://a.example.evil", "http://evil.a.example", "a.example"]
)
def test_anything_but_the_same_scheme_host_and_port_is_another_origin(origin):
    assert not origin_allowed(origin, "http", "a.example", ())


def test_a_star_allows_any_origin():
    for origin in ("http://anywhere.example", "null", "http://\xe9.example"):
        assert origin_allowed(origin, "http", "a.example", ("*",))


def test_the_opaque_origin_null_is_refused_unless_a_star_is_listed():
    assert not origin_allowed("null", "http", "a.example", ())
    assert not origin_allowed("null", "http", "null", ("null",))


def test_an_origin_beyond_ascii_is_refused_unless_a_star_is_listed():
    assert not origin_allowed("http://\xe9.example", "http", "\xe9.example", ("http://\xe9.example",))


def test_an_origin_is_refused_when_there_is_no_host_to_compare_it_with():
    assert not origin_allowed("http://a.example", "http", None, ())


def test_an_unparsable_origin_is_refused_not_an_error():
    assert not origin_allowed("http://[::1", "http", "a.example", ())
    assert normalise("http://[::1") == "http://[::1"
