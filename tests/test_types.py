"""The package type-checks: ``mypy`` with the settings of pyproject.toml finds nothing."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors(tmp_path: Path) -> None:
    # The package is named explicitly so the check holds wherever pytest runs;
    # the cache goes to tmp_path, not into the checkout.
    report, errors, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path), str(ROOT / "connectfour")]
    )
    assert status == 0, f"mypy found errors:\n{report}{errors}"
