"""A re-run after one school resubmits redoes only the units that school touches, and ends where a
full run of the same files ends: cells, indicators, relation problems and school counts.

Three primary schools of Sở 66: A (66643001) and C (66643002) in Phòng 643, B (66644001) in Phòng 644.
(Consistent files break no relation: the carrying over of an untouched unit's relation problems is
checked on hand-made cells, in the last tests.)

Day 1 all three submit. Day 2 A sends a new version: pupil a2 (boy, Tày) dropped, pupil a1 now a boy.
Pupils counted on 30/9/2024 (row 37, columns all / female / ethnic / ethnic female):
  A day 1: a1 girl Kinh, a2 boy Tày, a3 girl Tày, a4 boy Kinh  → 4, 2, 2, 1 (public: CL)
  A day 2: a1 boy Kinh, a3 girl Tày, a4 boy Kinh               → 3, 1, 1, 1 (CL)
  C:       c1 girl Kinh, c2 boy Tày                            → 2, 1, 1, 0 (CL)
  B:       b1 girl Kinh, b2 boy Kinh, b3 girl Chăm             → 3, 2, 1, 1 (private: TT)
so on day 2 Phòng 643 = A + C = 5, 2, 2, 1 (CL), Phòng 644 = B, and the Sở = CL 5, 2, 2, 1 + TT 3, 2, 1, 1.
Classes: A 2, C 1, B 1, so the Sở's pupils per class (indicator 2106.2) is 8 / 4 = 2.0 on day 2.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from pipelines import run as pipeline
from pipelines import settings, warehouse
from tests.conftest import klass, payload, pupil, school_info, staff_member, write_inbox, write_registry

A, C, B = "66643001", "66643002", "66644001"
KEY = "rerun-test-key-not-secret"


def _school_a(day: int) -> dict:
    pupils = [
        pupil("a1", "1A", 1, 2 if day == 1 else 1, "01", "2018-03-01"),
        pupil("a2", "1A", 1, 1, "02", "2017-05-02"),
        pupil("a3", "3A", 3, 2, "02", "2016-01-20"),
        pupil("a4", "3A", 3, 1, "01", "2016-07-07"),
    ]
    if day == 2:
        del pupils[1]
    return payload(A, school_info(A), [klass("1A", 1), klass("3A", 3)], pupils)


def _run(registry, inbox, wh, name: str) -> dict:
    """Prepare, ingest, validate and aggregate (no export); the aggregate step's facts."""
    s = settings.resolve("2024-2025", "DN", registry, inbox, wh, wh.parent / f"out-{name}", run_id=name,
                         processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step):
        step(s)
    return pipeline.aggregate_step(s).facts


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun_units")
    registry = write_registry(root / "registry.xlsx", [
        {"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường TH {code}", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": phong, "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": int(phong)}
        for code, phong in ((A, "643"), (C, "643"), (B, "644"))
    ])  # fmt: skip
    school_c = payload(
        C,
        school_info(C),
        [klass("2A", 2)],
        [pupil("c1", "2A", 2, 2, "01", "2017-02-02"), pupil("c2", "2A", 2, 1, "02", "2017-04-04")],
        [staff_member("sc1", "03", None, "04", "16", 2, "1990-01-01")],
    )
    school_b = payload(
        B,
        school_info(B, LoaiHinhDaoTao="09", MaVung="04"),
        [klass("5A", 5)],
        [pupil("b1", "5A", 5, 2, "01", "2014-04-04"), pupil("b2", "5A", 5, 1, "01", "2012-12-12"),
         pupil("b3", "5A", 5, 2, "17", "2014-09-09")],
    )  # fmt: skip
    inbox = write_inbox(
        root / "inbox", {f"{A}.json": _school_a(1), f"{C}.json": school_c, f"{B}.json": school_b}
    )
    mp = pytest.MonkeyPatch()
    mp.setenv(settings.KEY_ENV, KEY)
    try:
        wh = root / "w.duckdb"
        day1 = _run(registry, inbox, wh, "day-1")
        with warehouse.connect(wh) as con:
            day1_cells = _cells(con)
        (inbox / f"{A}.json").write_text(json.dumps(_school_a(2), ensure_ascii=False), encoding="utf-8")
        day2 = _run(registry, inbox, wh, "day-2")
        shutil.copytree(inbox, root / "inbox-full")
        full = _run(registry, root / "inbox-full", root / "fresh.duckdb", "full")
    finally:
        mp.undo()
    return {"wh": wh, "fresh": root / "fresh.duckdb", "day1": day1, "day2": day2, "full": full,
            "day1_cells": day1_cells}  # fmt: skip


def _cells(con) -> dict[tuple, int]:
    rows = con.execute("SELECT form, level, unit_code, row_code, col_key, value FROM cells").fetchall()
    return {tuple(r[:5]): r[5] for r in rows}


def _table(path, sql: str) -> list[tuple]:
    with warehouse.connect(path) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def test_the_rerun_rebuilds_one_school_and_redoes_only_its_units(runs):
    assert runs["day1"]["units_touched_only"] is False  # the first run: every unit
    facts = runs["day2"]
    assert facts["schools_rebuilt"] == 1
    assert facts["units_touched_only"] is True


def test_the_rerun_sums_the_phong_and_so_by_hand(runs):
    with warehouse.connect(runs["wh"]) as con:
        cells = _cells(con)

    def row37(level, unit):
        return {col: v for (form, lv, u, row, col), v in cells.items()
                if (form, lv, u, row) == ("02-TH-DN", level, unit, 37) and v}  # fmt: skip

    cl = {"CL.all": 5, "CL.female": 2, "CL.ethnic": 2, "CL.ethnic_female": 1}
    total = {"T.all": 5, "T.female": 2, "T.ethnic": 2, "T.ethnic_female": 1}
    assert row37("school", A) == {"CL.all": 3, "CL.female": 1, "CL.ethnic": 1, "CL.ethnic_female": 1,
                                  "T.all": 3, "T.female": 1, "T.ethnic": 1, "T.ethnic_female": 1}  # fmt: skip
    assert row37("phong", "643") == {**cl, **total}
    tt = {"TT.all": 3, "TT.female": 2, "TT.ethnic": 1, "TT.ethnic_female": 1}
    assert row37("phong", "644") == {**tt, "T.all": 3, "T.female": 2, "T.ethnic": 1, "T.ethnic_female": 1}
    assert row37("so", "66") == {**cl, **tt, "T.all": 8, "T.female": 4, "T.ethnic": 3, "T.ethnic_female": 2}
    indicators = _table(runs["wh"], "SELECT numerator, denominator, value FROM indicators WHERE level = 'so' "
                        "AND unit_code = '66' AND indicator_id = '2106.2' AND boundaries = '2024'")  # fmt: skip
    assert indicators == [(8, 4, 2.0)]


def test_the_untouched_schools_cells_stay_as_they_were(runs):
    with warehouse.connect(runs["wh"]) as con:
        now = _cells(con)
    for school in (B, C):
        before = {k: v for k, v in runs["day1_cells"].items() if k[1:3] == ("school", school)}
        assert before, school
        assert {k: v for k, v in now.items() if k[1:3] == ("school", school)} == before
    assert now[("02-TH-DN", "phong", "644", 37, "T.all")] == 3
    assert runs["day1_cells"][("02-TH-DN", "phong", "643", 37, "T.all")] == 6  # day 1: A's 4 + C's 2


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT form, level, unit_code, row_code, col_key, value, boundaries FROM cells",
        "SELECT * EXCLUDE (name_vi, name_en) FROM indicators",
        "SELECT * EXCLUDE (run_id) FROM school_count_check",
    ],
    ids=["cells", "indicators", "school_counts"],
)
def test_the_rerun_ends_where_a_full_run_ends(runs, sql):
    assert _table(runs["wh"], sql) == _table(runs["fresh"], sql)


