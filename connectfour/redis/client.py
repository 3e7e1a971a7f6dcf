"""The way to a Redis (or Valkey) server, for the store and the bus alike.

- URLs: a standalone server's (``redis://``, ``rediss://`` for TLS), or a
  Cluster's, ``redis+cluster://[user:password@]host:port[,host:port...]``
  (``rediss+cluster://``), which names the nodes to start from
  (``cluster_url``, ``cluster_seeds``); either shown without its password
  (``without_password``).
- Clients: the store's (``client_for``: every wait bounded, a pool of
  ``POOL``), the bus's (``bus_client``), a Cluster's (``cluster_client``:
  every node the URL names a starting point). The two connections that carry
  a move, the appends' and the bus's subscriptions, are our own (``pipe.py``).
- ``pack``: commands in the Redis protocol, by hand, for those two.

What a client may raise: ``ERRORS``; ``FAILURES`` with uvloop's RuntimeError too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import hiredis
from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

#: What a Redis client may raise: RedisError, or RedisClusterException (which is not one).
ERRORS = (RedisError, RedisClusterException)
#: What a client may raise: redis-py's errors, and RuntimeError, which uvloop raises when writing
#: to a connection the peer reset while it was idle (redis-py sees only a clean close then).
FAILURES = (*ERRORS, RuntimeError)
#: Connections a process's Redis client opens at most, besides those of the appends and the bus.
POOL = 64
#: The port of a Cluster's node named without one.
DEFAULT_PORT = 6379
#: The schemes of a Cluster's URL, and the ones redis-py takes for them.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


# -- URLs --------------------------------------------------------------------------------------


def cluster_url(url: str) -> str | None:
    """For a Cluster's URL, ``redis+cluster://[user:password@]host:port[,host:port...]``
    (``rediss+cluster://`` for TLS), the URL redis-py's ``RedisCluster`` takes (``redis://``,
    ``rediss://``) for its first node; None for any other URL (a standalone server)."""
    parts = _cluster_parts(url)
    return parts[0] if parts is not None else None


def cluster_seeds(url: str) -> list[tuple[str, int]]:
    """The nodes a Cluster's URL names after its first. Any one node is enough to find the
    others, but a process that starts while the one it names is down finds none: name a few."""
    parts = _cluster_parts(url)
    return parts[1] if parts is not None else []


def _cluster_parts(url: str) -> tuple[str, list[tuple[str, int]]] | None:
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower()) if sep else None
    if plain is None:
        return None
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    location, tail = rest[:cut], rest[cut:]
    userinfo, at, hosts = location.rpartition("@")
    first, *others = hosts.split(",")
    return f"{plain}://{userinfo}{at}{first}{tail}", [_node(node) for node in others]


def _node(text: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[IPv6]`` or ``[IPv6]:port``."""
    if text.startswith("["):
        host, bracket, after = text[1:].partition("]")
        colon, port = after[:1], after[1:]
        valid = bool(bracket) and colon in ("", ":")
    else:
        host, colon, port = text.partition(":")
        valid = True
    if valid and host and not colon:
        return host, DEFAULT_PORT
    if valid and host and port.isdigit() and 0 < int(port) < 65536:
        return host, int(port)
    raise ValueError(f"a Cluster's URL names its nodes as host:port, separated by commas, not {text!r}")


def without_password(url: str) -> str:
    """The URL as it may be shown (logs, /healthz): its password, if any, as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else ":***@"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=user + host))


# -- clients -----------------------------------------------------------------------------------


def cluster_client(url: str, **options: Any) -> RedisCluster:
    """redis-py's ``RedisCluster`` for a Cluster's URL, every node it names a starting point."""
    plain = cluster_url(url)
    if plain is None:
        raise ValueError(f"not a Cluster's URL (redis+cluster://): {url}")
    seeds = [ClusterNode(host, port) for host, port in cluster_seeds(url)]
    return RedisCluster.from_url(plain, startup_nodes=seeds or None, **options)


def client_for(url: str, *, timeout: float = 2.0) -> Redis | RedisCluster:
    """The store's client, whose every wait is bounded: short socket timeouts, two quick
    retries after a connection error (each append carries a call id for them), none after a
    timeout (a server that does not answer in ``timeout`` is unavailable now).
    For a Cluster's URL (``redis+cluster://``) a RedisCluster, which retries once,
    after reading the map of the slots again."""
    if cluster_url(url) is not None:
        return cluster_client(
            url,
            max_connections=POOL,  # per node
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(ExponentialBackoff(cap=0.25, base=0.025), 1),
            health_check_interval=30,
        )
    # A burst of requests (hundreds of games starting at once) waits for one of
    # POOL connections, at most ``timeout``; the plain pool would refuse at once.
    # (Its wait needs a task: with a store that is not ``local``, requests run in one.)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=POOL,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.025), 2, supported_errors=(RedisConnectionError,)),
        health_check_interval=30,
    )
    _reset_is_a_connection_error(pool)
    return Redis(connection_pool=pool)


def _reset_is_a_connection_error(pool: ConnectionPool) -> None:
    """Make the pool's connections raise ConnectionError, which redis-py retries on a new
    connection, where uvloop raises RuntimeError: writing to a connection reset while idle
    (by a firewall, a load balancer, a partition)."""
    base: Any = pool.connection_class

    class Connection(base):  # type: ignore[misc]
        async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            try:
                await super().send_packed_command(command, check_health)
            except RuntimeError as exc:
                raise RedisConnectionError(f"the connection was reset: {exc}") from exc

    Connection.__name__ = Connection.__qualname__ = f"Reset{base.__name__}"
    pool.connection_class = Connection


def bus_client(url: str, *, timeout: float) -> Redis | RedisCluster:
    """The bus's client of its own (for PUBLISH and SPUBLISH), when it is given none."""
    if cluster_url(url) is not None:
        return cluster_client(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


# -- the Redis protocol ------------------------------------------------------------------------


#: hiredis's ``pack_command`` (its stub types the tuple as of one argument only).
pack_command = cast("Callable[[tuple[bytes | str | int, ...]], bytes]", hiredis.pack_command)


def pack(commands: Sequence[Sequence[bytes | str | int]]) -> bytes:
    """Commands in the Redis protocol (RESP arrays of bulk strings), in one piece: hiredis's
    ``pack_command`` for each, what redis-py's ``pack_commands`` makes, byte for byte
    (tests/test_redis.py holds it to that), at a fifth of its cost (timeit: 1.2 µs for a
    move's FCALL, against 2.5 for the same in Python and 7.3 for redis-py's)."""
    if len(commands) == 1:
        return pack_command(tuple(commands[0]))
    return b"".join([pack_command(tuple(command)) for command in commands])
