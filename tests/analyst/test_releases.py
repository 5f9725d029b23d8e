"""Releases, the writer lock and runs killed mid-way (issue 6).

A hand-made province: Sở 66 with Phòng 643 (school A) and Phòng 644 (schools B and C). Every pupil
is alike (grade 1, girl, Kinh, born 1/3/2018), so each pupil cell of a school holds its number of
pupils. Release r1: A has 3 pupils, B 2, C sends nothing. Then A resubmits with 4 pupils, B sends
the same file again and C sends 1 pupil; release r2. By hand, r1 → r2: every pupil cell of A goes
3 → 4 and so does Phòng 643's; C's cells appear (0 → 1) and Phòng 644's grow by them (2 → 3);
the Sở's grow by both (5 → 7); B's cells do not change; A changed its submission, C was added.

The second run is started twice at once (one is refused: one writer at a time), the one that runs
is killed with SIGKILL while it aggregates (inside its transaction), then run again.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import pipelines
from pipelines import cli, settings, warehouse
from pipelines import run as pipeline
from pipelines.analyst import diff as release_diff
from pipelines.analyst import releases as release
from pipelines.analyst import views
from pipelines.catalog import views as catalog_views
from tests.conftest import klass, payload, pupil, school_info, write_inbox, write_registry

ROOT = Path(pipelines.__file__).resolve().parent.parent
KEY = "release-test-key"
YEAR = "2024-2025"
A, B, C = "66643001", "66644001", "66644002"
PUPILS = (37, "T.all")  # 02-TH-DN "Tổng quy mô", all pupils
CELL_KEY = "form, level, unit_code, row_code, col_key, value, boundaries, regime"


def _row(code: str, phong: str) -> dict:
    return {"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường {code}", "CAP_HOC": "1", "TRANG_THAI": 1,
            "ID_SO": "66", "ID_PHONG": phong}  # fmt: skip


def _school(code: str, n: int) -> dict:
    learners = [pupil(f"{code}-{i}", f"{code}-L", 1, 2, "01", "2018-03-01") for i in range(n)]
    return payload(code, school_info(code), [klass(f"{code}-L", 1)], learners)


def _file(code: str) -> str:
    return f"{code}_2024_1.json"


def _run_args(inbox: Path, wh: Path, out: Path) -> list[str]:
    """`edustat run` of one inbox (the registry beside it)."""
    return ["run", "--school-year", YEAR, "--period", "DN", "--registry", str(inbox.parent / "registry.xlsx"),
            "--inbox", str(inbox), "--warehouse", str(wh), "--out", str(out), "--processes", "1"]  # fmt: skip


def _cells(path: Path) -> set[tuple]:
    """The period's cells of a warehouse or a release."""
    con = release.connect(path) if path.is_dir() else duckdb.connect(str(path), read_only=True)
    try:
        return set(con.execute(f"SELECT {CELL_KEY} FROM cells WHERE school_year = ? AND period = 'DN'",
                               [YEAR]).fetchall())  # fmt: skip
    finally:
        con.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """Run 1 (A 3 pupils, B 2) into the warehouse and release it as r1; inbox 2 ready beside it."""
    root = tmp_path_factory.mktemp("release")
    write_registry(root / "registry.xlsx", [_row(A, "643"), _row(B, "644"), _row(C, "644")])
    inbox1 = write_inbox(root / "inbox1", {_file(A): _school(A, 3), _file(B): _school(B, 2)})
    inbox2 = write_inbox(
        root / "inbox2", {_file(A): _school(A, 4), _file(B): _school(B, 2), _file(C): _school(C, 1)}
    )
    wh = root / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.KEY_ENV, KEY)
        mp.setenv(settings.DATA_ENV, str(root))  # the default releases folder: root/releases
        assert cli.main(_run_args(inbox1, wh, root / "out1")) == 0
        assert cli.main(["release", "--school-year", YEAR, "--period", "DN", "--warehouse", str(wh),
                         "--name", "r1"]) == 0  # fmt: skip
    return {"root": root, "wh": wh, "inbox1": inbox1, "inbox2": inbox2, "r1": root / "releases" / "r1"}


@pytest.fixture(autouse=True)
def _releases_in_the_test_folder(province, monkeypatch):
    """The default releases folder (settings.paths()) is the test's, never the checkout's data/."""
    monkeypatch.setenv(settings.DATA_ENV, str(province["root"]))


