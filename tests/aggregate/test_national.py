"""The national roll-up through a file:// bucket on two hand-made provinces whose paths hold an
apostrophe (the paths are bound, never pasted into the COPY text): each province's cells of the
period published, the ministry as the sum of the Sở, the files with each row's province, the books."""

from __future__ import annotations

import csv
import json

import duckdb

from pipelines import warehouse
from pipelines.aggregate import national

CELL = ("DN", "tt24", "02-TH-DN")


def _partition(path, province: str, school: str, value: int) -> None:
    with warehouse.connect(path) as con:
        rows = [
            ("2024-2025", *CELL, "school", school, 1, "T", value, "2024"),
            ("2024-2025", *CELL, "so", province, 1, "T", value, "2024"),
            ("2023-2024", *CELL, "so", province, 1, "T", 1000, "2024"),  # another year: not rolled up
        ]
        warehouse.insert_rows(con, "cells", rows)


def test_national_rollup_through_a_folder_bucket_binds_paths(tmp_path):
    folder = tmp_path / "tỉnh's data"
    folder.mkdir()
    bucket = str(folder / "bucket's")  # a plain folder: taken as its file:// URL
    for province, school, value in (("66", "66643001", 5), ("68", "68601001", 7)):
        path = folder / f"it's {province}.duckdb"
        _partition(path, province, school, value)
        manifest = national.publish_province(
            path, bucket, "2024-2025", "DN", province, run_id=f"run-{province}"
        )
        assert manifest["tables"]["cells"]["rows"] == 2  # the period's rows only
    # The bucket's layout: <school-year>/<period>/<province>/, the manifest naming its files.
    stored = json.loads((folder / "bucket's" / "2024-2025" / "DN" / "66" / "manifest.json").read_text())
    assert (
        stored["run_id"] == "run-66" and stored["tables"]["cells"]["key"] == "2024-2025/DN/66/cells.parquet"
    )
    target, out = folder / "national's.duckdb", folder / "out'put"

    facts = national.national_rollup(bucket, ["66", "68"], target, "2024-2025", "DN", out)

    assert facts["complete"] is True and facts["missing"] == {}
    assert (facts["schools_66"], facts["cells_66"], facts["schools_68"], facts["cells_68"], facts["cells_bo"]) == (
        1, 2, 1, 2, 1)  # fmt: skip
    with duckdb.connect(str(target), read_only=True) as con:
        stored_cells = con.execute("SELECT level, unit_code, value FROM cells ORDER BY ALL").fetchall()
        books = con.execute("SELECT expected, rolled_up, missing, complete FROM national_rollup").fetchall()
    assert stored_cells == [("bo", "BO", 12), ("school", "66643001", 5), ("school", "68601001", 7),
                            ("so", "66", 5), ("so", "68", 7)]  # fmt: skip
    assert books == [(2, 2, 0, True)]
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
    with (out / "provinces.csv").open(encoding="utf-8") as fh:
        assert [(r["province"], r["status"]) for r in csv.DictReader(fh)] == [
            ("66", "rolled_up"),
            ("68", "rolled_up"),
        ]


def test_a_province_whose_tables_do_not_fit_is_left_out_whole(tmp_path):
    """68's learner table has a column the national one (made from 66's) does not: 68 is reported
    damaged and none of its rows stay, its cells included (one transaction per province)."""
    bucket = str(tmp_path / "bucket")
    for province, school, value, column in (
        ("66", "66643001", 5, "learner_key"),
        ("68", "68601001", 7, "other"),
    ):
        path = tmp_path / f"{province}.duckdb"
        _partition(path, province, school, value)
        with warehouse.connect(path) as con:
            con.execute(f"CREATE TABLE learner (school_code VARCHAR, {column} VARCHAR)")
            warehouse.insert_rows(con, "learner", [(school, "x")])
        national.publish_province(path, bucket, "2024-2025", "DN", province)
    target = tmp_path / "national.duckdb"

    facts = national.national_rollup(bucket, ["66", "68"], target, "2024-2025", "DN")

    assert list(facts["missing"]) == ["68"] and facts["missing"]["68"].startswith("damaged: ")
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT level, unit_code, value FROM cells ORDER BY ALL").fetchall() == [
            ("bo", "BO", 5), ("school", "66643001", 5), ("so", "66", 5)]  # fmt: skip
        assert con.execute("SELECT count(*) FROM learner").fetchone() == (1,)
        assert con.execute("SELECT status FROM national_provinces ORDER BY province").fetchall() == [
            ("rolled_up",), ("damaged",)]  # fmt: skip
