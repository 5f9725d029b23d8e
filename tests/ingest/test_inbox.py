"""Ingest: normalisation of codes, rejection of unusable files, and the stated error for each bad input."""

from __future__ import annotations

import pytest

from pipelines import catalog, warehouse
from pipelines.ingest import normalise
from tests.conftest import (
    klass,
    payload,
    pupil,
    run_through_aggregate,
    school_info,
    write_inbox,
    write_registry,
)

GOOD, OTHER = "66643001", "66643002"


@pytest.mark.parametrize(
    ("raw", "width", "expected"),
    [(1, 2, "01"), ("1", 2, "01"), ("1.0", 2, "01"), (1.0, 2, "01"), (" 01 ", 2, "01"), (12, 2, "12"),
     ("0", 1, "0"), ("ab", 2, "ab"), (None, 2, None), ("", 2, None)],
)  # fmt: skip
def test_codes_arrive_as_numbers_or_strings_and_become_list_codes(raw, width, expected):
    assert normalise.normalise_code(raw, width) == expected


def test_dates_are_read_in_the_three_accepted_forms_and_birth_dates_cut_to_month():
    born = catalog.source("learner").field("NgaySinh")
    status = catalog.source("learner").field("NgayTrangThai")
    assert normalise.normalise_field(born, "2016-01-20T00:00:00.0", b"k") == "2016-01"
    assert normalise.normalise_field(born, "20/01/2016", b"k") == "2016-01"
    assert normalise.normalise_field(status, "2024-09-15", b"k") == "2024-09-15"
    assert normalise.normalise_field(status, "not a date", b"k") == "not a date"


def test_names_and_identifiers_are_replaced_by_a_keyed_hash():
    name = catalog.source("learner").field("HoTen")
    hashed = normalise.normalise_field(name, "Nguyễn Văn A", b"key-1")
    assert hashed != "Nguyễn Văn A" and len(hashed) == 24
    assert hashed == normalise.normalise_field(name, "Nguyễn Văn A", b"key-1")  # stable for one key
    assert hashed != normalise.normalise_field(name, "Nguyễn Văn A", b"key-2")


def _school(code, learners, classes=None):
    return payload(code, school_info(code), classes or [klass("1A", 1), klass("2A", 2)], learners)


def _ok_pupils(prefix):
    # Three pupils that count: two girls in grade 1 (one Tày), a boy in grade 2.
    return [
        pupil(f"{prefix}1", "1A", 1, 2, "01", "2018-02-02"),
        pupil(f"{prefix}2", "1A", 1, 2, "02", "2018-03-03"),
        pupil(f"{prefix}3", "2A", 2, 1, "01", "2017-04-04"),
    ]


@pytest.fixture(scope="module")
def bad_inputs_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bad_inputs")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": c, "TEN_TRUONG_HOC": f"Trường {c}", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"} for c in (GOOD, OTHER, "66643003", "66643004")
    ])  # fmt: skip
    bad_code = _ok_pupils("c") + [
        pupil("c4", "1A", 1, 2, "99", "2018-01-01")
    ]  # ethnicity 99: not in DM_DAN_TOC
    wrong_type = _ok_pupils("t") + [
        pupil("t4", "1A", 1, 1, "01", "hai nghìn")
    ]  # a birth date that is no date
    duplicate = _ok_pupils("d") + [pupil("d1", "1A", 1, 2, "01", "2018-02-02")]  # d1 listed twice
    inbox = write_inbox(tmp_path / "inbox", {
        "good.json": _school(GOOD, _ok_pupils("g")),
        "bad_code.json": _school(OTHER, bad_code),
        "wrong_type.json": _school("66643003", wrong_type),
        "duplicate.json": _school("66643004", duplicate),
        "truncated.json": '{"MaTruongHoc": "66643005", "NamHoc": 2024, "TruongHocInfo": {"MaTr',
        "unregistered.json": _school("66699999", _ok_pupils("u")),
        "last_year.json": payload("66643006", school_info("66643006"), [], [], year=2023),
    })  # fmt: skip
    s = run_through_aggregate(tmp_path, registry, inbox)
    return s


def _query(s, sql, params=None):
    with warehouse.connect(s.warehouse) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow
def test_unreadable_and_misplaced_files_are_rejected_whole_with_a_reason(bad_inputs_run):
    rejected = dict(_query(bad_inputs_run, "SELECT file, reason FROM files WHERE status = 'rejected'"))
    assert rejected == {
        "truncated.json": "file.unreadable",
        "unregistered.json": "file.not_in_registry",
        "last_year.json": "file.wrong_period",
    }
    messages = _query(
        bad_inputs_run, "SELECT message_vi, message_en FROM files WHERE file = 'truncated.json'"
    )
    assert "JSON" in messages[0][0] and "Malformed or truncated JSON" in messages[0][1]


@pytest.mark.parametrize(
    ("school", "rule", "field", "value", "record"),
    [
        (OTHER, "learner.MaDanToc.codelist", "MaDanToc", "99", 3),
        ("66643003", "learner.NgaySinh.type", "NgaySinh", "hai nghìn", 3),
        ("66643004", "learner.duplicate", "ClientId", None, 3),
    ],
)
@pytest.mark.slow
def test_each_bad_record_gets_the_stated_error_and_is_excluded(
    bad_inputs_run, school, rule, field, value, record
):
    found = _query(
        bad_inputs_run,
        "SELECT field, value, record_index, severity, message_vi, message_en FROM validation_results "
        "WHERE school_code = ? AND rule_id = ?",
        [school, rule],
    )
    assert len(found) == 1
    got_field, got_value, got_record, severity, vi, en = found[0]
    assert (got_field, got_record, severity) == (field, record, "error")
    if value is not None:
        assert got_value == value
    assert vi and en
    # The bad record is quarantined, so the school still counts exactly its three good pupils.
    r37 = dict(_query(bad_inputs_run, "SELECT col_key, value FROM cells WHERE level = 'school' "
                      "AND unit_code = ? AND row_code = 37", [school]))  # fmt: skip
    assert (r37["T.all"], r37["T.female"], r37["T.ethnic"]) == (3, 2, 1)


@pytest.mark.slow
def test_the_good_school_is_untouched_by_the_others(bad_inputs_run):
    r37 = dict(_query(bad_inputs_run, "SELECT col_key, value FROM cells WHERE level = 'school' "
                      "AND unit_code = ? AND row_code = 37", [GOOD]))  # fmt: skip
    assert (r37["T.all"], r37["T.female"], r37["T.ethnic"], r37["T.ethnic_female"]) == (3, 2, 1, 1)
    so = dict(_query(bad_inputs_run, "SELECT col_key, value FROM cells WHERE level = 'so' AND row_code = 37"))
    assert so["T.all"] == 12  # four loaded schools × three good pupils
    assert _query(
        bad_inputs_run, "SELECT count(*) FROM validation_results WHERE school_code = ?", [GOOD]
    ) == [(0,)]


@pytest.mark.slow
def test_every_input_record_is_loaded_or_quarantined(bad_inputs_run):
    for entity in ("learner", "class", "school"):
        staged = _query(bad_inputs_run, f"SELECT count(*) FROM stg_{entity}")[0][0]
        quarantined = _query(bad_inputs_run, "SELECT count(*) FROM quarantine WHERE entity = ?", [entity])[0][
            0
        ]
        loaded = _query(bad_inputs_run, f"SELECT count(*) FROM {entity}")[0][0]
        sent = _query(bad_inputs_run, f"SELECT sum(n_{entity}) FROM files WHERE status = 'loaded'")[0][0]
        assert staged == sent
        assert loaded + quarantined == staged


_POOL = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pipelines.ingest.inbox import die_with_parent
with ProcessPoolExecutor(2, mp_context=get_context("fork"), initializer=die_with_parent,
                         initargs=(os.getpid(),)) as pool:
    print(" ".join(str(p) for p in {pool.submit(os.getpid).result() for _ in range(4)}), flush=True)
    time.sleep(60)
"""


def test_ingest_workers_die_with_a_killed_parent(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    with subprocess.Popen([sys.executable, "-c", _POOL], stdout=subprocess.PIPE, text=True, env=env) as proc:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(psutil.pid_exists(p) for p in workers)
        proc.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [
            p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        time.sleep(0.1)
    assert not alive
