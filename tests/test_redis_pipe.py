"""The connections of our own that carry a move (``connectfour/redis/pipe.py``): the appends'
and the bus's subscriptions, against a real valkey-server and, for what a server never
sends, a scripted one."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import ConnectionPool
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError
from redis_server import RedisServer

from connectfour.domain.events import Created, Moved
from connectfour.redis.client import pack
from connectfour.redis.pipe import Endpoint, Pipe, open_pipe
from connectfour.store.redis import RedisStore

USER, PASSWORD = "alice", "s3cret"


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[RedisServer, Path]]:
    """A server with a user of its own (the default user stays open, for the fixture's PING),
    and its Unix socket."""
    socket = Path(tempfile.mkdtemp(prefix="cf-sock-")) / "valkey.sock"
    made = RedisServer(extra=[f"user {USER} on >{PASSWORD} ~* &* +@all", f"unixsocket {socket}", "unixsocketperm 700"])
    try:
        yield made, socket
    finally:
        made.close()
        shutil.rmtree(socket.parent, ignore_errors=True)


@pytest.fixture
async def pipe(redis_url: str) -> AsyncIterator[Pipe]:
    made = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)))
    yield made
    made.close()


async def call(pipe: Pipe, *commands: tuple[bytes | str | int, ...]) -> list[object]:
    pipe.send(pack(commands))
    return await asyncio.wait_for(pipe.replies(len(commands)), 5)


# -- replies -------------------------------------------------------------------------------------


async def test_a_batchs_replies_come_together_in_the_order_of_its_commands(pipe):
    assert await call(pipe, ("SET", "k", "v"), ("GET", "k"), ("RPUSH", "l", "a", "b"), ("LRANGE", "l", 0, -1)) == [
        b"OK",
        b"v",
        2,
        [b"a", b"b"],
    ]


async def test_an_error_reply_takes_its_place_in_the_batch_as_an_exception_not_raised(pipe):
    first, refused, last = await call(pipe, ("PING",), ("NO-SUCH-COMMAND",), ("ECHO", "after"))
    assert first == b"PONG" and last == b"after"
    assert isinstance(refused, ResponseError) and "unknown command" in str(refused)


async def test_batches_sent_one_after_another_are_answered_each_in_turn(pipe):
    pipe.send(pack([("ECHO", "a")]))
    first = pipe.replies(1)
    pipe.send(pack([("ECHO", "b"), ("ECHO", "c")]))
    second = pipe.replies(2)
    assert await asyncio.wait_for(second, 5) == [b"b", b"c"]
    assert first.result() == [b"a"]


async def test_a_big_reply_read_in_many_pieces_is_whole(pipe):
    value = b"x" * 3_000_000
    assert await call(pipe, ("SET", "big", value), ("GET", "big")) == [b"OK", value]


@pytest.mark.parametrize(
    "reply",
    [
        "MOVED 866 127.0.0.1:7001",
        "ASK 866 127.0.0.1:7002",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down",
        "CROSSSLOT Keys in request don't hash to the same slot",
        "READONLY You can't write against a read only replica.",
        "NOSCRIPT No matching script.",
        "ERR Function not found",
        "CONFLICT 7",
        "REFUSED the seat is taken",
        "NOGAME",
    ],
)
async def test_an_error_reply_is_the_exception_redis_py_raises_for_it(pipe, redis_url, reply):
    """What the appends tell apart (``Router._follow``, ``refusal``, ``missing_function``)
    by class and by text: the same as redis-py's own client raises, checked against it."""
    from redis.asyncio import Redis

    script = f"return redis.error_reply('{reply}')"
    (ours,) = await call(pipe, ("EVAL", script, 0))
    async with Redis.from_url(redis_url) as client:
        with pytest.raises(ResponseError) as theirs:
            await client.eval(script, 0)
    assert type(ours) is type(theirs.value)
    assert str(ours) == str(theirs.value) and ours.args == theirs.value.args


# -- pushes: a subscriber's announcements ----------------------------------------------------


async def test_replies_nobody_waits_for_go_to_push_in_order_on_the_next_turn(redis_url, raw_publisher):
    heard: list[object] = []
    all_in = asyncio.Event()

    def push(reply: object) -> None:
        heard.append(reply)
        if len(heard) == 2 + 100:
            all_in.set()

    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)), push=push)
    try:
        pipe.send(pack([("SSUBSCRIBE", "cf:{g}:chan"), ("PING", "subscribed")]))
        for n in range(100):
            await raw_publisher.execute_command("SPUBLISH", "cf:{g}:chan", b"%d" % n)
        await asyncio.wait_for(all_in.wait(), 5)
    finally:
        pipe.close()
    assert heard[:2] == [[b"ssubscribe", b"cf:{g}:chan", 1], [b"pong", b"subscribed"]]
    assert heard[2:] == [[b"smessage", b"cf:{g}:chan", b"%d" % n] for n in range(100)]


