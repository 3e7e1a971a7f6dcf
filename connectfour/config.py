"""Settings of one server process, with the defaults `connectfour serve` uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8000
    #: Origins a browser may connect from besides the server's own (the
    #: request's scheme and Host); "*" means any. Clients sending no Origin
    #: (tools) are always let in.
    allowed_origins: tuple[str, ...] = ()
    #: Largest client frame in bytes; bigger ones close the connection with 1009.
    max_frame: int = 4096
    #: Sustained frames per second per connection, and the burst allowed above it.
    rate: float = 20.0
    burst: int = 40
    #: Seconds of silence before a peer is pinged, and that a ping waits for its
    #: pong before the peer is cut; 0 disables pings.
    heartbeat: float = 30.0
    #: Bytes a connection may leave unread (frames queued for it, counted as
    #: the memory they take) before it is dropped.
    max_output: int = 1 << 20
    #: Seconds a connection has to send a complete request head; also how long
    #: an idle keep-alive connection is kept.
    head_timeout: float = 10.0
    #: Per client address: open connections, connections yet to send a request
    #: head, and new games a minute; 0 turns a bound off.
    connections_per_address: int = 256
    waiting_per_address: int = 32
    games_per_minute: int = 30
    #: IPv6 clients are counted per network of this prefix length (128: per address).
    ipv6_prefix: int = 64
    #: Take the client's address from X-Forwarded-For (and the scheme from
    #: X-Forwarded-Proto): only behind a proxy that sets them.
    trust_forwarded_for: bool = False
    #: The bearer token of ``POST /api/announce``; None: the endpoint does not exist.
    admin_token: str | None = None
    #: The bearer token that shows ``/metrics`` and the details of ``/healthz`` to a client
    #: elsewhere than on this host; None: only clients on this host see them.
    metrics_token: str | None = None
    #: Seconds a player may be away before the opponent can claim the game.
    grace: float = 60.0
    #: Seconds without activity, nobody connected, before a game is abandoned.
    expire_after: float = 3600.0
    #: Seconds without activity, nobody connected, before a game without a move
    #: is deleted, so that games created and never played do not fill the disk; 0 never.
    forget_unplayed_after: float = 86400.0
    #: Seconds the computer waits before it answers a move: an instant reply feels wrong.
    computer_delay: float = 0.7
    #: Seconds between lobby updates: the most often a lobby watcher is told.
    lobby_interval: float = 0.5
    #: Exact searches at once (the computer's and analyses); 0: one per core but one.
    solver_searches: int = 0
    #: Seconds one exact search may take; past it the computer plays a quick move
    #: and the analysis answers 503.
    search_budget: float = 1.0
    #: Listen with SO_REUSEPORT: one of several worker processes on one port.
    reuse_port: bool = False
