"""The keyed hash computed in the parse workers equals the one extract.py's SQL computes, value for
value, whatever type the file gives (hypothesis), and equals normalise.pseudonymise."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import warehouse
from pipelines.ingest import extract, parse
from pipelines.ingest.limits import Limits
from pipelines.ingest.normalise import pseudonymise

KEY = b"test-key"
LEARNERS = next(fields for entity, _, fields in extract.layout() if entity == "learner")
HASHED = [name for name, kind in LEARNERS if kind == "hash"]


def _staged(records: list[dict], key: bytes | None) -> list[tuple]:
    table, _, _ = parse.columns("learner", "LstHocSinh", LEARNERS, [(1, {"LstHocSinh": records})], key=key)
    con = duckdb.connect()
    con.execute(warehouse.sql("ingest/extract", "macros"))
    extract.create_tables(con)
    normalised = extract.normalised(con, "learner", table, KEY, Limits())
    extract.append_all(con, "learner", [(True, parse.to_ipc(normalised))], KEY, Limits(), {1})
    return con.execute("SELECT * FROM _x_learner ORDER BY record_index").fetchall()


def test_a_name_padded_with_spaces_is_hashed_as_its_trimmed_text_in_the_worker():
    table, _, _ = parse.columns("learner", "LstHocSinh", LEARNERS, [(1, {"LstHocSinh": [
        {"HoTen": "  Lê Văn Tám ", "MaHocSinh": 1234, "ClientId": None}]})], key=KEY)  # fmt: skip
    assert table.column("h_HoTen").to_pylist() == [pseudonymise("Lê Văn Tám", KEY)]
    assert table.column("h_MaHocSinh").to_pylist() == [pseudonymise("1234", KEY)]
    assert table.column("h_ClientId").to_pylist() == [None]


_value = st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.floats() | st.text(max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({name: _value for name in HASHED}), min_size=1, max_size=8))
def test_the_workers_hashes_equal_the_sqls(records):
    assert _staged(records, KEY) == _staged(records, None)


def test_a_column_hashed_once_per_distinct_value_keeps_each_rows_hash_and_its_gaps():
    names = parse.keyed_hashes(pa.array(["Lê Văn Tám", None, "Lê Văn Tám", "An"]), KEY)
    assert names.to_pylist() == [pseudonymise("Lê Văn Tám", KEY), None, pseudonymise("Lê Văn Tám", KEY),
                                 pseudonymise("An", KEY)]  # fmt: skip
    codes = parse.keyed_hashes(pa.array([1234, None, 1234]), KEY)
    assert codes.to_pylist() == [pseudonymise("1234", KEY), None, pseudonymise("1234", KEY)]
    assert parse.keyed_hashes(pa.array([None, None]), KEY).to_pylist() == [None, None]


def _rows(records: list[dict], worker_rows: int, monkeypatch) -> list[tuple]:
    """A batch's records through worker_batch (normalised in a worker's DuckDB or sent raw) and
    append_all, as the _x_ scratch table holds them."""
    monkeypatch.setattr(extract, "WORKER_ROWS", worker_rows)
    table, _, _ = parse.columns("learner", "LstHocSinh", LEARNERS, [(1, {"LstHocSinh": records})], key=KEY)
    batch = extract.worker_batch(extract.worker_connection(), "learner", table, KEY, Limits())
    assert batch[0] == (len(records) >= worker_rows)
    con = duckdb.connect()
    con.execute(warehouse.sql("ingest/extract", "macros"))
    extract.create_tables(con)
    extract.append_all(con, "learner", [batch], KEY, Limits(), {1})
    return con.execute("SELECT * FROM _x_learner ORDER BY record_index").fetchall()


def test_a_batch_normalised_in_the_worker_reads_as_one_normalised_in_the_main_process(monkeypatch):
    records = [
        {"HoTen": " Lê Thị Hoa ", "GioiTinh": 2, "NgaySinh": "2009-02-18T00:00:00.0", "KhoiHoc": "6",
         "KhuyetTat": True, "MaDanToc": 1.0, "HtHoTro": "3.00"},
        {"HoTen": "An", "GioiTinh": "1", "NgaySinh": "18/02/2010", "KhoiHoc": 7, "KhuyetTat": "không",
         "MaDanToc": "01", "HtHoTro": 4},
    ]  # fmt: skip
    in_worker, in_main = _rows(records, 1, monkeypatch), _rows(records, 10**9, monkeypatch)
    assert in_worker == in_main
    cols = ["file_id", "record_index", *(name for name, _ in LEARNERS), "pre_hash_problems", "over_limit"]
    first, second = (dict(zip(cols, row, strict=True)) for row in in_worker)
    # Worked by hand from normalise.py's rules: codes to their width, flags 1/0, birth dates as year-month.
    assert (first["GioiTinh"], first["NgaySinh"], first["KhoiHoc"], first["KhuyetTat"], first["MaDanToc"],
            first["HtHoTro"]) == ("02", "2009-02", "06", "1", "01", "3")  # fmt: skip
    assert (second["GioiTinh"], second["NgaySinh"], second["KhoiHoc"], second["KhuyetTat"], second["HtHoTro"]) == (
        "01", "2010-02", "07", "0", "4")  # fmt: skip
    assert first["HoTen"] == pseudonymise("Lê Thị Hoa", KEY)


def _stage(tmp_path, name: str, order: list[tuple[int, int]], with_rows: bool) -> list[tuple]:
    """Schools A (file 11, 2 learners) and B (file 10, 3 learners), one file each, their _x_ rows in
    `order` (file id, record index), staged from the Arrow rows or by stage's SQL alone."""
    con = warehouse.connect(tmp_path / f"{name}.duckdb")
    warehouse.create_staging_tables(con)
    con.execute(warehouse.sql("ingest/extract", "chain"))
    warehouse.insert_rows(con, "_chain", [(10, "B", "b.json", "hb", 0, 1), (11, "A", "a.json", "ha", 0, 1)])
    names = [n for n, _ in LEARNERS]
    columns = {"file_id": pa.array([f for f, _ in order], pa.int32()),
               "record_index": pa.array([i for _, i in order], pa.int32()),
               **{n: pa.array([f"{n}-{f}-{i}" for f, i in order], pa.string()) for n in names},
               "pre_hash_problems": pa.nulls(len(order), pa.string()), "over_limit": pa.nulls(len(order), pa.string())}  # fmt: skip
    rows = pa.table(columns)
    extract.create_tables(con)
    con.execute(warehouse.sql("ingest/extract", "drop_scratch", table="_x_learner"))
    con.register("_x_learner", rows)
    extract.stage(con, "learner", rows if with_rows else None)
    staged = con.execute(
        "SELECT row_id, school_code, file, file_hash, record_index, HoTen FROM stg_learner"
    ).fetchall()
    con.close()
    return staged