async def test_pushes_read_together_are_handed_on_after_the_code_that_read_them_has_run():
    """As a reader task would: whatever ran when the bytes came (a batch's answer, read in
    the same piece, resuming its caller) goes first."""
    heard: list[object] = []
    pipe = Pipe(push=heard.append)
    pipe.data_received(b"+one\r\n:2\r\n*2\r\n$1\r\na\r\n$-1\r\n")
    assert heard == []
    await asyncio.sleep(0)
    assert heard == [b"one", 2, [b"a", None]]


async def test_a_push_that_fails_is_logged_and_the_next_ones_still_come(redis_url, caplog):
    heard: list[object] = []
    done = asyncio.Event()

    def push(reply: object) -> None:
        if reply == b"PONG" and not heard:
            heard.append("failed")
            raise RuntimeError("a reader's bug")
        heard.append(reply)
        done.set()

    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)), push=push)
    try:
        pipe.send(pack([("PING",), ("ECHO", "next")]))
        await asyncio.wait_for(done.wait(), 5)
    finally:
        pipe.close()
    assert heard == ["failed", b"next"]
    assert "a reply's reader failed" in caplog.text


async def test_a_reply_nobody_asked_for_without_a_push_closes_the_connection(pipe):
    pipe.send(pack([("PING",)]))
    await asyncio.wait_for(pipe.lost, 5)
    assert not pipe.is_open
    with pytest.raises(ConnectionError):
        pipe.send(pack([("PING",)]))


# -- one connection for both: RESP3 ---------------------------------------------------------------


@pytest.fixture
async def resp3(redis_url: str) -> AsyncIterator[tuple[Pipe, list[object]]]:
    """A RESP3 connection, and what the server pushed on it."""
    heard: list[object] = []
    made = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)), push=heard.append, resp3=True)
    yield made, heard
    made.close()


async def test_in_resp3_a_push_is_told_from_the_replies_of_the_batch_waiting(resp3):
    """An announcement that comes between a batch's replies (the batch's own, as an append's
    comes back) goes to ``push``; the batch gets its replies, and only them."""
    pipe, heard = resp3
    pipe.send(pack([("SSUBSCRIBE", "cf:{g}:chan"), ("PING", "subscribed")]))
    assert await asyncio.wait_for(pipe.answers(1), 5) == [b"subscribed"]
    assert await call(pipe, ("SPUBLISH", "cf:{g}:chan", "a move"), ("ECHO", "after")) == [1, b"after"]
    await asyncio.sleep(0)  # (pushes are handed on on the next turn)
    assert heard == [[b"ssubscribe", b"cf:{g}:chan", 1], [b"smessage", b"cf:{g}:chan", b"a move"]]


async def test_answers_are_the_replies_up_to_the_pings_with_the_refusals_before_them(resp3):
    """Subscriptions answer only when refused: a write of them closed by a PING is answered
    by whatever was refused, then the PING's answer."""
    pipe, heard = resp3
    pipe.send(pack([("SSUBSCRIBE", "cf:{a}:chan"), ("SUBSCRIBE",), ("SSUBSCRIBE", "cf:{b}:chan"), ("PING", "t")]))
    refused, pong = await asyncio.wait_for(pipe.answers(1), 5)
    assert isinstance(refused, ResponseError) and "wrong number of arguments" in str(refused)
    assert pong == b"t"
    assert await call(pipe, ("ECHO", "next")) == [b"next"]  # and the next batch's replies are its own
    await asyncio.sleep(0)
    assert [push[1] for push in heard] == [b"cf:{a}:chan", b"cf:{b}:chan"]


async def test_a_resp3_false_is_a_reply_like_any_other(resp3):
    """RESP3 has booleans: a false reply must not read as "no whole reply yet"."""
    pipe, _ = resp3
    script = "redis.setresp(3); return false"
    assert await call(pipe, ("EVAL", script, 0), ("ECHO", "after")) == [False, b"after"]


