"""The opening handshake is checked as strictly as websockets' own server checks it,
by the front door and by aiohttp's path alike.

Every test runs twice (``make_server``): once through the front door, which
must hand anything it refuses to aiohttp, and once through aiohttp alone.
Either way the refusal is ``endpoint.websocket``'s 400 or 403. Requests are
written byte for byte on a raw socket.
"""

from __future__ import annotations

import asyncio

import pytest
from test_front import ACCEPT, KEY, TIMEOUT, Raw

OTHER_KEY = "x3JJHMbDL1EzLkh9GBhXDw=="


def request(
    *extra: str, line: str = "GET /ws HTTP/1.1", without: tuple[str, ...] = (), host: str = "127.0.0.1"
) -> bytes:
    """A valid upgrade head, less the fields named in ``without``, plus ``extra`` field lines."""
    fields = [
        ("Host", host),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Sec-WebSocket-Version", "13"),
    ]
    lines = [f"{name}: {value}" for name, value in fields if name not in without]
    return (line + "\r\n" + "".join(f"{field}\r\n" for field in (*lines, *extra)) + "\r\n").encode("latin-1")


async def answer_to(server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    raw = await Raw.open(server)
    try:
        await raw.send(data)
        return await raw.answer()
    finally:
        raw.close()


async def assert_upgraded(server, data: bytes) -> None:
    """101, answered by the door when there is one (its answer has no Server header)."""
    status, headers, body = await answer_to(server, data)
    assert status == 101, body
    assert headers["sec-websocket-accept"] == ACCEPT
    assert ("server" in headers) == (server.site is None)


# -- repeated fields: the first copy must not win ----------------------------------


@pytest.mark.parametrize(
    "extra, words",
    [
        ("Upgrade: h2c", "upgrade"),
        ("Upgrade: websocket", "upgrade"),  # one protocol, not a list of them
        (f"Sec-WebSocket-Key: {OTHER_KEY}", "sec-websocket-key"),
        ("Sec-WebSocket-Version: 8", "sec-websocket-version"),
        ("Sec-WebSocket-Version: 13", "sec-websocket-version"),
        ("Host: evil.example", "host"),
    ],
)
async def test_a_second_copy_of_a_single_valued_field_is_refused(make_server, extra, words):
    server = await make_server()
    status, _, body = await answer_to(server, request(extra))
    assert status == 400
    assert words in body.decode().lower()


async def test_a_second_origin_is_refused_even_after_an_allowed_one(make_server):
    server = await make_server()
    status, _, body = await answer_to(server, request("Origin: http://127.0.0.1", "Origin: http://evil.example"))
    assert status == 400 and b"Origin" in body


async def test_an_upgrade_list_naming_more_than_websocket_is_refused(make_server):
    server = await make_server()
    status, _, _ = await answer_to(server, request("Upgrade: websocket, h2c", without=("Upgrade",)))
    assert status == 400


# -- the request line and Host ---------------------------------------------------


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/2.0"])
async def test_a_request_line_other_than_http_1_1_is_refused(make_server, version):
    server = await make_server()
    status, _, body = await answer_to(server, request(line=f"GET /ws {version}"))
    assert status == 400 and b"HTTP/1.1" in body


async def test_a_request_without_host_is_refused(make_server):
    server = await make_server()
    status, _, body = await answer_to(server, request(without=("Host",)))
    assert status == 400 and b"Host" in body


# -- Connection and Upgrade are lists of tokens ----------------------------------


@pytest.mark.parametrize("connection", ["noupgradex", "Upgrade-Insecure", "keep-alive upgrade", "upgrade;q=1"])
async def test_a_connection_field_that_only_contains_the_letters_of_upgrade_is_refused(make_server, connection):
    server = await make_server()
    status, _, body = await answer_to(server, request(f"Connection: {connection}", without=("Connection",)))
    assert status == 400 and b"Connection" in body


@pytest.mark.parametrize(
    "fields",
    [
        ("Connection: keep-alive, Upgrade",),  # Firefox
        ("Connection: keep-alive", "Connection: upgrade"),  # the same list in two copies
        ("Connection: , UPGRADE ,",),  # empty elements are ignored
    ],
)
async def test_upgrade_among_the_connection_options_is_accepted(make_server, fields):
    server = await make_server()
    await assert_upgraded(server, request(*fields, without=("Connection",)))


# -- no request body ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, body",
    [
        (("Content-Length: 5",), b"hello"),
        (("Transfer-Encoding: chunked",), b"0\r\n\r\n"),
    ],
)
async def test_an_upgrade_with_a_body_is_refused(make_server, fields, body):
    server = await make_server()
    status, _, text = await answer_to(server, request(*fields) + body)
    assert status == 400 and b"body" in text


