"""A re-run after one school resubmits redoes only what changed, and ends where a full run ends.

The province: 8 generated schools with injected defects. Day 1 every school submits; day 2 school A
sends a new version (a pupil's sex changed, a pupil dropped, and a pupil code that another school
B also has enrolled), and school C re-uploads an identical copy. The re-run on the day-1 warehouse
is compared with a full run, on a fresh warehouse, of the same current files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipelines import run as pipeline
from pipelines import settings, warehouse
from pipelines.outputs import workbook
from pipelines.synthetic import province as generate

pytestmark = pytest.mark.slow

KEY = "rerun-test-key"


def _run(
    inbox: Path, gen: generate.GenerateSummary, root: Path, name: str, wh: str, **kw
) -> pipeline.RunSummary:
    s = settings.resolve("2024-2025", "DN", gen.registry, inbox, root / wh, root / f"out-{wh}", run_id=name,
                         processes=1, **kw)  # fmt: skip
    return pipeline.run_period(s)


def _enrolled_codes(payload: dict) -> list[str]:
    return [
        p["MaHocSinh"] for p in payload["LstHocSinh"] if str(p.get("TrangThai")) == "1" and p.get("MaHocSinh")
    ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerun")
    gen = generate.generate_province("66", "2024-2025", "DN", 8, 5, root / "gen", defect_rate=0.2)
    mp = pytest.MonkeyPatch()
    mp.setenv(settings.KEY_ENV, KEY)
    inbox = root / "inbox"
    shutil.copytree(gen.inbox, inbox)
    day1 = os.stat(next(inbox.glob("*.json"))).st_mtime
    first = _run(inbox, gen, root, "day-1", "w.duckdb")

    files = sorted(inbox.glob("*.json"))
    a_path, b_path, c_path = files[0], files[1], files[2]
    a = json.loads(a_path.read_text(encoding="utf-8"))
    b = json.loads(b_path.read_text(encoding="utf-8"))
    pupils = a["LstHocSinh"]
    pupils[0]["GioiTinh"] = 0 if str(pupils[0]["GioiTinh"]) == "1" else 1
    del pupils[1]
    pupils[2]["MaHocSinh"] = _enrolled_codes(b)[0]  # now enrolled in A and in B
    a_path.write_text(json.dumps(a, ensure_ascii=False), encoding="utf-8")
    os.utime(a_path, (day1 + 86400, day1 + 86400))
    c_copy = inbox / ("copy_" + c_path.name)
    shutil.copy(c_path, c_copy)
    os.utime(c_copy, (day1 + 86400, day1 + 86400))
    second = _run(inbox, gen, root, "day-2", "w.duckdb")

    final = root / "inbox-final"  # the current version of every school, nothing else
    shutil.copytree(inbox, final)
    (final / c_copy.name).unlink()
    full = _run(final, gen, root, "full", "fresh.duckdb")
    mp.undo()
    return root, first, second, full, a_path.name.split("_")[0], b_path.name.split("_")[0]


def _rows(root: Path, wh: str, sql: str) -> list[tuple]:
    with warehouse.connect(root / wh) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def test_the_rerun_reads_one_file_and_checks_one_school(runs):
    _, first, second, _, _, _ = runs
    assert first.fact("files_parsed") == 8
    # A's new version, and C's two identical files (ordered by their own time stamp, ThoiGianDongBo,
    # which the hash of a file loaded before does not give); the other five are known by their hash.
    assert second.fact("files_parsed") == 3
    assert second.fact("schools_changed") == 1
    assert first.fact("schools_checked") is None  # the first run checks everything
    assert second.fact("schools_checked") == 1
    # B's new warning (enrolled in two schools) quarantines nothing: only A's rows are rebuilt.
    assert first.fact("schools_rebuilt") is None
    assert second.fact("schools_rebuilt") == 1


def test_the_rerun_gives_the_cells_and_indicators_of_a_full_run(runs):
    root = runs[0]
    cells = "SELECT form, level, unit_code, row_code, col_key, value FROM cells"
    assert _rows(root, "w.duckdb", cells) == _rows(root, "fresh.duckdb", cells)
    indicators = (
        "SELECT form, level, unit_code, indicator_id, boundaries, numerator, denominator FROM indicators"
    )
    assert _rows(root, "w.duckdb", indicators) == _rows(root, "fresh.duckdb", indicators)


def test_the_rerun_finds_the_problems_of_a_full_run_and_carries_the_others_over(runs):
    root, _, _, _, school_a, school_b = runs
    problems = ("SELECT rule_id, severity, entity, school_code, file, record_index, field, value "
                "FROM validation_results WHERE run_id = '{}'")  # fmt: skip
    rerun = _rows(root, "w.duckdb", problems.format("day-2"))
    assert rerun == _rows(root, "fresh.duckdb", problems.format("full"))
    # The province-scoped rule flags the unchanged school B too (its row was not checked for the
    # school-scoped rules, but is for this one).
    two_schools = {r[3] for r in rerun if r[0] == "learner.enrolled_in_two_schools"}
    assert {school_a, school_b} <= two_schools
    quarantine = (
        "SELECT entity, school_code, file, record_index, rule_ids FROM quarantine WHERE run_id = '{}'"
    )
    assert _rows(root, "w.duckdb", quarantine.format("day-2")) == _rows(
        root, "fresh.duckdb", quarantine.format("full")
    )


def test_the_rerun_rewrites_only_changed_workbooks_and_they_equal_a_full_runs(runs):
    root, first, second, full, school_a, _ = runs
    assert second.fact("workbooks") == first.fact("workbooks") == full.fact("workbooks")
    written = second.fact("workbooks_written")
    # A's own workbooks, its Phòng's and the Sở's (new cells or problems), not the whole province.
    assert 0 < written < first.fact("workbooks") / 2
    ours, theirs = root / "out-w.duckdb" / "forms", root / "out-fresh.duckdb" / "forms"
    books = sorted(p.relative_to(ours) for p in ours.rglob("*.xlsx"))
    assert books == sorted(p.relative_to(theirs) for p in theirs.rglob("*.xlsx"))
    assert any(school_a in str(b) for b in books)
    for book in books:
        assert workbook.dump_workbook(ours / book) == workbook.dump_workbook(theirs / book), book


def test_the_reruns_tables_error_reports_and_sdmx_files_equal_a_full_runs(runs):
    root = runs[0]
    ours, theirs = root / "out-w.duckdb", root / "out-fresh.duckdb"
    names = ["cells.csv", "indicators.csv", "problems.csv", "sdmx/cells.sdmx.csv", "sdmx/indicators.sdmx.csv"]
    names += sorted(str(p.relative_to(theirs)) for p in (theirs / "errors").rglob("*.csv"))
    assert any(n.startswith("errors/") for n in names)  # the defects give some schools an error list
    assert sorted(str(p.relative_to(ours)) for p in (ours / "errors").rglob("*.csv")) == sorted(
        n for n in names if n.startswith("errors/")
    )
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def test_a_full_rerun_redoes_everything(runs, tmp_path, monkeypatch):
    root = runs[0]
    monkeypatch.setenv(settings.KEY_ENV, KEY)
    shutil.copy(root / "w.duckdb", tmp_path / "w.duckdb")
    s = settings.resolve("2024-2025", "DN", root / "gen" / "registry.xlsx", root / "inbox", tmp_path / "w.duckdb",
                         tmp_path / "out", run_id="full-again", processes=1, full=True)  # fmt: skip
    again = pipeline.run_period(s)
    assert again.fact("files_parsed") == 9  # every file of the inbox, C's copy included
    assert again.fact("schools_checked") is None
    assert again.fact("workbooks_written") == again.fact("workbooks")