async def test_a_resp3_push_with_nobody_listening_closes_the_connection(redis_url):
    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(redis_url)), resp3=True)
    pipe.send(pack([("SUBSCRIBE", "cf:all")]))
    await asyncio.wait_for(pipe.lost, 5)
    assert not pipe.is_open


async def test_a_processs_moves_go_on_its_bus_connection_and_their_announcements_come_back_on_it(redis_url):
    """The process that stored a move hears it back in the read that brings the answer: its
    appends go on the bus's connection to that server, and on no other."""
    from redis.asyncio import Redis

    store = RedisStore(redis_url)
    heard: list[int] = []
    got = asyncio.Event()

    def deliver(game_id: str, version: int, message: object) -> None:
        heard.append(version)
        if version == 4:
            got.set()

    try:
        await store.bus.subscribe("carried", deliver)
        created = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")
        await store.append("carried", 1, created)
        for version, (player, column) in enumerate([("red", 3), ("yellow", 3), ("red", 4)], start=2):
            await store.append("carried", version, Moved(at=float(version), player=player, column=column))
        await asyncio.wait_for(got.wait(), 5)
        async with Redis.from_url(redis_url) as client:
            clients = await client.client_list()
        # (redis-py's connections, which made the game, name their library; ours do not)
        moved_on = [each for each in clients if each["cmd"] == "fcall" and not each.get("lib-name")]
        assert [(each["name"], each["ssub"], each["resp"]) for each in moved_on] == [(store.bus.name, "1", "3")]
        assert heard == [1, 2, 3, 4]
    finally:
        await store.close()


async def test_a_games_reads_and_presence_go_on_the_bus_connection_and_redis_py_only_loads_the_library():
    """A game made, joined, watched, looked up, read back and played: every one of its
    commands goes on the bus's connection; redis-py's connections load the library, no more.
    (A server of its own: no other test's connections in its list.)"""
    from redis.asyncio import Redis

    from connectfour.domain.seats import Holder

    server = RedisServer()
    redis_url = server.url
    store = RedisStore(redis_url)
    try:
        await store.bus.subscribe("talked", lambda *args: None)
        created = Created(at=1.0, local=False, watch_key="wk", join_key="jk", red_token="t", yellow_token="u")
        await store.append("talked", 1, created)
        assert await store.find_key("jk") == ("talked", "join")
        await store.seats.take("talked", ("red",), Holder("A", 1), 1.0)
        await store.seats.watch("talked", "A", 1, 1.0)
        await store.append("talked", 2, Moved(at=2.0, player="red", column=3))
        assert [version for version, _ in await store.read("talked")] == [1, 2]
        record = await store.get("talked")
        assert record is not None and record.version == 2
        async with Redis.from_url(redis_url) as client:
            clients = [each for each in await client.client_list() if each["cmd"] != "client|list"]
        # redis-py's connection: its own introduction, then the library's loading, last
        assert [each["cmd"] for each in clients if each.get("lib-name") == "redis-py"] == ["function|load"]
        # the bus's: its own 3 (HELLO, SSUBSCRIBE, PING), and the game's 14 (2 SET, 2 ZADD and
        # cf_create; GET; HGETALL and cf_presence twice; cf_move; LRANGE; LRANGE and HGET), and
        # what the functions called (the server counts those too)
        (bus,) = [each for each in clients if each["name"] == store.bus.name]
        assert int(bus["tot-cmds"]) >= 3 + 14
    finally:
        await store.close()
        server.close()


async def test_appends_go_on_a_connection_of_their_own_while_the_bus_has_none_there(redis_url):
    from redis.asyncio import Redis

    store = RedisStore(redis_url)
    try:
        created = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")
        await store.append("alone", 1, created)
        await store.append("alone", 2, Moved(at=2.0, player="red", column=3))
        async with Redis.from_url(redis_url) as client:
            clients = await client.client_list()
            assert await client.llen("cf:{alone}:log") == 2
        assert not store.bus.links
        ours = [each for each in clients if each["cmd"] == "fcall" and not each.get("lib-name")]
        assert [(each["name"], each["ssub"]) for each in ours] == [("", "0")]
    finally:
        await store.close()


# -- a connection lost, or a server out of its mind --------------------------------------------


