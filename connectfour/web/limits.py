"""What one client address may hold: connections, connections still owing a
request head, and new games per minute.

Limits per connection (frame size, rate, output buffer) stop one socket from
costing much; these stop one client from opening thousands of sockets or
filling the database. Pure bookkeeping with an injectable clock: the front
door and the connection ask, and act on the answer.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import metrics

log = logging.getLogger("connectfour.web")


@dataclass(frozen=True)
class AddressLimits:
    """The bounds per client address; 0 turns a bound off."""

    #: Open connections (WebSocket and HTTP alike).
    connections: int = 256
    #: Connections that have not yet sent a complete first request head.
    waiting: int = 32
    #: Games started per minute, with as many in a burst.
    games_per_minute: int = 30
    #: IPv6 addresses count per network of this prefix length: one subscriber is usually
    #: given a whole /64, so counting each address would let it multiply every bound.
    ipv6_prefix: int = 64


@functools.lru_cache(maxsize=4096)
def address_key(address: str, ipv6_prefix: int = 64) -> str:
    """What an address's bounds are counted under: an IPv4 address itself (an IPv4-mapped
    IPv6 address too), the ``/ipv6_prefix`` network of an IPv6 address."""
    if ":" not in address:
        return address
    try:
        ip = ipaddress.IPv6Address(address.partition("%")[0])
    except ValueError:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ipv6_prefix >= 128:
        return str(ip)
    return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))


class _Entry:
    __slots__ = ("connections", "waiting", "tokens", "stamp", "logged")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.connections = 0
        self.waiting = 0
        self.tokens = tokens
        self.stamp = stamp
        self.logged = float("-inf")


class ClientTable:
    """The live count per address; an address with nothing held leaves the table."""

    def __init__(self, limits: AddressLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._prefix = limits.ipv6_prefix
        #: By ``address_key``: an IPv6 subscriber's whole network is one entry.
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def waiting_total(self) -> int:
        """Connections of every address yet to send their first request head."""
        return sum(entry.waiting for entry in self._entries.values())

    def connections_total(self) -> int:
        """Open connections of every address, as counted against their bound."""
        return sum(entry.connections for entry in self._entries.values())

    def _entry(self, address: str) -> _Entry:
        entry = self._entries.get(address)
        if entry is None:
            entry = self._entries[address] = _Entry(float(self.limits.games_per_minute), self._clock())
        return entry

    def _release(self, address: str, entry: _Entry) -> None:
        if self._idle(entry):
            del self._entries[address]

    def _idle(self, entry: _Entry) -> bool:
        """Holds nothing, its allowance refilled, and no refusal logged this second (which must be remembered)."""
        return (
            entry.connections <= 0
            and entry.waiting <= 0
            and self._clock() - entry.logged >= 1.0
            and self._bucket_full(entry)
        )

    def _bucket_full(self, entry: _Entry) -> bool:
        burst = self.limits.games_per_minute
        return not burst or entry.tokens + (self._clock() - entry.stamp) * burst / 60.0 >= burst

    # -- connections -------------------------------------------------------------------

    def connect(self, address: str) -> bool:
        """Count a new connection; False (and nothing counted) when the address has its fill."""
        address = address_key(address, self._prefix)
        entry = self._entry(address)
        bound = self.limits.connections
        if bound and entry.connections >= bound:
            return self._refuse(address, "connections", f"more than {bound} connections")
        entry.connections += 1
        return True

    def disconnect(self, address: str) -> None:
        address = address_key(address, self._prefix)
        entry = self._entries.get(address)
        if entry is not None:
            entry.connections -= 1
            self._release(address, entry)

    def start_waiting(self, address: str) -> bool:
        """Count a connection owing its first request head; False when too many already do."""
        address = address_key(address, self._prefix)
        entry = self._entry(address)
        bound = self.limits.waiting
        if bound and entry.waiting >= bound:
            return self._refuse(address, "waiting", f"more than {bound} connections without a request")
        entry.waiting += 1
        return True

    def stop_waiting(self, address: str) -> None:
        address = address_key(address, self._prefix)
        entry = self._entries.get(address)
        if entry is not None:
            entry.waiting -= 1
            self._release(address, entry)

    # -- games -------------------------------------------------------------------------

    def new_game(self, address: str) -> bool:
        """Take one game from the address's allowance; False when it is spent for now."""
        address = address_key(address, self._prefix)
        burst = self.limits.games_per_minute
        if not burst:
            return True
        entry = self._entry(address)
        now = self._clock()
        tokens = min(float(burst), entry.tokens + (now - entry.stamp) * burst / 60.0)
        entry.stamp = now
        if tokens < 1.0:
            entry.tokens = tokens
            return self._refuse(address, "games", f"more than {burst} new games a minute")
        entry.tokens = tokens - 1.0
        return True

    def forget_idle(self) -> int:
        """Drop addresses that hold nothing and whose allowance has refilled; how many went."""
        idle = [address for address, entry in self._entries.items() if self._idle(entry)]
        for address in idle:
            del self._entries[address]
        return len(idle)

    def log_refusal(self, address: str, bound: str, what: str) -> None:
        """Count and log (at most once a second per address) a refusal made elsewhere."""
        address = address_key(address, self._prefix)
        self._entry(address)
        self._refuse(address, bound, what)
        self._release(address, self._entries[address])

    def _refuse(self, address: str, bound: str, what: str) -> bool:
        """Count a refusal; log it at most once a second per address, so a flood cannot flood the log."""
        metrics.count("connectfour_address_refusals_total", bound)
        entry = self._entries.get(address)
        now = self._clock()
        if entry is None or now - entry.logged >= 1.0:
            if entry is not None:
                entry.logged = now
            log.warning("refused %s: %s", address, what)
        return False


def forwarded_address(value: str) -> str | None:
    """The client address a trusted proxy appended to X-Forwarded-For: the last one."""
    last = value.rpartition(",")[2].strip()
    return last or None


def forwarded_scheme(values: Sequence[str]) -> str | None:
    """The scheme a trusted proxy says the client used (the last X-Forwarded-Proto), if http or https."""
    if not values:
        return None
    last = values[-1].rpartition(",")[2].strip().lower()
    return last if last in ("http", "https") else None
