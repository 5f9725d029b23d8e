"""`edustat query`: read-only SQL on a run's warehouse or a release, printed or written out.

A generated province of four schools is run once (the demo's path, at a small size); the figures
the queries print are checked against the run's own cells.csv, read with the csv module.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import openpyxl
import pyarrow.parquet as pq
import pytest

from pipelines import cli, settings, warehouse
from pipelines.analyst import releases as release

pytestmark = pytest.mark.slow

QUERY = ("SELECT unit_code, row_label_vi, col_label_en, value FROM form_cells WHERE form = '02-TH-DN' "
         "AND level = 'so' AND row_code = 37 AND col_key IN ('T.all', 'T.female') ORDER BY col_key")  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("query")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.KEY_ENV, "query-test-key")
        mp.setenv(settings.DATA_ENV, str(root))  # the default warehouse and releases folder
        assert cli.main(["generate", "--province", "66", "--school-year", "2024-2025", "--schools", "4",
                         "--seed", "11", "--out", str(root)]) == 0  # fmt: skip
        assert cli.main(["run", "--school-year", "2024-2025", "--registry", str(root / "registry.xlsx"),
                         "--inbox", str(root / "inbox"), "--warehouse", str(root / "warehouse.duckdb"),
                         "--out", str(root / "output"), "--processes", "1"]) == 0  # fmt: skip
        rel = release.create_release("2024-2025", "DN", root / "warehouse.duckdb", name="final")
    assert rel == root / "releases" / "final"  # the default releases folder of settings.paths()
    with (root / "output" / "cells.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = {
            (r["form"], r["level"], r["unit_code"], int(r["row_code"]), r["col_key"]): int(r["value"])
            for r in csv.DictReader(fh)
        }
    return {"root": root, "wh": root / "warehouse.duckdb", "release": rel, "cells": cells}


def _so(run, col: str) -> int:
    return run["cells"][("02-TH-DN", "so", "66", 37, col)]


def test_query_prints_an_aligned_table_and_the_row_count(run, capsys):
    assert cli.main(["query", QUERY, "--warehouse", str(run["wh"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["unit_code", "row_label_vi", "col_label_en", "value"]
    assert set(lines[1]) == {"-", " "}
    body = lines[2:4]
    assert [line.split()[-1] for line in body] == [str(_so(run, "T.all")), str(_so(run, "T.female"))]
    assert "Tổng quy mô" in body[0] and "Total / Total" in body[0] and "Total / Female" in body[1]
    # Aligned: every column starts at the same position on every line; numbers end together.
    starts = [lines[0].index(h) for h in ("row_label_vi", "col_label_en")]
    for line in body:
        assert [line.index("Tổng quy mô"), line.index("Total /")] == starts
    assert len({len(line) for line in [lines[1], *body]}) == 1
    assert lines[4] == "2 dòng / rows"


def test_printed_rows_are_limited_and_the_total_is_said(run, capsys):
    import duckdb

    with duckdb.connect(str(run["wh"]), read_only=True, config=warehouse.engine_config()) as con:
        total = con.execute("SELECT count(*) FROM learners").fetchall()[0][0]
    assert total > 3
    assert cli.main(["query", "SELECT * FROM learners", "--warehouse", str(run["wh"]), "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 3 + 1
    assert lines[-1].startswith(f"… 3 / {total} dòng / rows")


def test_the_default_is_the_settings_warehouse_and_a_release_works_too(run, capsys, monkeypatch):
    monkeypatch.setenv(settings.DATA_ENV, str(run["root"]))  # settings.paths(): root/warehouse.duckdb
    assert cli.main(["query", QUERY]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[-1] == str(_so(run, "T.all"))
    for ref in (str(run["release"]), str(run["release"] / "release.duckdb"), "final"):  # "final": by name
        assert cli.main(["query", QUERY, "--release", ref]) == 0
        assert capsys.readouterr().out.splitlines()[2].split()[-1] == str(_so(run, "T.all"))
    assert cli.main(["query", "SELECT 1", "--release", str(run["root"] / "no-such-release")]) == 2


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_out_writes_every_row(run, tmp_path, capsys, suffix):
    out = tmp_path / f"cells{suffix}"
    sql = "SELECT form, level, unit_code, row_code, col_key, value FROM form_cells ORDER BY ALL"
    assert cli.main(["query", sql, "--warehouse", str(run["wh"]), "--out", str(out)]) == 0
    assert f"{len(run['cells'])} dòng / rows" in capsys.readouterr().out
    if suffix == ".csv":
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
        with out.open(encoding="utf-8-sig", newline="") as fh:
            rows = [(r[0], r[1], r[2], int(r[3]), r[4], int(r[5])) for r in list(csv.reader(fh))[1:]]
    elif suffix == ".parquet":
        table = pq.read_table(out)
        assert str(table.schema.field("value").type) == "int64"
        rows = list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    else:
        book = openpyxl.load_workbook(out, read_only=True)  # read-only: open until closed
        data = list(book.active.iter_rows(values_only=True))
        book.close()
        assert data[0] == ("form", "level", "unit_code", "row_code", "col_key", "value")
        rows = [tuple(r) for r in data[1:]]
    assert {(f, lv, u, r, c): v for f, lv, u, r, c, v in rows} == run["cells"]


def test_a_write_or_bad_sql_is_refused_with_exit_code_2(run, capsys):
    for sql, said in (("DELETE FROM cells", "read-only"), ("CREATE TABLE t AS SELECT 1", "read-only"),
                      ("SELEC 1", "bad SQL"), ("SELECT * FROM no_such_view", "bad SQL")):  # fmt: skip
        assert cli.main(["query", sql, "--warehouse", str(run["wh"])]) == 2, sql
        err = capsys.readouterr().err
        assert said in err and "Lỗi / error" in err, sql
    assert cli.main(["query", QUERY, "--warehouse", str(run["wh"]), "--out", str(run["root"] / "x.txt")]) == 2
    # Nothing changed.
    assert cli.main(["query", "SELECT count(*) AS n FROM cells", "--warehouse", str(run["wh"])]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == str(len(run["cells"]))


def test_query_runs_while_a_run_holds_the_writer_lock(run, capsys):
    with warehouse.writer_lock(run["wh"], "another-run"):
        assert warehouse.read_lock(run["wh"])["run_id"] == "another-run"
        assert cli.main(["query", QUERY, "--warehouse", str(run["wh"])]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[-1] == str(_so(run, "T.all"))


def test_a_step_writing_the_file_right_now_is_said_with_exit_code_1(run, capsys):
    """DuckDB lets no other process open a file another process has open for writing: the query
    waits (--wait) and then says a run is writing."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
         "time.sleep(60)", str(run["wh"])], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        assert cli.main(["query", QUERY, "--warehouse", str(run["wh"]), "--wait", "0.5"]) == 1
        assert "a run is writing the warehouse" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


