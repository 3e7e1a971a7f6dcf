"""The journal: append-only files of text records, written once per batch.

An SQLite transaction costs tens of microseconds however little it holds,
and a move must be stored before it is announced; a write to the end of a
file costs a few, and one write holds every record of an event-loop turn.
So the SQLite store writes each change to this journal first and folds the
journal into its tables in the background, a segment at a time.

A segment is a file ``<database>-journal.<seq>`` of batches. A batch is a
header (the payload's length and CRC-32, two little-endian unsigned 32-bit
integers) and a payload of records, one per line. A crash can cut the last
batch short; reading stops at the first batch that is not whole and intact,
and what follows it is dropped: it was never acknowledged. What the
records say, and how a replay applies them, is ``entries.py``'s.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("connectfour.store")

_HEADER = struct.Struct("<II")


class Segment(NamedTuple):
    """One segment file on disk and its sequence number."""

    seq: int
    path: Path


def encode(records: list[str]) -> bytes:
    """One batch, ready to be written in a single call; records hold no newline."""
    payload = "\n".join(records).encode()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(data: bytes) -> tuple[list[str], int]:
    """The records of every whole, intact batch, and how many bytes they span."""
    records: list[str] = []
    end, size = 0, len(data)
    while end + _HEADER.size <= size:
        length, crc = _HEADER.unpack_from(data, end)
        start = end + _HEADER.size
        payload = data[start : start + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        try:
            records.extend(payload.decode().split("\n"))
        except UnicodeDecodeError:
            break
        end = start + length
    return records, end


def read(path: Path) -> list[str]:
    """The acknowledged records of one segment, warning about a torn end."""
    data = path.read_bytes()
    records, end = decode(data)
    if end < len(data):
        log.warning(
            "journal %s: %d bytes after the last whole batch were dropped (a write cut short)", path, len(data) - end
        )
    return records


class Journal:
    """The segments of one database: the one being written, and older ones not yet folded."""

    def __init__(self, database: str, *, fsync: bool) -> None:
        self.prefix = f"{database}-journal."
        self.fsync = fsync
        self.directory = Path(database).parent
        self._fd = -1
        self._size = 0
        self.seq = 0

    def segments(self) -> list[Segment]:
        """Every segment on disk, oldest first."""
        name = Path(self.prefix).name
        found = []
        for path in self.directory.glob(f"{name}*"):
            suffix = path.name[len(name) :]
            if suffix.isdigit():
                found.append(Segment(int(suffix), path))
        return sorted(found)

    def path(self, seq: int) -> Path:
        return Path(f"{self.prefix}{seq:08d}")

    def start(self, seq: int) -> None:
        """Write from now on to a new, empty segment ``seq``."""
        fd = os.open(self.path(seq), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        if self.fsync:
            self._sync_directory()
        self.close()
        self._fd, self._size, self.seq = fd, 0, seq

    def write(self, data: bytes) -> None:
        """Append one batch; on any failure (a full disk, say) the segment is left as it was."""
        try:
            written = os.pwrite(self._fd, data, self._size)
            while written < len(data):  # a short write: retry the rest, which raises if the disk is full
                written += os.pwrite(self._fd, data[written:], self._size + written)
            if self.fsync:
                os.fdatasync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self._size)
            except OSError as exc:
                log.error("cannot cut a failed write off the journal: %s", exc)
            raise
        self._size += len(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
