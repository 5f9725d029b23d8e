"""The input ledger: every input with one outcome, its summary lines, and the balance failing loudly
when an input is lost or counted twice."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import run as pipeline
from pipelines import warehouse
from pipelines.ingest import ledger, registry, submissions, units
from pipelines.ingest.inbox import ingest_inbox
from tests.conftest import klass, payload, pupil, school_info, write_inbox, write_registry

A, B = "66643001", "66643002"
RUN, YEAR = "ledger-run", "2024-2025"


def _school(code, n):
    return payload(code, school_info(code), [klass("1A", 1)],
                   [pupil(f"{code}-{i}", "1A", 1, 2, "01", "2018-02-02") for i in range(n)])  # fmt: skip


@pytest.fixture
def ingested(tmp_path, monkeypatch):
    """Registry: A, B and a closed school (row 7). Inbox: A's file (3 pupils), B's file twice (an older
    version with 1 pupil and the newer with 2), a truncated file, and a PDF."""
    monkeypatch.setenv("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
    rows = [{"MA_TRUONG": c, "TEN_TRUONG_HOC": f"Trường {c}", "CAP_HOC": "1", "TRANG_THAI": t, "ID_SO": "66",
             "ID_PHONG": "643"} for c, t in ((A, 1), (B, 1), ("66643003", 0))]  # fmt: skip
    reg = registry.read_registry(write_registry(tmp_path / "registry.xlsx", rows))
    old = {**_school(B, 1), "ThoiGianDongBo": "2024-10-01T08:00:00"}
    new = {**_school(B, 2), "ThoiGianDongBo": "2024-10-02T08:00:00"}
    inbox = write_inbox(tmp_path / "inbox", {f"{A}.json": _school(A, 3), f"{B}_old.json": old, f"{B}_new.json": new,
                                             "hong.json": '{"MaTruongHoc": "6664'})  # fmt: skip
    (inbox / "cong van.pdf").write_bytes(b"%PDF-1.4")
    con = warehouse.connect(tmp_path / "w.duckdb")
    units.load_units(con, reg, "2024", None, RUN)
    ledger.record_registry(con, reg, RUN, YEAR, "DN")
    ingest_inbox(con, inbox, 2024, "DN", units.registered_schools(con), b"k", RUN)
    ledger.complete_records(con, RUN, YEAR, "DN")
    yield con
    con.close()


def test_every_input_has_one_outcome_and_the_lines_say_so(ingested):
    summary = ledger.ledger_summary(ingested, RUN)
    assert summary.balanced, summary.problems
    # Registry: 3 rows, 2 placed, 1 closed. Inbox: 5 entries: A and B's newer counted, B's older
    # superseded, the broken file rejected, the PDF not read. Records: A's school + class + 3 pupils,
    # B's newer school + class + 2 pupils counted (9); B's older file's 3 records superseded.
    assert (summary.total("registry_row"), summary.total("registry_row", "counted"),
            summary.total("registry_row", "not_expected")) == (3, 2, 1)  # fmt: skip
    assert {o: summary.total("inbox_entry", o) for o in ledger.OUTCOMES if summary.total("inbox_entry", o)} == {
        "counted": 2, "superseded": 1, "rejected": 1, "not_read": 1}  # fmt: skip
    assert (summary.total("record", "counted"), summary.total("record", "superseded")) == (9, 3)
    assert summary.lines[0].startswith("danh sách trường: 3 dòng → 2 được tính, 1 không thuộc kỳ/danh sách")
    assert "inbox: 5 entries → 2 counted, 1 rejected, 1 superseded, 1 not read" in summary.lines[1]
    assert (
        "records: 12 read = 9 counted + 0 excluded + 3 in superseded or rejected files" in summary.lines[-1]
    )
    assert [r[2] for r in ledger.school_records(ingested, RUN, B) if r[0] == f"{B}_old.json"] == [
        "superseded"
    ] * 3


def test_the_store_keeps_the_counted_files_as_sent_and_nothing_of_the_others(ingested, tmp_path):
    """The parse workers encrypt every readable file ahead: A's and B's newer file become versions,
    B's older file (superseded) leaves nothing behind, nor does the broken file."""
    store = tmp_path / "submissions"
    kept = sorted(p.name for p in store.iterdir())
    sent = {(tmp_path / "inbox" / f).read_bytes() for f in (f"{A}.json", f"{B}_new.json")}
    assert len(kept) == 2 and all(name.endswith(".fernet") for name in kept), kept
    assert {submissions.store_get(store, name.removesuffix(".fernet")) for name in kept} == sent


