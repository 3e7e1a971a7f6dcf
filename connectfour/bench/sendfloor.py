"""The kernel's floor for fan-out: one small frame sent to each of N loopback sockets.

No event loop, no framing, no game: one process (on ``--server-cpu``) holds
N accepted sockets and calls ``send`` on each in a plain loop; another (on
``--client-cpu``) reads them all, busy-polling epoll or sleeping in it. The
time until the last socket has its frame is what any server that writes to
each recipient once, from one core, must at least spend.

Run with ``python -m connectfour.bench.sendfloor [--sockets N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import select
import socket
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # multiprocessing.Queue and multiprocessing.Event are factories; these are the classes they return.
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

FRAME = b"\x81\x3a" + b'{"type": "play", "player": "red", "column": 3, "row": 0, "ply": 5}'[:58]


def _pin(cpu: int) -> None:
    """Run on ``cpu`` if this machine has it (a one-core machine runs both sides on its core)."""
    if cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def _sender(cpu: int, sockets: int, rounds: int, ports: Queue[int], go: Event, out: Queue[tuple[float, float]]) -> None:
    _pin(cpu)
    listener = socket.create_server(("127.0.0.1", 0), backlog=4096)
    ports.put(listener.getsockname()[1])
    peers: list[socket.socket] = []
    while len(peers) < sockets:
        peer, _ = listener.accept()
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer.setblocking(False)
        peers.append(peer)
    for _ in range(rounds):
        go.wait()
        go.clear()
        started, cpu_before = time.perf_counter(), os.times()
        for peer in peers:
            peer.send(FRAME)
        cpu_after = os.times()
        out.put((time.perf_counter() - started, cpu_after.system - cpu_before.system))


def _reader(cpu: int, port: int, sockets: int, rounds: int, busy: bool, go: Event, out: Queue[float]) -> None:
    _pin(cpu)
    poll = select.epoll()
    by_fd = {}
    for _ in range(sockets):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        poll.register(sock.fileno(), select.EPOLLIN)
        by_fd[sock.fileno()] = sock
    timeout = 0 if busy else 1.0
    for _ in range(rounds):
        time.sleep(0.3)  # let the previous round settle
        received, started = 0, time.perf_counter()
        go.set()
        while received < sockets:
            for fd, _ in poll.poll(timeout):
                by_fd[fd].recv(4096)
                received += 1
        out.put(time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectfour.bench.sendfloor", description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--sleeping-reader", action="store_true", help="the reader sleeps in epoll instead of polling")
    args = parser.parse_args(argv)
    ports: Queue[int] = multiprocessing.Queue()
    sent: Queue[tuple[float, float]] = multiprocessing.Queue()
    read: Queue[float] = multiprocessing.Queue()
    go = multiprocessing.Event()
    sender = multiprocessing.Process(target=_sender, args=(args.server_cpu, args.sockets, args.rounds, ports, go, sent))
    sender.start()
    port = ports.get(timeout=30)
    reader = multiprocessing.Process(
        target=_reader, args=(args.client_cpu, port, args.sockets, args.rounds, not args.sleeping_reader, go, read)
    )
    reader.start()
    for _ in range(args.rounds):
        seconds, system = sent.get(timeout=60)
        reached = read.get(timeout=60)
        print(
            f"{args.sockets} sockets: send loop {seconds * 1e3:.1f} ms ({seconds / args.sockets * 1e6:.2f} µs each, "
            f"{system * 1e3:.0f} ms of it in the kernel); last frame read after {reached * 1e3:.1f} ms"
        )
    sender.join()
    reader.join()


if __name__ == "__main__":
    main()