# --- the sandbox: nothing read or written but the database and --out -------------------------


@pytest.fixture()
def tiny(tmp_path):
    """A warehouse of one table, a 'secret' CSV beside it, another database to attach."""
    import duckdb

    wh, other = tmp_path / "warehouse.duckdb", tmp_path / "other.duckdb"
    with duckdb.connect(str(wh)) as con:
        con.execute(
            "CREATE TABLE schools AS SELECT * FROM (VALUES ('66001', '=HYPERLINK(\"http://x\")')) t(code, name)"
        )
    duckdb.connect(str(other)).close()
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n", encoding="utf-8")
    return {"wh": wh, "other": other, "secret": secret, "root": tmp_path}


def test_the_sandbox_refuses_files_extensions_and_settings(tiny, capsys):
    wh, root = tiny["wh"], tiny["root"]
    copied = root / "copied.csv"
    attempts = [
        f"COPY schools TO '{copied}'",
        f"COPY (SELECT 1) TO '{copied}' (FORMAT parquet)",
        f"SELECT * FROM read_csv('{tiny['secret']}')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"ATTACH '{tiny['other']}' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET enable_external_access",
        f"EXPORT DATABASE '{root / 'exported'}'",
    ]
    for sql in attempts:
        assert cli.main(["query", sql, "--warehouse", str(wh)]) == 2, sql
        assert "reads the database only" in capsys.readouterr().err, sql
    # A file named as a table is not read either (no replacement scan without external access).
    assert cli.main(["query", f"SELECT * FROM '{tiny['secret']}'", "--warehouse", str(wh)]) == 2
    assert "hunter2" not in capsys.readouterr().out
    assert not copied.exists() and not (root / "exported").exists()
    # The database itself still reads.
    assert cli.main(["query", "SELECT code FROM schools", "--warehouse", str(wh)]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == "66001"


def test_out_is_written_by_edustat_as_text_never_a_formula(tiny):
    wh, root = tiny["wh"], tiny["root"]
    for suffix in (".csv", ".xlsx"):
        out = root / f"schools{suffix}"
        assert (
            cli.main(["query", "SELECT code, name FROM schools", "--warehouse", str(wh), "--out", str(out)])
            == 0
        )
        if suffix == ".csv":
            with out.open(encoding="utf-8-sig", newline="") as fh:
                assert list(csv.reader(fh))[1] == ["66001", '\'=HYPERLINK("http://x")']
        else:
            cell = openpyxl.load_workbook(out).active["B2"]
            assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://x")')