def test_a_record_lost_between_staging_and_the_ledger_unbalances_it(ingested):
    ingested.execute("DELETE FROM input_ledger WHERE run_id = ? AND position = 'LstHocSinh[2]' AND school_code = ?",
                     [RUN, A])  # fmt: skip
    summary = ledger.ledger_summary(ingested, RUN)
    assert not summary.balanced
    assert any("records of loaded files missing" in p for p in summary.problems)
    assert "THE LEDGER DOES NOT BALANCE" in summary.lines[-1]


def test_an_input_with_two_outcomes_unbalances_it(ingested):
    ingested.execute("INSERT INTO input_ledger SELECT * REPLACE ('counted' AS outcome) FROM input_ledger "
                     "WHERE run_id = ? AND position = 'cong van.pdf'", [RUN])  # fmt: skip
    summary = ledger.ledger_summary(ingested, RUN)
    assert not summary.balanced and any("more than one outcome" in p for p in summary.problems)


def test_a_registry_row_missing_from_the_ledger_unbalances_it(ingested):
    ingested.execute(
        "DELETE FROM input_ledger WHERE run_id = ? AND input = 'registry_row' AND position = '6'", [RUN]
    )
    assert any("registry rows missing" in p for p in ledger.ledger_summary(ingested, RUN).problems)


def test_the_run_stops_when_the_ledger_does_not_balance():
    pipeline.check_ledger(pipeline.StepResult("validate", 0.0, {"ledger_balanced": True}))
    bad = pipeline.StepResult("validate", 0.0, {"ledger_balanced": False, "ledger_problems": ["x: 1 / x: 1"]})
    with pytest.raises(ledger.LedgerUnbalanced, match="does not balance"):
        pipeline.check_ledger(bad)


_value = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
                   st.lists(st.integers(0, 99), max_size=3), st.sampled_from(["01", "1.0", "20/01/2016", " 02 ", ""]))  # fmt: skip
_record = st.dictionaries(st.sampled_from(["ClientId", "MaHocSinh", "HoTen", "MaDanToc", "GioiTinh", "NgaySinh",
                                           "KhoiHoc", "MaLopHocDn", "TrangThai", "KhuyetTat", "HtHoTro"]), _value)  # fmt: skip


@pytest.mark.slow  # an ingest per example
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    learners=st.lists(_record, max_size=6),
    info=st.dictionaries(
        st.sampled_from(["TenTruongHoc", "TongSoHocSinh", "SoDiemTruong", "MaVung", "LoaiHinhDaoTao"]), _value
    ),
)
def test_random_records_never_crash_ingest_and_the_ledger_balances(tmp_path_factory, learners, info):
    root = tmp_path_factory.mktemp("random")
    rows = [{"MA_TRUONG": c, "TEN_TRUONG_HOC": f"Trường {c}", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66",
             "ID_PHONG": "643"} for c in (A, B)]  # fmt: skip
    reg = registry.read_registry(write_registry(root / "registry.xlsx", rows))
    doc = _school(B, 0)
    doc["LstHocSinh"], doc["TruongHocInfo"] = learners, {**school_info(B), **info}
    text = json.dumps(doc, ensure_ascii=False, allow_nan=True)
    inbox = write_inbox(root / "inbox", {f"{A}.json": _school(A, 2), f"{B}.json": text})
    with pytest.MonkeyPatch.context() as mp, warehouse.connect(root / "w.duckdb") as con:
        mp.setenv("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
        units.load_units(con, reg, "2024", None, RUN)
        ledger.record_registry(con, reg, RUN, YEAR, "DN")
        ingest_inbox(con, inbox, 2024, "DN", units.registered_schools(con), b"k", RUN)
        ledger.complete_records(con, RUN, YEAR, "DN")
        summary = ledger.ledger_summary(con, RUN)
    assert summary.balanced, summary.problems
    assert (
        summary.total("inbox_entry") == 2 and summary.total("record", "counted") >= 4
    )  # A: school, class, 2 pupils