def test_the_rerun_finds_the_relation_problems_of_a_full_run(runs):
    sql = "SELECT * EXCLUDE (run_id) FROM relation_violations WHERE run_id = '{}'"
    assert _table(runs["wh"], sql.format("day-2")) == _table(runs["fresh"], sql.format("full"))


def test_a_rerun_carries_the_untouched_units_relation_problems_over(tmp_path):
    """02-TH-ĐN r1 = r2 + r5 (schools = delta + mountain), column T, on hand-made cells of Phòng 643:
    school X has r1 = 1 but no region (broken, 1 vs 0); school Y is fine on the first run (r1 = r2 = 1),
    then loses its region (broken) and is the one school rebuilt; the Phòng (r1 = 2, r2 = 1 then 0)
    is broken both times. The re-run evaluates Y and the Phòng, carries X's problem over from the
    first run, and finds exactly what a full evaluation of the same cells finds."""
    from pipelines import aggregate, catalog

    form = catalog.form("tt24", "02-TH-DN")
    ctx = {
        n: aggregate.RunContext(n, "2024-2025", 2024, "DN", date(2024, 9, 30)) for n in ("one", "two", "full")
    }

    def set_cells(con, cells):
        con.execute("DELETE FROM cells")
        for level, unit, row, value in cells:
            con.execute(
                "INSERT INTO cells (school_year, period, regime, form, level, unit_code, row_code, col_key, value) "
                "VALUES ('2024-2025', 'DN', 'tt24', '02-TH-DN', ?, ?, ?, 'T', ?)",
                [level, unit, row, value],
            )

    def broken(con, run_id):
        return con.execute(
            "SELECT level, unit_code, lhs, rhs FROM relation_violations "
            "WHERE run_id = ? AND relation_id = '02-TH-DN.r1.1' ORDER BY ALL",
            [run_id],
        ).fetchall()

    with warehouse.connect(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO units VALUES ('so', '66', 'Sở', NULL, NULL), ('phong', '643', 'Phòng', 'so', '66'),"
                    " ('school', 'X', 'X', 'phong', '643'), ('school', 'Y', 'Y', 'phong', '643')")  # fmt: skip
        set_cells(con, [("school", "X", 1, 1), ("school", "Y", 1, 1), ("school", "Y", 2, 1),
                        ("phong", "643", 1, 2), ("phong", "643", 2, 1)])  # fmt: skip
        aggregate.check_relations(con, form, ctx["one"])
        assert broken(con, "one") == [("phong", "643", 2, 1), ("school", "X", 1, 0)]
        set_cells(con, [("school", "X", 1, 1), ("school", "Y", 1, 1), ("phong", "643", 1, 2)])
        con.execute(warehouse.sql("aggregate/rerun", "create_touched"), {"schools": ["Y"]})
        touched = con.execute("SELECT level, unit_code FROM _touched ORDER BY ALL").fetchall()
        assert touched == [("bo", "BO"), ("phong", "643"), ("school", "Y"), ("so", "66")]
        aggregate.check_relations(con, form, ctx["two"], since="one")
        assert broken(con, "two") == [("phong", "643", 2, 0), ("school", "X", 1, 0), ("school", "Y", 1, 0)]
        con.execute("DROP TABLE _touched")
        aggregate.check_relations(con, form, ctx["full"])
        every = "SELECT * EXCLUDE (run_id) FROM relation_violations WHERE run_id = ? ORDER BY ALL"
        assert con.execute(every, ["two"]).fetchall() == con.execute(every, ["full"]).fetchall()


