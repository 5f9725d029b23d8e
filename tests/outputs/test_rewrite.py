"""Tests for pipelines/outputs/rewrite.py: a period's file is written again exactly when what it is
written from changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import warehouse
from pipelines.outputs.rewrite import Outputs, digest, rows_digest

PERIOD = {"school_year": "2024-2025", "period": "DN"}
# Two schools of one Phòng: 12 and 7 pupils in grade 1 (row 5, column T).
UNITS = [("school", "A", "Trường A", "phong", "P"), ("school", "B", "Trường B", "phong", "P"),
         ("phong", "P", "Phòng P", "so", "S")]  # fmt: skip
CELLS = [
    ("2024-2025", "DN", "tt24", "F", "school", "A", 5, "T", 12, "2024"),
    ("2024-2025", "DN", "tt24", "F", "school", "B", 5, "T", 7, "2024"),
    ("2024-2025", "DN", "tt24", "F", "phong", "P", 5, "T", 19, "2024"),
]


@pytest.fixture
def con(tmp_path: Path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.insert_rows(con, "units", UNITS)
        yield con


def _cells(con, rows) -> tuple:
    con.execute("DELETE FROM cells")  # noqa: S608 - a test's own table
    warehouse.insert_rows(con, "cells", rows)
    return rows_digest(con, warehouse.sql("outputs/digests", "cells"), PERIOD)


def test_the_cells_checksum_follows_the_rows_not_their_order(con) -> None:
    first = _cells(con, CELLS)
    assert first[0] == 3
    assert _cells(con, list(reversed(CELLS))) == first
    # The two schools' figures swapped: the same numbers in the column, other cells.
    swapped = [CELLS[0][:8] + (7, "2024"), CELLS[1][:8] + (12, "2024"), CELLS[2]]
    assert _cells(con, swapped) != first
    assert _cells(con, CELLS[:2]) != first  # a cell gone
    # Another province's school (not in units) is not this run's.
    other = ("2024-2025", "DN", "tt24", "F", "school", "Z", 5, "T", 4, "2024")
    assert _cells(con, [*CELLS, other]) == first


def test_a_file_is_fresh_only_for_the_inputs_it_was_written_from(con, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = out / "cells.csv"
    done = Outputs(con, out)
    assert not done.fresh("cells.csv", digest("v1"), path)  # never written
    path.write_text("x", encoding="utf-8")
    done.written("cells.csv", digest("v1"))
    done.save()
    again = Outputs(con, out)
    assert again.fresh("cells.csv", digest("v1"), path)
    assert not Outputs(con, out).fresh("cells.csv", digest("v2"), path)  # other inputs
    # … and its digest is forgotten before it is rewritten (a run killed meanwhile redoes it).
    assert not Outputs(con, out).fresh("cells.csv", digest("v1"), path)
    done = Outputs(con, out)
    done.written("cells.csv", digest("v1"))
    done.save()
    path.unlink()
    assert not Outputs(con, out).fresh("cells.csv", digest("v1"), path)  # the file is gone
    path.write_text("x", encoding="utf-8")
    assert not Outputs(con, out, full=True).fresh("cells.csv", digest("v1"), path)  # a full run


def _period_files(con, out: Path, full: bool = False) -> None:
    from types import SimpleNamespace

    from pipelines import catalog
    from pipelines.outputs.export import write_period_tables

    s = SimpleNamespace(school_year="2024-2025", period="DN", boundaries="2024", out=out, full=full)
    write_period_tables(con, s, catalog.forms_for("tt24", "DN"), "code-v1")  # type: ignore[arg-type]


def test_a_changed_figure_rewrites_the_cells_files_but_not_the_sdmx_structure(con, tmp_path: Path) -> None:
    # 02-TH-DN row 37 (pupils), column T.all: school A 312, school B 150, their Phòng 462.
    rows = [("2024-2025", "DN", "tt24", "02-TH-DN", lv, unit, 37, "T.all", v, "2024")
            for lv, unit, v in (("school", "A", 312), ("school", "B", 150), ("phong", "P", 462))]  # fmt: skip
    warehouse.insert_rows(con, "cells", rows)
    out = tmp_path / "out"
    out.mkdir()
    _period_files(con, out)
    structure, sdmx_cells = out / "sdmx" / "structure.xml", out / "sdmx" / "cells.sdmx.csv"
    assert "Trường A" in structure.read_text(encoding="utf-8")
    structure.write_text(structure.read_text(encoding="utf-8") + "<!-- kept -->", encoding="utf-8")

    # School A resubmits: 313 pupils, the Phòng 463.
    con.execute("DELETE FROM cells")  # noqa: S608 - a test's own table
    warehouse.insert_rows(con, "cells", [rows[0][:8] + (313, "2024"), rows[1], rows[2][:8] + (463, "2024")])
    _period_files(con, out)
    lines = (out / "cells.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1:] == ["2024-2025,DN,tt24,02-TH-DN,school,A,37,T.all,313,2024",
                         "2024-2025,DN,tt24,02-TH-DN,school,B,37,T.all,150,2024",
                         "2024-2025,DN,tt24,02-TH-DN,phong,P,37,T.all,463,2024"]  # fmt: skip
    observations = [line.split(",")[12] for line in sdmx_cells.read_text(encoding="utf-8").splitlines()[1:]]
    assert observations == ["313", "150", "463"]  # school A, school B, then the Phòng
    assert structure.read_text(encoding="utf-8").endswith("<!-- kept -->")  # the code lists did not change

    # A unit renamed: its code list changes, the structure is written again.
    con.execute("UPDATE units SET name_vi = 'Trường Tiểu học A' WHERE unit_code = 'A'")  # noqa: S608
    _period_files(con, out)
    text = structure.read_text(encoding="utf-8")
    assert not text.endswith("<!-- kept -->")
    assert "Trường Tiểu học A" in text