# --- the release ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_release_holds_the_period_read_only_with_its_manifest(province):
    r1, wh = province["r1"], province["wh"]
    assert sorted(p.name for p in r1.iterdir()) == ["cells.parquet", "indicators.parquet", "manifest.json",
                                                    "release.duckdb"]  # fmt: skip
    for path in r1.iterdir():  # read-only on disk
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    manifest = release.read_manifest(r1)
    assert (manifest["name"], manifest["school_year"], manifest["period"]) == ("r1", YEAR, "DN")
    # Inputs: the hashes of the files of the period's last run, as read from the inbox.
    assert {(f["file"], f["file_hash"]) for f in manifest["inputs"]["files"]} == {
        (_file(c), _sha256(province["inbox1"] / _file(c))) for c in (A, B)
    }
    # Catalogue, hierarchy and code versions.
    assert manifest["catalogue"]["forms"] == warehouse.tree_hash(release.SCHEMAS / "forms")
    assert manifest["catalogue"]["rules"] == warehouse.tree_hash(release.SCHEMAS / "sources")
    assert manifest["catalogue"]["regimes"] == ["tt24"]
    assert manifest["hierarchy"]["boundaries"] == ["2024"]
    assert manifest["hierarchy"]["sha256"] == warehouse.tree_hash(release.SCHEMAS / "hierarchy")["sha256"]
    assert manifest["code"]["version"] in (
        manifest["code"]["git_commit"],
        manifest["code"]["package_version"],
    )
    assert manifest["created_at"] and manifest["source"]["run_id"]
    for name, digest in manifest["outputs"].items():
        assert _sha256(r1 / name) == digest
    # The DuckDB file: the tables analysts need, read-only, the same cells as the warehouse and the Parquet.
    con = release.connect(r1)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        # The contract views (tests/test_views.py) and the tables they read come with the period's tables.
        assert tables == {
            "cells",
            "indicators",
            "units",
            "unit_tree",
            "validation_summary",
            "files",
            "release",
            *release.VIEW_TABLES,
            *views.CATALOGUE_TABLES,
            *(name for name, _ in catalog_views.support_tables()),
            views.DICTIONARY_TABLE,
        }
        for table, n in manifest["row_counts"].items():
            assert warehouse.scalar(con, f"SELECT count(*) FROM {table}") == n, table
        assert ("2024", "school", A, f"Trường {A}", "phong", "643") in con.execute(
            "SELECT * FROM units"
        ).fetchall()
        parquet = set(
            con.execute(f"SELECT {CELL_KEY} FROM read_parquet(?)", [str(r1 / "cells.parquet")]).fetchall()
        )
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM cells")
    finally:
        con.close()
    assert _cells(r1) == parquet == _cells(wh)
    assert (A, "02-TH-DN", "school", 3) in {
        (u, f, lv, v) for f, lv, u, r, c, v, *_ in _cells(r1) if (r, c) == PUPILS
    }


@pytest.mark.slow
def test_a_release_is_never_overwritten(province, capsys):
    r1 = province["r1"]
    before = {p.name: _sha256(p) for p in r1.iterdir()}
    code = cli.main(["release", "--school-year", YEAR, "--period", "DN", "--warehouse", str(province["wh"]),
                     "--name", "r1", "--releases", str(r1.parent)])  # fmt: skip
    assert code == 1
    assert "never overwritten" in capsys.readouterr().err
    assert {p.name: _sha256(p) for p in r1.iterdir()} == before
    assert [p.name for p in r1.parent.iterdir()] == ["r1"]  # no partial folder left behind
    with pytest.raises(ValueError):
        release.create_release(YEAR, "DN", province["wh"], name="../escape")


@pytest.mark.slow
def test_a_releases_folder_with_an_apostrophe_holds_the_same_release(province, tmp_path):
    """The releases folder is never pasted into SQL (ATTACH, the Parquet files, diff's read_parquet)."""
    folder = release.create_release(YEAR, "DN", province["wh"], name="r1", releases=tmp_path / "it's")
    assert folder == (tmp_path / "it's" / "r1").resolve()
    for name in (release.CELLS_PARQUET, release.INDICATORS_PARQUET):
        assert (folder / name).read_bytes() == (province["r1"] / name).read_bytes()
    d = release_diff.diff(province["r1"], folder)
    assert (d.cells, d.schools) == ([], [])


