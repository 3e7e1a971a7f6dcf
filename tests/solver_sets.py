"""Pascal Pons' test sets, read from the shared folder beside the repository.

The sets are not copied into the project (they come from a GPL-licensed
repository); CI lays `shared/` beside the clone. `CONNECTFOUR_SOLVER_SETS`
points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETS = ("Test_L3_R1", "Test_L2_R1", "Test_L2_R2")


def sets_folder() -> Path:
    return Path(os.environ.get("CONNECTFOUR_SOLVER_SETS", ROOT.parent / "shared" / "solver-sets"))


def read_set(name: str) -> list[tuple[str, int]]:
    """Every (position, score) line of one set; the test is skipped, loudly, without the sets."""
    path = sets_folder() / name
    if not path.exists():
        pytest.skip(f"Pons' test set {name} not found at {path} (set CONNECTFOUR_SOLVER_SETS)")
    lines = path.read_text().split("\n")
    return [(moves, int(score)) for moves, score in (line.split() for line in lines if line.strip())]
