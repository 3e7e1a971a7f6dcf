"""CPU time and memory of another process, read from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Sample:
    user: float  # seconds
    system: float  # seconds
    rss: int  # bytes

    def __sub__(self, other: Sample) -> Sample:
        return Sample(self.user - other.user, self.system - other.system, self.rss - other.rss)


def sample(pid: int) -> Sample:
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces: split after its closing parenthesis.
        fields = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/statm") as f:
        rss_pages = int(f.read().split()[1])
    return Sample(int(fields[11]) / _TICK, int(fields[12]) / _TICK, rss_pages * _PAGE)