# --- two runs at once, a run killed mid-aggregation, the next run -------------------------------


def _start_run(province: dict, log: Path) -> subprocess.Popen:
    """`edustat run` of inbox 2 in a subprocess that pauses in aggregation after 02-TH-DN."""
    env = {**os.environ, settings.KEY_ENV: KEY, pipeline.PAUSE_ENV: "02-TH-DN", pipeline.PAUSE_SECONDS_ENV: "600",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    args = [
        sys.executable,
        "-m",
        "pipelines",
        *_run_args(province["inbox2"], province["wh"], province["root"] / "out2"),
    ]
    with log.open("w") as err:  # the child has its own copy of the file
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)


@pytest.fixture(scope="module")
def killed(province):
    """Two runs of inbox 2 started at once; the one that gets the warehouse is SIGKILLed while
    paused inside its aggregation transaction."""
    root = province["root"]
    logs = [root / "run-a.log", root / "run-b.log"]
    runs = [_start_run(province, log) for log in logs]
    seen: dict[str, object] = {}
    try:
        deadline = time.monotonic() + 300
        while True:
            paused = [i for i, log in enumerate(logs) if "aggregate: paused after" in log.read_text()]
            ended = [i for i, run in enumerate(runs) if run.poll() is not None]
            if paused and ended:
                break
            if len(ended) == 2 or time.monotonic() > deadline:
                pytest.fail("\n---\n".join(log.read_text() for log in logs))
            time.sleep(0.5)
        (winner,), (loser,) = paused, ended
        seen["loser"] = (runs[loser].returncode, logs[loser].read_text())
        seen["holder"] = warehouse.read_lock(province["wh"])
        seen["winner_pid"] = runs[winner].pid
        # Analysts query the release while the run writes the warehouse; a release now is refused.
        con = release.connect(province["r1"])
        try:
            seen["r1_while_writing"] = set(con.execute(f"SELECT {CELL_KEY} FROM cells").fetchall())
        finally:
            con.close()
        seen["release_while_writing"] = cli.main(["release", "--school-year", YEAR, "--warehouse",
                                                  str(province["wh"]), "--name", "during",
                                                  "--releases", str(root / "releases")])  # fmt: skip
        runs[winner].send_signal(signal.SIGKILL)
        runs[winner].wait(30)
        seen["winner_rc"] = runs[winner].returncode
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    return seen


@pytest.mark.slow
def test_two_runs_started_at_once_one_is_refused(province, killed):
    code, err = killed["loser"]
    assert code == 1
    assert (
        "kho dữ liệu đang được một lượt chạy khác ghi" in err and "the warehouse is being written by" in err
    )
    assert killed["holder"]["pid"] == killed["winner_pid"]
    assert killed["release_while_writing"] == 1  # freezing waits for the run too


@pytest.mark.slow
def test_analysts_read_a_release_while_a_run_writes(province, killed):
    assert killed["r1_while_writing"] == _cells(province["r1"]) != set()


@pytest.mark.slow
def test_a_run_killed_mid_aggregation_leaves_warehouse_and_release_intact(province, killed):
    assert killed["winner_rc"] == -signal.SIGKILL
    # The killed run's lock stays behind (its pid is dead: the next run takes it over).
    assert warehouse.read_lock(province["wh"])["pid"] == killed["winner_pid"]
    # Its aggregation never committed: the warehouse still has run 1's cells (the first form it
    # replaced, 02-TH-DN, included), and no trace of the run in aggregate_runs.
    assert _cells(province["wh"]) == _cells(province["r1"])
    con = duckdb.connect(str(province["wh"]), read_only=True)
    try:
        runs = {r[0] for r in con.execute("SELECT run_id FROM aggregate_runs").fetchall()}
    finally:
        con.close()
    assert killed["holder"]["run_id"] not in runs and len(runs) == 1
    # The release is untouched.
    manifest = release.read_manifest(province["r1"])
    assert {name: _sha256(province["r1"] / name) for name in manifest["outputs"]} == manifest["outputs"]


@pytest.fixture(scope="module")
def rerun(province, killed):
    """The next run after the kill, release r2; and a clean run of inbox 2 into a fresh warehouse."""
    root, wh = province["root"], province["wh"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.KEY_ENV, KEY)
        mp.setenv(settings.DATA_ENV, str(root))  # the default releases folder: root/releases
        code = cli.main(_run_args(province["inbox2"], wh, root / "out2"))
        assert cli.main(["release", "--school-year", YEAR, "--warehouse", str(wh), "--name", "r2"]) == 0
        clean = root / "clean.duckdb"
        assert cli.main(_run_args(province["inbox2"], clean, root / "out-clean")) == 0
    return {"code": code, "clean": clean, "r2": root / "releases" / "r2"}


