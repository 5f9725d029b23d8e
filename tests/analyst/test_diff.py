"""What changed between two releases: cells by unit (absent = 0) and schools whose files changed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.analyst import diff, releases

CELL = ("2024-2025", "DN", "tt24", "02-TH-DN")


def _release(folder: Path, cells: list[tuple], files: list[tuple]) -> Path:
    """A release folder with only what diff reads: cells.parquet and release.duckdb's files."""
    folder.mkdir(parents=True)
    with duckdb.connect(str(folder / releases.RELEASE_DB)) as con:
        con.execute("CREATE TABLE cells (school_year VARCHAR, period VARCHAR, regime VARCHAR, form VARCHAR, "
                    "level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR, value BIGINT, "
                    "boundaries VARCHAR)")  # fmt: skip
        con.executemany(
            "INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '2024')", [(*CELL, *c) for c in cells]
        )
        con.sql("SELECT * FROM cells").write_parquet(str(folder / releases.CELLS_PARQUET))
        con.execute("CREATE TABLE files (school_code VARCHAR, file VARCHAR, file_hash VARCHAR)")
        con.executemany("INSERT INTO files VALUES (?, ?, ?)", files)
    return folder


def test_a_changed_a_new_and_a_gone_cell_and_school(tmp_path):
    a = _release(tmp_path / "a", [("school", "S1", 37, "T", 30), ("school", "S2", 37, "T", 5), ("so", "66", 37, "T", 35)],
                 [("S1", "S1.json", "h1"), ("S2", "S2.json", "h2")])  # fmt: skip
    b = _release(tmp_path / "b", [("school", "S1", 37, "T", 31), ("school", "S3", 37, "T", 4), ("so", "66", 37, "T", 35)],
                 [("S1", "S1.json", "h1b"), ("S3", "S3.json", "h3")])  # fmt: skip
    d = diff.diff(a, b)
    # S1 30 → 31, S2 5 → 0 (gone), S3 0 → 4 (new); the Sở's 35 is unchanged and not listed.
    assert d.cells == [
        ("02-TH-DN", "school", "S1", 37, "T", 30, 31, "2024"),
        ("02-TH-DN", "school", "S2", 37, "T", 5, 0, "2024"),
        ("02-TH-DN", "school", "S3", 37, "T", 0, 4, "2024"),
    ]
    changes = {row[0]: row[1] for row in d.schools}
    assert changes == {"S1": "changed", "S2": "removed", "S3": "added"}


def test_two_equal_releases_differ_in_nothing(tmp_path):
    rows = [("school", "S1", 37, "T", 30)]
    a = _release(tmp_path / "a", rows, [("S1", "S1.json", "h1")])
    b = _release(tmp_path / "b", rows, [("S1", "S1.json", "h1")])
    d = diff.diff(a, b)
    assert (d.cells, d.schools) == ([], [])
