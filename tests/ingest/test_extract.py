"""The keyed hash computed in the parse workers equals the one extract.py's SQL computes, value for
value, whatever type the file gives (hypothesis), and equals normalise.pseudonymise."""

from __future__ import annotations

import duckdb
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