def test_rows_in_the_staging_order_are_staged_from_arrow_as_the_sql_stages_them(tmp_path):
    in_order = [(11, 0), (11, 1), (10, 0), (10, 1), (10, 2)]
    staged = _stage(tmp_path, "arrow", in_order, True)
    # By hand: school A first (its code sorts first), ids 0-1, then B's three records, ids 2-4.
    assert staged == [(0, "A", "a.json", "ha", 0, "HoTen-11-0"), (1, "A", "a.json", "ha", 1, "HoTen-11-1"),
                      (2, "B", "b.json", "hb", 0, "HoTen-10-0"), (3, "B", "b.json", "hb", 1, "HoTen-10-1"),
                      (4, "B", "b.json", "hb", 2, "HoTen-10-2")]  # fmt: skip
    assert staged == _stage(tmp_path, "sql", in_order, False)
    shuffled = [(10, 1), (11, 1), (10, 0), (11, 0), (10, 2)]  # not in order: the SQL sorts them
    assert _stage(tmp_path, "shuffled", shuffled, True) == staged


# The code normaliser as it stood before it was cut to one regular expression for an all-digit code.
_EARLIER_CODE = """
CREATE OR REPLACE TEMP MACRO edu_code0(x) AS
    CASE WHEN regexp_full_match(x, '[0-9]+\\.0+') THEN split_part(x, '.', 1) ELSE x END;
CREATE OR REPLACE TEMP MACRO earlier_code(x, w) AS
    CASE WHEN w > 0 AND regexp_full_match(edu_code0(x), '[0-9]+') AND length(edu_code0(x)) < w
         THEN lpad(edu_code0(x), w, '0') ELSE edu_code0(x) END;
"""


def test_codes_are_padded_to_their_width_and_whole_decimals_cut():
    con = duckdb.connect()
    con.execute(warehouse.sql("ingest/extract", "macros"))
    got = con.execute("SELECT edu_code('7', 2), edu_code('7.00', 2), edu_code('123', 2), edu_code('7.5', 2), "
                      "edu_code('07', 0), edu_code('7.0', 0), edu_code(' 7', 2), edu_code(NULL, 2)").fetchall()  # fmt: skip
    assert got == [("07", "07", "123", "7.5", "07", "7", " 7", None)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.none() | st.text(alphabet="0123456789.-a ٣", max_size=6), min_size=1, max_size=30),
       st.integers(0, 3))  # fmt: skip
def test_the_code_normaliser_equals_its_earlier_form(values, width):
    con = duckdb.connect()
    con.execute(warehouse.sql("ingest/extract", "macros"))
    con.execute(_EARLIER_CODE)
    con.register("v", pa.table({"x": pa.array(values, pa.string())}))
    pairs = con.execute(f"SELECT edu_code(x, {width}), earlier_code(x, {width}) FROM v").fetchall()
    assert all(new == old for new, old in pairs)