async def test_an_empty_content_length_is_no_body(make_server):
    server = await make_server()
    await assert_upgraded(server, request("Content-Length: 0"))


# -- the origin rule ---------------------------------------------------------------


async def test_listed_origins_add_to_the_servers_own(make_server):
    server = await make_server(allowed_origins=("https://play.example",))
    await assert_upgraded(server, request("Origin: https://play.example"))
    own = server.http.removeprefix("http://")
    await assert_upgraded(server, request(f"Origin: http://{own}", host=own))
    status, _, _ = await answer_to(server, request("Origin: https://other.example"))
    assert status == 403


async def test_the_own_origin_must_have_the_requests_scheme(make_server):
    server = await make_server()
    status, _, body = await answer_to(server, request("Origin: https://127.0.0.1"))
    assert status == 403 and b"https://127.0.0.1" in body


@pytest.mark.parametrize(
    "host, origin",
    [
        ("play.example:80", "http://play.example"),
        ("play.example", "http://play.example:80"),
        ("PLAY.example", "http://play.EXAMPLE"),
    ],
)
async def test_the_default_port_and_the_case_of_the_host_do_not_matter(make_server, host, origin):
    server = await make_server()
    await assert_upgraded(server, request(f"Origin: {origin}", host=host))


@pytest.mark.parametrize(
    "host, origin", [("play.example:8080", "http://play.example"), ("play.example", "http://play.example:443")]
)
async def test_any_other_port_is_another_origin(make_server, host, origin):
    server = await make_server()
    status, _, _ = await answer_to(server, request(f"Origin: {origin}", host=host))
    assert status == 403


async def test_an_opaque_origin_is_refused_unless_any_is_allowed(make_server):
    server = await make_server()
    status, _, _ = await answer_to(server, request("Origin: null"))
    assert status == 403
    server = await make_server(allowed_origins=("*",))
    await assert_upgraded(server, request("Origin: null"))


async def test_an_unparsable_origin_is_refused_not_a_server_error(make_server):
    server = await make_server()
    status, _, _ = await answer_to(server, request("Origin: http://[::1"))
    assert status == 403


# -- the page's path and other methods -----------------------------------------------


async def test_an_upgrade_of_the_page_is_checked_as_strictly_whatever_copy_names_websocket(make_server):
    """``/`` is the page or the WebSocket: Upgrade naming websocket in any copy makes it the WebSocket's."""
    server = await make_server()
    once = request("Upgrade: websocket", line="GET / HTTP/1.1", without=("Upgrade",))
    twice = request("Upgrade: h2c", "Upgrade: websocket", line="GET / HTTP/1.1", without=("Upgrade",))
    status, _, body = await answer_to(server, once)
    assert status == 101, body
    status, _, body = await answer_to(server, twice)
    assert status == 400 and b"Upgrade header" in body


async def test_a_head_request_with_upgrade_fields_is_refused_with_405(make_server):
    server = await make_server()
    raw = await Raw.open(server)
    try:
        await raw.send(request(line="HEAD /ws HTTP/1.1"))
        head = await asyncio.wait_for(raw.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    finally:
        raw.close()
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.split()[1] == "405"
    assert "allow: get" in (line.lower() for line in lines)