@pytest.mark.slow
def test_the_next_run_completes_and_equals_a_clean_run(province, rerun):
    assert rerun["code"] == 0
    assert not warehouse.lock_path(province["wh"]).exists()
    assert _cells(province["wh"]) == _cells(rerun["clean"]) == _cells(rerun["r2"])
    for table in ("indicators", "school_history", "school_grade_history"):
        rows = []
        for path in (province["wh"], rerun["clean"]):
            with duckdb.connect(str(path), read_only=True) as con:
                rows.append(con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall())
        assert rows[0] == rows[1] != [], table


@pytest.mark.slow
def test_diff_between_two_releases_worked_out_by_hand(province, rerun, tmp_path, capsys):
    r1, r2 = province["r1"], rerun["r2"]
    d = release_diff.diff(r1, r2)
    # Schools: A sent another file, C a first one; B the same bytes again.
    assert d.schools == [
        (A, "changed", _file(A), _file(A), _sha256(province["inbox1"] / _file(A)), _sha256(province["inbox2"] / _file(A))),
        (C, "added", "", _file(C), "", _sha256(province["inbox2"] / _file(C))),
    ]  # fmt: skip
    by_unit: dict[str, dict[tuple, tuple[int, int]]] = {}
    for form, _level, unit, row, col, a, b, boundaries in d.cells:
        assert (form, boundaries) == ("02-TH-DN", "2024")
        by_unit.setdefault(unit, {})[(row, col)] = (a, b)
    assert set(by_unit) == {A, C, "643", "644", "66"}  # B's cells did not change
    old = {(u, r, c): v for _f, _lv, u, r, c, v, *_ in _cells(r1)}
    new = {(u, r, c): v for _f, _lv, u, r, c, v, *_ in _cells(r2)}
    # A: every pupil cell (3 in r1) becomes 4; nothing else of A changes.
    assert set(by_unit[A].values()) == {(3, 4)}
    assert set(by_unit[A]) == {(r, c) for (u, r, c), v in old.items() if u == A and v == 3}
    # C: every cell of C is new.
    assert by_unit[C] == {(r, c): (0, v) for (u, r, c), v in new.items() if u == C}
    # Phòng 643 is A; Phòng 644 is B (unchanged) plus C; the Sở is both Phòng.
    assert by_unit["643"] == by_unit[A]
    assert by_unit["644"] == {
        k: (old.get(("644", *k), 0), old.get(("644", *k), 0) + v) for k, (_, v) in by_unit[C].items()
    }
    for k in by_unit["66"].keys() | by_unit["644"].keys() | by_unit["643"].keys():
        a, b = by_unit["66"].get(k, (old.get(("66", *k), 0),) * 2)
        growth = sum(by_unit[u].get(k, (0, 0))[1] - by_unit[u].get(k, (0, 0))[0] for u in ("643", "644"))
        assert b - a == growth, k
    # The total of pupils, by hand.
    assert {u: by_unit[u][PUPILS] for u in by_unit} == {
        A: (3, 4),
        C: (0, 1),
        "643": (3, 4),
        "644": (2, 3),
        "66": (5, 7),
    }
    # The command: a table on stdout, and the CSVs.
    out = tmp_path / "diff.csv"
    assert (
        cli.main(["diff", "r1", "r2", "--releases", str(r1.parent), "--out", str(out), "--limit", "3"]) == 0
    )
    printed = capsys.readouterr().out
    lines = [line.split() for line in printed.splitlines()]
    assert list(release_diff.DIFF_COLUMNS) in lines and list(release_diff.SCHOOL_COLUMNS) in lines
    assert [C, "added", _file(C), _sha256(province["inbox2"] / _file(C))[:12]] in lines
    assert f"changed cells: {len(d.cells)}" in printed and "more rows" in printed
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(d.cells) + 1
    assert len((tmp_path / "diff_schools.csv").read_text(encoding="utf-8").splitlines()) == 3
    assert cli.main(["diff", "r1", "nowhere", "--releases", str(r1.parent)]) == 2
