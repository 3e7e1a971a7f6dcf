"""The lobby under load: N watchers while public games start, are joined and end.

Churn: ``rate`` public games a second, each joined at once and then resigned:
three changes of the lobby each (waiting, playing, gone), plus the online
count moving with their connections. Probes: every ``probe_every`` seconds a
public game with a name of its own waits until every sampled watcher has
seen it in the lobby; the time from its creation (its host's ``init``) to
each sighting is the update latency. Only ``sample`` watchers decode what
they get; the others count frames and bytes, as a browser would take them.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import msgspec

from .crowd import open_many
from .games import V1
from .wsclient import LeanClient, connect


class _Entry(msgspec.Struct):
    game: str


class _Lobby(msgspec.Struct):
    type: str
    waiting: list[_Entry] = []
    playing: list[_Entry] = []


_decode = msgspec.json.Decoder(_Lobby).decode
_decode_any = msgspec.json.Decoder(dict[str, object]).decode


@dataclass
class LobbyResult:
    watchers: int
    games: int = 0
    changes: int = 0
    frames: int = 0
    bytes: int = 0
    latencies: list[int] = field(default_factory=list)  # ns, per probe and sampled watcher
    missed: int = 0  # probes a sampled watcher never saw in time
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)


def _address(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80, parts.path or "/"


async def _until(client: LeanClient, kind: bytes, timeout: float = 10.0) -> dict[str, object]:
    marker = b'"type":"' + kind + b'"'
    while True:
        payload = await client.recv(timeout)
        if marker in payload:
            return _decode_any(payload)


async def run_lobby(
    urls: list[str],
    *,
    watchers: int,
    rate: float,
    duration: float,
    sample: int = 100,
    probe_every: float = 0.5,
    warmup: float = 1.0,
    on_measure: Callable[[], None] = lambda: None,
    progress: Callable[[float, float, LobbyResult], None] | None = None,
) -> tuple[LobbyResult, float]:
    result = LobbyResult(watchers)
    address = [_address(url) for url in urls]
    crowd: list[LeanClient] = []
    for index, url in enumerate(urls):
        share = watchers // len(urls) + (index < watchers % len(urls))
        if share:
            opened, _ = await open_many(url, share, subprotocol=V1)
            crowd += opened
    #: Probes not yet seen by every sampled watcher: game id -> (created at, watchers yet to see it).
    probes: dict[str, tuple[int, set[int]]] = {}
    measuring = False

    def counter(client: LeanClient) -> Callable[[bytes], None]:
        def count(payload: bytes) -> None:
            if measuring:
                result.frames += 1
                result.bytes += len(payload)

        return count

    def sampled(index: int) -> Callable[[bytes], None]:
        def look(payload: bytes) -> None:
            if measuring:
                result.frames += 1
                result.bytes += len(payload)
            if not probes or not payload.startswith(b'{"type":"lobby"'):
                return
            now = time.perf_counter_ns()
            lobby = _decode(payload)
            for entry in itertools.chain(lobby.waiting, lobby.playing):
                probe = probes.get(entry.game)
                if probe is not None and index in probe[1]:
                    probe[1].discard(index)
                    if measuring:
                        result.latencies.append(now - probe[0])

        return look

    for index, client in enumerate(crowd):
        client.on_text = sampled(index) if index < sample else counter(client)
        client.send_text(b'{"type":"lobby"}')
    watching = set(range(min(sample, len(crowd))))
    tasks: set[asyncio.Task[None]] = set()
    serial = itertools.count()

    async def game(probe: bool) -> None:
        n = next(serial)
        host_at, guest_at = address[n % len(address)], address[(n + 1) % len(address)]
        host = guest = None
        try:
            host = await connect(*host_at, V1)
            name = f"probe {n}" if probe else f"player {n}"
            host.send_text(b'{"type":"init","public":true,"name":"%s"}' % name.encode())
            init = await _until(host, b"init")
            if measuring:
                result.games += 1
                result.changes += 3
            if probe:
                probes[str(init["game"])] = (time.perf_counter_ns(), set(watching))
                deadline = time.monotonic() + 5.0
                while probes[str(init["game"])][1] and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                unseen = probes.pop(str(init["game"]))[1]
                if measuring:
                    result.missed += len(unseen)
            guest = await connect(*guest_at, V1)
            guest.send_text(b'{"type":"init","join":"%s"}' % str(init["join"]).encode())
            await _until(guest, b"state")
            host.send_text(b'{"type":"resign"}')
            await _until(guest, b"win")
        except Exception as exc:  # reported, not raised: one failure should not end the run
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(f"{type(exc).__name__}: {exc}")
        finally:
            for client in (host, guest):
                if client is not None:
                    client.close()

    def start(probe: bool) -> None:
        task = asyncio.ensure_future(game(probe))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    begin = time.monotonic()
    total = warmup + duration
    next_game, next_probe = begin, begin
    started_at = begin
    while True:
        now = time.monotonic()
        if not measuring and now - begin >= warmup:
            measuring = True
            on_measure()
            started_at = now
        if now - begin >= total:
            break
        while rate > 0 and next_game <= now:
            start(False)
            next_game += 1.0 / rate
        if next_probe <= now:
            start(True)
            next_probe += probe_every
        if progress is not None:
            progress(now - begin, total, result)
        await asyncio.sleep(min(0.01, max(0.0, min(next_game if rate > 0 else next_probe, next_probe) - now)))
    elapsed = time.monotonic() - started_at
    measuring = False
    if tasks:
        await asyncio.wait(tasks, timeout=15.0)
    for client in crowd:
        client.close()
    return result, elapsed
