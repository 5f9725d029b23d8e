"""The national roll-up on two hand-made partitions whose paths hold an apostrophe (the paths are
bound, never pasted into the ATTACH or COPY text): the provinces' cells of the period, the ministry
as the sum of the Sở, the files with each row's province."""

from __future__ import annotations

import csv

import duckdb

from pipelines import warehouse
from pipelines.aggregate.national import national_rollup

CELL = ("DN", "tt24", "02-TH-DN")


def _partition(path, province: str, school: str, value: int) -> None:
    with warehouse.connect(path) as con:
        rows = [
            ("2024-2025", *CELL, "school", school, 1, "T", value, "2024"),
            ("2024-2025", *CELL, "so", province, 1, "T", value, "2024"),
            ("2023-2024", *CELL, "so", province, 1, "T", 1000, "2024"),  # another year: not rolled up
        ]
        warehouse.insert_rows(con, "cells", rows)


def test_national_rollup_binds_partition_and_output_paths(tmp_path):
    folder = tmp_path / "tỉnh's data"
    folder.mkdir()
    partitions = {"68": folder / "it's 68.duckdb", "66": folder / "it's 66.duckdb"}
    _partition(partitions["66"], "66", "66643001", 5)
    _partition(partitions["68"], "68", "68601001", 7)
    target, out = folder / "national's.duckdb", folder / "out'put"

    facts = national_rollup(partitions, target, "2024-2025", "DN", out)

    assert facts == {"schools_66": 1, "cells_66": 2, "schools_68": 1, "cells_68": 2, "cells_bo": 1}
    with duckdb.connect(str(target), read_only=True) as con:
        stored = con.execute("SELECT level, unit_code, value FROM cells ORDER BY ALL").fetchall()
    assert stored == [("bo", "BO", 12), ("school", "66643001", 5), ("school", "68601001", 7),
                      ("so", "66", 5), ("so", "68", 7)]  # fmt: skip
    with (out / "cells.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["province"], r["level"], r["unit_code"], r["value"]) for r in rows] == [
        ("66", "school", "66643001", "5"),
        ("66", "so", "66", "5"),
        ("68", "school", "68601001", "7"),
        ("68", "so", "68", "7"),
        ("", "bo", "BO", "12"),
    ]
    assert (out / "cells.parquet").exists()
