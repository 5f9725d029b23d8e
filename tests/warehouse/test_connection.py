"""Connections, transactions and bulk inserts."""

from __future__ import annotations

import pytest

from pipelines import warehouse


def test_a_failed_step_leaves_the_warehouse_as_the_last_committed_step_left_it(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        warehouse.insert_rows(con, "units", [("so", "66", "Sở 66", "bo", "BO")])
        with pytest.raises(RuntimeError), warehouse.transaction(con):
            warehouse.insert_rows(con, "units", [("phong", "643", "Phòng 643", "so", "66")])
            with warehouse.transaction(con):  # a nested step joins the outer transaction
                con.execute("DELETE FROM units WHERE level = 'so'")
            raise RuntimeError("killed")
    with warehouse.connect(path) as con:
        assert con.execute("SELECT level, unit_code FROM units").fetchall() == [("so", "66")]


def test_insert_rows_takes_nothing_and_many_rows(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.insert_rows(con, "units", [])
        warehouse.insert_rows(con, "units", [("school", f"S{i}", None, "so", "66") for i in range(1000)])
        assert warehouse.scalar(con, "SELECT count(*) FROM units WHERE parent_code = ?", ["66"]) == 1000
        assert warehouse.scalar(con, "SELECT unit_code FROM units WHERE false") is None


def test_a_second_connection_in_the_process_shares_the_configuration(tmp_path):
    """Great Expectations opens the file through duckdb-engine with its own user agent; DuckDB refuses a
    second connection with another configuration, so every connection carries that one."""
    import duckdb

    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con, duckdb.connect(str(path), config=warehouse.engine_config()) as other:
        con.execute("INSERT INTO units VALUES ('so', '66', 'Sở 66', 'bo', 'BO')")
        assert other.execute("SELECT count(*) FROM units").fetchall() == [(1,)]