def test_the_rerun_owns_every_school_count_row(runs):
    rows = _table(runs["wh"], "SELECT DISTINCT run_id FROM school_count_check")
    assert rows == [("day-2",)]


def test_a_changed_unit_tree_or_population_makes_the_rerun_redo_every_unit(tmp_path):
    """touched_units gives the last run (redo the touched units only) while nothing but school files
    changed, and None (redo every unit) after a school moves to another Phòng or the population
    changes."""
    from pipelines import aggregate, catalog

    forms = catalog.forms_for("tt24", "DN")

    def ctx(run_id):
        return aggregate.RunContext(run_id, "2024-2025", 2024, "DN", date(2024, 9, 30))

    with warehouse.connect(tmp_path / "w.duckdb") as con:
        con.execute("INSERT INTO units VALUES ('so', '66', 'Sở', NULL, NULL), ('phong', '643', 'Phòng', 'so', '66'),"
                    " ('phong', '644', 'Phòng', 'so', '66'), ('school', 'X', 'X', 'phong', '643')")  # fmt: skip
        assert aggregate.touched_units(con, ctx("r1"), None, forms) is None  # every school rebuilt
        assert aggregate.touched_units(con, ctx("r2"), ["X"], forms) == "r1"
        assert con.execute("SELECT * FROM _touched ORDER BY ALL").fetchall() == [
            ("bo", "BO"), ("phong", "643"), ("school", "X"), ("so", "66")
        ]  # fmt: skip
        con.execute("UPDATE units SET parent_code = '644' WHERE unit_code = 'X'")
        assert aggregate.touched_units(con, ctx("r3"), ["X"], forms) is None
        assert aggregate.touched_units(con, ctx("r4"), ["X"], forms) == "r3"
        con.execute("INSERT INTO population VALUES ('so', '66', 2024, 6, '01', 1000)")
        assert aggregate.touched_units(con, ctx("r5"), ["X"], forms) is None


def test_turning_approved_only_on_makes_the_rerun_redo_every_unit(tmp_path):
    """With no school approved, the approved schools are none either way: the flag itself decides."""
    from dataclasses import replace

    from pipelines import aggregate, catalog

    forms = catalog.forms_for("tt24", "DN")
    ctx = aggregate.RunContext("r1", "2024-2025", 2024, "DN", date(2024, 9, 30))
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        con.execute(
            "INSERT INTO units VALUES ('so', '66', 'Sở', NULL, NULL), ('school', 'X', 'X', 'so', '66')"
        )
        aggregate.touched_units(con, ctx, None, forms)
        assert (
            aggregate.touched_units(con, replace(ctx, run_id="r2", approved_only=True), ["X"], forms) is None
        )
