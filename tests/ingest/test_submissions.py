"""Versions of a school's file: each arrival after the current version is the next one and
supersedes it, whether the earlier version came in this ingest or a run before."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipelines import warehouse
from pipelines.ingest import submissions

YEAR, PERIOD = "2024-2025", "DN"
A, B = "66643001", "66643002"
T1, T2, T3 = datetime(2024, 10, 1, 8), datetime(2024, 10, 2, 8), datetime(2024, 10, 3, 8)


def _versions(con):
    return con.execute(
        "SELECT school_code, version, file, arrived_at, superseded_at, run_id FROM submissions ORDER BY ALL"
    ).fetchall()


def test_two_files_of_a_school_in_one_ingest_are_versions_one_and_two(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    arrivals = [submissions.Arrival(A, "a2.json", "h2", T2), submissions.Arrival(A, "a1.json", "h1", T1),
                submissions.Arrival(B, "b.json", "hb", T1), submissions.Arrival(B, "b copy.json", "hb", T2)]  # fmt: skip
    new = submissions.register_versions(con, YEAR, PERIOD, arrivals, "run-1", T3)
    # A: a1 (T1) is version 1, superseded when a2 arrived (T2); B's copy is no new version.
    assert [(s.school_code, s.version, s.file) for s in new] == [
        (A, 1, "a1.json"),
        (B, 1, "b.json"),
        (A, 2, "a2.json"),
    ]
    assert _versions(con) == [(A, 1, "a1.json", T1, T2, "run-1"), (A, 2, "a2.json", T2, None, "run-1"),
                              (B, 1, "b.json", T1, None, "run-1")]  # fmt: skip


def test_a_later_ingest_supersedes_the_version_before_it(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    submissions.register_versions(
        con, YEAR, PERIOD, [submissions.Arrival(A, "a1.json", "h1", T1)], "run-1", T1
    )
    submissions.register_versions(con, YEAR, PERIOD, [submissions.Arrival(A, "a2.json", "h2", T2),
                                                      submissions.Arrival(A, "a0.json", "h0", T1)], "run-2", T3)  # fmt: skip
    assert _versions(con) == [(A, 1, "a1.json", T1, T2, "run-1"), (A, 2, "a2.json", T2, None, "run-2")]


def test_times_with_an_offset_are_registered_too():
    """Files stamped with an offset (ThoiGianDongBo "…+07:00") take the row-by-row path: version 1
    superseded by version 2 within one ingest, as with plain times."""
    plus7 = timezone(timedelta(hours=7))
    con = warehouse.connect(":memory:")
    arrivals = [submissions.Arrival(A, "a1.json", "h1", T1.replace(tzinfo=plus7)),
                submissions.Arrival(A, "a2.json", "h2", T2.replace(tzinfo=plus7))]  # fmt: skip
    submissions.register_versions(con, YEAR, PERIOD, arrivals, "run-1", T3)
    assert [(v, f, s is None) for _, v, f, _, s, _ in _versions(con)] == [
        (1, "a1.json", False),
        (2, "a2.json", True),
    ]
