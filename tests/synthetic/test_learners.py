"""A learner record read back (codes, grade, date, rate group, enrolment on a day) and values written
in the file's own style."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.synthetic.learners import (
    admission_like,
    day_stamp,
    enrolled_on,
    flag_like,
    grade_like,
    grade_of,
    rate_group,
    read_code,
    read_date,
    status_like,
)

END = dt.date(2024, 5, 31)


def test_codes_grades_and_dates_read_back():
    assert [read_code(v) for v in (1, "1", "01", 1.0, "1.0", 12)] == ["01"] * 5 + ["12"]
    assert [read_code(v) for v in (None, "", "abc")] == [None, None, None]
    assert [grade_of({"KhoiHoc": v}) for v in ("05", 12, 16, 13, None)] == [5, 12, None, None, None]
    assert read_date("2024-02-01T00:00:00.0") == dt.date(2024, 2, 1)
    assert read_date("01/12/2023") == dt.date(2023, 12, 1)
    assert [read_date(v) for v in ("2024-02-30", "", None, "12/2023")] == [None, None, None, None]


@pytest.mark.parametrize(
    ("status", "date", "enrolled"),
    [
        ("01", None, True),
        ("04", "2024-05-31T00:00:00.0", False),  # left on the day
        ("08", "2024-06-01T00:00:00.0", True),  # leaves after it
        (5, "31/05/2024", False),  # another date format, an integer status
        ("02", "2024-05-31T00:00:00.0", True),  # arrived on the day
        ("06", "2024-06-01T00:00:00.0", False),  # arrives after it
        ("04", None, True),  # no readable date: nothing changes
        ("04", "not a date", True),
    ],
)
def test_enrolled_on_a_day(status, date, enrolled):
    pupil = {"TrangThai": status} | ({"NgayTrangThai": date} if date else {})
    assert enrolled_on(pupil, END) is enrolled


def test_rate_groups():
    groups = [
        rate_group({"KhoiHoc": k}) for k in (1, "05", 6, "09", 10, 12, 16, "17", 13, 18, 23, 28, 29, "x")
    ]
    assert groups == [
        "TH",
        "TH",
        "THCS",
        "THCS",
        "THPT",
        "THPT",
        "MN",
        "MN",
        "GDTX",
        "GDTX",
        "GDTX",
        "GDTX",
        None,
        None,
    ]


def test_values_written_like_the_file():
    assert [flag_like(True, like) for like in (False, "0", 0)] == [True, "1", 1]
    assert [flag_like(False, like) for like in (True, "1", 1)] == [False, "0", 0]
    assert [status_like("04", like) for like in (1, "01")] == [4, "04"]
    assert [grade_like(5, like) for like in (3, "03", "3")] == [5, "05", "5"]
    assert [admission_like(4, like) for like in (1, "1")] == [4, "4"]
    assert day_stamp(dt.date(2024, 1, 2)) == "2024-01-02T00:00:00.0"
