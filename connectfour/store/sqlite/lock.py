"""One server process per database: it holds a lock file, which names it."""

from __future__ import annotations

import fcntl
import os

from ..base import StoreError


class DatabaseInUse(StoreError):
    """Another server process holds this database."""


def lock(path: str) -> int:
    """Hold ``<path>-lock`` for as long as this process uses the database: the
    descriptor, which the store closes to let go."""
    fd = os.open(f"{path}-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise DatabaseInUse(
            f"the database {path} is in use by another connectfour server"
            + (f" (pid {holder})" if holder.isdigit() else "")
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