async def scripted_server(answer: bytes, *, then_close: bool = False) -> tuple[asyncio.Server, int]:
    """A server that answers the first thing it reads with ``answer``, then keeps quiet
    (or closes the connection)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(answer)
        await writer.drain()
        if not then_close:
            await reader.read(1024)  # until the client goes
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_a_batch_waiting_when_the_connection_is_closed_here_fails_with_a_connection_error():
    server, port = await scripted_server(b"+OK\r\n")
    try:
        pipe = await open_pipe(Endpoint(port=port))
        pipe.send(pack([("SET", "a", "1"), ("SET", "b", "2")]))
        waiting = pipe.replies(2)
        pipe.close()
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(waiting, 5)
        await asyncio.wait_for(pipe.lost, 5)
        assert not pipe.is_open
        with pytest.raises(ConnectionError):
            await pipe.replies(1)
    finally:
        server.close()


async def test_a_server_that_closes_the_connection_fails_the_batch_waiting():
    server, port = await scripted_server(b"+OK\r\n", then_close=True)  # one of the two answers, then gone
    try:
        pipe = await open_pipe(Endpoint(port=port))
        pipe.send(pack([("SET", "a", "1"), ("SET", "b", "2")]))
        with pytest.raises(ConnectionError, match="closed the connection"):
            await asyncio.wait_for(pipe.replies(2), 5)
        await asyncio.wait_for(pipe.lost, 5)
    finally:
        server.close()


async def test_bytes_that_are_not_the_redis_protocol_close_the_connection_with_a_clear_error():
    server, port = await scripted_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        pipe = await open_pipe(Endpoint(port=port))
        pipe.send(pack([("PING",)]))
        with pytest.raises(ConnectionError, match="could not be read"):
            await asyncio.wait_for(pipe.replies(1), 5)
        await asyncio.wait_for(pipe.lost, 5)
    finally:
        server.close()


async def test_a_server_that_is_not_there_is_a_connection_refused():
    server, port = await scripted_server(b"")
    server.close()
    await server.wait_closed()
    with pytest.raises(OSError):
        await open_pipe(Endpoint(port=port))


# -- where a connection goes, and how it introduces itself ----------------------------------------


def test_an_endpoint_is_read_from_a_pools_url():
    endpoint = Endpoint.of(ConnectionPool.from_url("redis://bob:pw@db.example:6390/3?client_name=x"))
    assert (endpoint.host, endpoint.port, endpoint.username, endpoint.password, endpoint.db, endpoint.name) == (
        "db.example",
        6390,
        "bob",
        "pw",
        3,
        "x",
    )
    assert endpoint.path is None and endpoint.tls is None
    assert endpoint.introduction() == [("AUTH", "bob", "pw"), ("CLIENT", "SETNAME", "x"), ("SELECT", 3)]
    assert Endpoint.of(ConnectionPool.from_url("redis://h/0"), name="bus").introduction() == [
        ("CLIENT", "SETNAME", "bus")
    ]
    assert Endpoint.of(ConnectionPool.from_url("redis://:pw@h/0")).introduction() == [("AUTH", "pw")]
    # In RESP3, one HELLO carries the credentials and the name.
    assert endpoint.introduction(resp3=True) == [("HELLO", 3, "AUTH", "bob", "pw", "SETNAME", "x"), ("SELECT", 3)]
    assert Endpoint.of(ConnectionPool.from_url("redis://:pw@h/0")).introduction(resp3=True) == [
        ("HELLO", 3, "AUTH", "default", "pw")
    ]
    socket = Endpoint.of(ConnectionPool.from_url("unix:///run/valkey.sock?db=2"))
    assert (socket.path, socket.db, socket.where) == ("/run/valkey.sock", 2, "/run/valkey.sock")


def test_a_tls_url_gives_redis_pys_own_tls_settings():
    """``rediss://``: the context redis-py's SSLConnection would use (its ``ssl_context.get()``),
    verification as the URL says."""
    strict = Endpoint.of(ConnectionPool.from_url("rediss://h:6380/0"))
    assert isinstance(strict.tls, ssl.SSLContext) and strict.tls.verify_mode == ssl.CERT_REQUIRED
    assert strict.tls.check_hostname
    lax = Endpoint.of(ConnectionPool.from_url("rediss://h:6380/0?ssl_cert_reqs=none"))
    assert lax.tls is not None and lax.tls.verify_mode == ssl.CERT_NONE


async def test_a_connection_introduces_itself_with_its_user_name_and_database(guarded):
    url = f"redis://{USER}:{PASSWORD}@127.0.0.1:{guarded[0].port}/2"
    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(url), name="cf-contract"))
    try:
        whoami, name, info = await call(pipe, ("ACL", "WHOAMI"), ("CLIENT", "GETNAME"), ("CLIENT", "INFO"))
        assert (whoami, name) == (USER.encode(), b"cf-contract")
        assert b" db=2 " in info
    finally:
        pipe.close()


async def test_a_resp3_connection_introduces_itself_with_its_user_name_and_database(guarded):
    url = f"redis://{USER}:{PASSWORD}@127.0.0.1:{guarded[0].port}/2"
    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(url), name="cf-bus"), push=print, resp3=True)
    try:
        whoami, name, info = await call(pipe, ("ACL", "WHOAMI"), ("CLIENT", "GETNAME"), ("CLIENT", "INFO"))
        assert (whoami, name) == (USER.encode(), b"cf-bus")
        assert b" db=2 " in info and b" resp=3 " in info
    finally:
        pipe.close()


@pytest.mark.parametrize("resp3", [False, True])
async def test_a_wrong_password_is_an_authentication_error_and_no_connection(guarded, resp3):
    url = f"redis://{USER}:wrong@127.0.0.1:{guarded[0].port}/0"
    with pytest.raises(AuthenticationError):
        await open_pipe(Endpoint.of(ConnectionPool.from_url(url)), resp3=resp3)


async def test_a_unix_socket_is_reached(guarded):
    socket = guarded[1]
    pipe = await open_pipe(Endpoint.of(ConnectionPool.from_url(f"unix://{socket}?db=1")))
    try:
        assert await call(pipe, ("PING",)) == [b"PONG"]
    finally:
        pipe.close()


async def test_a_store_and_its_bus_play_on_a_server_that_asks_for_a_password_and_a_database(guarded):
    """The connection of our own (the bus's, which carries the appends) introduces itself
    as the URL says: a move is stored in database 2 and heard back."""
    from redis.asyncio import Redis

    url = f"redis://{USER}:{PASSWORD}@127.0.0.1:{guarded[0].port}/2"
    store = RedisStore(url)
    heard: list[int] = []
    got = asyncio.Event()

    def deliver(game_id: str, version: int, message: object) -> None:
        heard.append(version)
        got.set()

    try:
        await store.bus.subscribe("pw-game", deliver)
        created = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")
        await store.append("pw-game", 1, created)
        await store.append("pw-game", 2, Moved(at=2.0, player="red", column=3))
        await asyncio.wait_for(got.wait(), 5)
        async with Redis.from_url(url) as client:
            assert await client.llen("cf:{pw-game}:log") == 2
        async with Redis.from_url(f"redis://{USER}:{PASSWORD}@127.0.0.1:{guarded[0].port}/0") as other:
            assert await other.llen("cf:{pw-game}:log") == 0
        assert heard
    finally:
        await store.close()


@pytest.fixture
async def raw_publisher(redis_url: str) -> AsyncIterator[object]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_a_store_shares_no_connection_with_a_bus_write_whose_ping_was_refused():
    """A server may refuse the PING that closes a write of subscriptions (one loading its
    data does; here the user may not PING): that write's answers then take the next reply
    on the connection. A game's reads and appends never share it meanwhile, so each gets
    its own answers, not another's; and the announcements still come."""
    server = RedisServer(extra=["user noping on >secret ~* &* +@all -ping"])
    url = server.url.replace("redis://", "redis://noping:secret@")
    store, other = RedisStore(url), RedisStore(server.url)
    heard: list[int] = []
    fifth = asyncio.Event()

    def deliver(game_id: str, version: int, message: object) -> None:
        heard.append(version)
        if version == 5:
            fifth.set()

    try:
        await store.bus.subscribe("shared", deliver)  # SSUBSCRIBE, then a refused PING
        created = Created(at=1.0, local=True, watch_key="w", join_key=None, red_token="t", yellow_token="t")
        await store.append("shared", 1, created)
        for version, (player, column) in enumerate([("red", 3), ("yellow", 3), ("red", 4)], start=2):
            await store.append("shared", version, Moved(at=float(version), player=player, column=column))
        assert await store.versions(["shared", "none"]) == {"shared": 4, "none": 0}
        assert [version for version, _ in await store.read("shared")] == [1, 2, 3, 4]
        await other.append("shared", 5, Moved(at=5.0, player="yellow", column=4))  # another process's
        await asyncio.wait_for(fifth.wait(), 5)
        assert heard[-1] == 5
    finally:
        await store.close()
        await other.close()
        server.close()
