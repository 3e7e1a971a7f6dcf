"""The fault tests' checker: what every client recorded, against every game read back.

A client records each thing it learnt, in order (``Record``): a move it saw
(a ``play`` event, or each move of a ``state``), a move of its own that was
acknowledged, and the server telling it that the store lost history
(``rewound``), or its seeing it by itself (``noticed``: a snapshot that does
not extend what it was shown, as the page notices). The checker compares them with each game's final log and
reports three kinds of defects:

- **lost**: a move acknowledged to its player that the final log does not hold;
- **duplicated**: a client shown the same ply twice without a snapshot or a
  ``rewound`` between (a delivery repeated);
- **divergent**: a client shown a move the final log does not hold at that
  ply, and never told afterwards (``rewound``) nor shown (``noticed``) that
  what it saw was lost.

A lost move its player learnt was lost (told or noticed after the
acknowledgement) is counted apart, as **told**: history was lost, but not
in silence. ``Report.clean`` holds when nothing was lost, duplicated or
divergent; ``Report.silent`` when something went wrong that nobody was told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["seen", "acked", "snapshot", "rewound", "noticed"]


@dataclass(frozen=True)
class Record:
    """One thing a client learnt: ``seen``/``acked`` carry a ply and column; a
    ``snapshot`` (a ``state``) carries every move; ``rewound`` nothing."""

    kind: Kind
    ply: int = -1
    column: int = -1
    moves: tuple[int, ...] = ()


@dataclass(frozen=True)
class Defect:
    game: str
    client: str
    ply: int
    column: int
    final: int | None  # what the final log holds at that ply (None: shorter)

    def __str__(self) -> str:
        return f"{self.game}/{self.client} ply {self.ply}: column {self.column}, log has {self.final}"


@dataclass
class Report:
    lost: list[Defect] = field(default_factory=list)
    told: list[Defect] = field(default_factory=list)
    duplicated: list[Defect] = field(default_factory=list)
    divergent: list[Defect] = field(default_factory=list)
    #: Acknowledged moves, and moves seen by clients, that were checked.
    acked: int = 0
    seen: int = 0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.told or self.duplicated or self.divergent)

    @property
    def silent(self) -> bool:
        return bool(self.lost or self.duplicated or self.divergent)

    def __str__(self) -> str:
        lines = [
            f"{self.acked} acknowledged moves, {self.seen} moves seen: "
            f"{len(self.lost)} lost silently, {len(self.told)} lost and told, "
            f"{len(self.duplicated)} duplicated, {len(self.divergent)} divergent"
        ]
        for name in ("lost", "told", "duplicated", "divergent"):
            lines += [f"  {name}: {defect}" for defect in getattr(self, name)[:10]]
        return "\n".join(lines)


def _final(log: Sequence[int], ply: int) -> int | None:
    return log[ply] if ply < len(log) else None


def check_client(game: str, client: str, records: Sequence[Record], log: Sequence[int], report: Report) -> None:
    """Add what one client's ``records`` show against the game's final ``log``."""
    told_after = [False] * (len(records) + 1)
    for index in range(len(records) - 1, -1, -1):  # was a rewound told at or after each record?
        told_after[index] = told_after[index + 1] or records[index].kind in ("rewound", "noticed")
    shown: set[int] = set()
    for index, record in enumerate(records):
        told = told_after[index + 1]
        if record.kind in ("snapshot", "rewound", "noticed"):
            shown = set(range(len(record.moves)))
            for ply, column in enumerate(record.moves):
                report.seen += 1
                if _final(log, ply) != column and not told:
                    report.divergent.append(Defect(game, client, ply, column, _final(log, ply)))
            continue
        defect = Defect(game, client, record.ply, record.column, _final(log, record.ply))
        if record.kind == "acked":
            report.acked += 1
            if defect.final != record.column:
                (report.told if told else report.lost).append(defect)
            continue
        report.seen += 1
        if record.ply in shown:
            report.duplicated.append(defect)
        shown.add(record.ply)
        if defect.final != record.column and not told:
            report.divergent.append(defect)


def check(recorded: Mapping[str, Mapping[str, Sequence[Record]]], logs: Mapping[str, Sequence[int]]) -> Report:
    """``recorded``: game -> client -> records; ``logs``: game -> its final moves."""
    report = Report()
    for game, clients in recorded.items():
        for client, records in clients.items():
            check_client(game, client, records, logs.get(game, ()), report)
    return report


def moves_of(records: Iterable[Record]) -> list[int]:
    """The moves a client believes in after ``records`` (its view of the game)."""
    view: list[int] = []
    for record in records:
        if record.kind == "snapshot":
            view = list(record.moves)
        elif record.kind == "seen" and record.ply == len(view):
            view.append(record.column)
    return view
