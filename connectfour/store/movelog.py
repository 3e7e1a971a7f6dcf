"""The move log: append-only files of moves, written once per batch.

An SQLite transaction costs tens of microseconds however few rows it holds,
and a move must be stored before it is announced; a write to the end of a
file costs a few, and one write holds every move of an event-loop turn. So
moves go to this log first, and the SQLite store folds them into its games
table in the background, a segment at a time.

A segment is a file ``<database>-moves.<seq>`` of batches. A batch is a
header (the payload's length and CRC-32, two little-endian unsigned 32-bit
integers) and a payload of lines ``<game> <ply> <column> <time>``. A crash
can cut the last batch short; reading stops at the first batch that is not
whole and intact, and what follows it is dropped: it was never acknowledged.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

log = logging.getLogger("connectfour.store")

#: (game id, ply, column, time of the move)
Move = tuple[str, int, int, float]

_HEADER = struct.Struct("<II")


def encode(moves: Iterable[Sequence]) -> bytes:
    """One batch, ready to be written in a single call; each move starts (game, ply, column, time)."""
    payload = "".join([f"{m[0]} {m[1]} {m[2]} {m[3]:.3f}\n" for m in moves]).encode()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode(data: bytes) -> tuple[list[Move], int]:
    """The moves of every whole, intact batch, and how many bytes they span."""
    moves: list[Move] = []
    end, size = 0, len(data)
    while end + _HEADER.size <= size:
        length, crc = _HEADER.unpack_from(data, end)
        start = end + _HEADER.size
        payload = data[start : start + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        try:
            batch = [_parse(line) for line in payload.decode().splitlines()]
        except ValueError:
            break
        moves.extend(batch)
        end = start + length
    return moves, end


def _parse(line: str) -> Move:
    game, ply, column, at = line.split(" ")
    return game, int(ply), int(column), float(at)


class MoveLog:
    """The segments of one database: the one being written, and older ones not yet folded."""

    def __init__(self, database: str, *, fsync: bool) -> None:
        self.prefix = f"{database}-moves."
        self.fsync = fsync
        self.directory = Path(database).parent
        self._fd = -1
        self._size = 0
        self.seq = 0

    def segments(self) -> list[tuple[int, Path]]:
        """Every segment on disk, oldest first."""
        name = Path(self.prefix).name
        found = []
        for path in self.directory.glob(f"{name}*"):
            suffix = path.name[len(name) :]
            if suffix.isdigit():
                found.append((int(suffix), path))
        return sorted(found)

    def path(self, seq: int) -> Path:
        return Path(f"{self.prefix}{seq:08d}")

    def start(self, seq: int) -> Path:
        """Write from now on to a new, empty segment ``seq``; the path of the previous one."""
        previous = self.path(self.seq)
        fd = os.open(self.path(seq), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        if self.fsync:
            self._sync_directory()
        self.close()
        self._fd, self._size, self.seq = fd, 0, seq
        return previous

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
                log.error("cannot cut a failed write off the move log: %s", exc)
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


def read(path: Path) -> list[Move]:
    """The acknowledged moves of one segment, warning about a torn tail."""
    data = path.read_bytes()
    moves, end = decode(data)
    if end < len(data):
        log.warning("move log %s: %d bytes after the last whole batch were dropped (a write cut short)", path, len(data) - end)
    return moves
