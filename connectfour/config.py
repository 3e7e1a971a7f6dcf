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
    #: Seconds between pings that detect dead peers; 0 disables them.
    heartbeat: float = 30.0
    #: Seconds a player may be away before the opponent can claim the game.
    grace: float = 60.0
    #: Seconds without activity, nobody connected, before a game is abandoned.
    expire_after: float = 3600.0
