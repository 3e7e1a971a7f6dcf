"""What a change to a game waits for in Redis before it is acknowledged.

By default nothing: a change is acknowledged once the primary has it, and a
failover onto a replica that had not received it yet loses it (the processes
and the page then say so: ``rewound``). With ``replicas`` (``--redis-replicas``)
each batch of changes ends with ``WAIT n``, on the same connection and in the
same write: the answer says how many replicas have everything the connection
wrote. With ``aof`` (``--redis-aof``) it is ``WAITAOF 1 n`` instead: the
primary's append-only file and ``n`` replicas' have it on disk (fsynced).
A change that is stored but not replicated in time is answered as
``unavailable``, outcome unknown; the client sends it again with the same id,
and the answer to that waits again (``RedisStore.confirm``).

Replicas only help if a failover promotes one that has what was
acknowledged: with ``n`` below the number of replicas, the failover must
pick the most advanced one (Sentinel and Valkey Cluster do).
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import StoreError

#: What a wait leaves of the batch's time for its answer: Valkey ends a wait on its
#: timer (``hz``, 10 a second by default), up to 100 ms late; a quarter at least.
MARGIN_MS = 150
MARGIN_SHARE = 0.25


@dataclass(frozen=True)
class Replication:
    #: Replicas that must have a change before it is acknowledged.
    replicas: int = 0
    #: Whether it must be on disk too: the primary's append-only file, and each of those replicas'.
    aof: bool = False

    def __post_init__(self) -> None:
        if self.replicas < 0:
            raise ValueError("replicas cannot be negative")

    @property
    def waits(self) -> bool:
        return self.replicas > 0 or self.aof

    def command(self, seconds: float) -> tuple[str | int, ...]:
        """The wait, bounded by ``seconds`` (at least 1 ms: 0 would wait for ever)."""
        ms = max(1, int(seconds * 1000 - max(MARGIN_MS, seconds * 1000 * MARGIN_SHARE)))
        if self.aof:
            return ("WAITAOF", 1, self.replicas, ms)
        return ("WAIT", self.replicas, ms)

    def short(self, answer: object, where: str = "") -> StoreError | None:
        """None if the wait's ``answer`` says the change is where it must be; else why not."""
        at = f" {where}" if where else ""
        if isinstance(answer, Exception):
            return StoreError(f"redis{at}: could not wait for the replicas: {answer}")
        if self.aof:
            local, replicas = answer if isinstance(answer, list) and len(answer) == 2 else (0, -1)
            if int(local) >= 1 and int(replicas) >= self.replicas:
                return None
            return StoreError(
                f"redis{at}: stored, but on disk here {'yes' if int(local) else 'not yet'} "
                f"and on {max(int(replicas), 0)} of {self.replicas} replicas in time: outcome unknown"
            )
        if isinstance(answer, int) and answer >= self.replicas:
            return None
        return StoreError(f"redis{at}: stored, but on {answer} of {self.replicas} replicas in time: outcome unknown")


#: The default: a change is acknowledged once the primary has it.
AT_ONCE = Replication()
