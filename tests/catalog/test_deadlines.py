"""schemas/deadlines.yaml: DeadlinesFile and the deadlines of each level."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.catalog import CatalogError, deadlines
from tests.catalog.conftest import assert_problem

FILE = "deadlines.yaml"
DEADLINES = """\
periods:
  DN: {month: 10, year_offset: 0}
  CN: {month: 6, year_offset: 1, source: end of year}
levels:
  school: {day: 10, status: inferred}
  phong: {day: 20}
  so: {day: 30, source: TT 24}
regimes:
  tt25:
    DN:
      so: {day: 31}
"""


def load(schemas, text: str = DEADLINES):
    schemas.write(FILE, text)
    return deadlines.deadline_config(schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_the_deadlines_of_each_level(schemas):
    load(schemas)
    assert deadlines.deadlines(2024, "DN", root=schemas.root) == {"school": date(2024, 10, 10), "phong": date(2024, 10, 20), "so": date(2024, 10, 30)}  # fmt: skip
    assert deadlines.deadlines(2024, "DN", "tt25", schemas.root)["so"] == date(2024, 10, 31)
    assert deadlines.deadlines(2024, "CN", "tt25", schemas.root)["so"] == date(2025, 6, 30)


def test_a_bad_deadline_day(schemas):
    err = fails(schemas, DEADLINES.replace("day: 20", "day: 32"))
    assert_problem(err, FILE, "levels.phong.day", 6, "less than or equal to 31")
    err = fails(schemas, DEADLINES.replace("day: 20", "day: twenty"))
    assert_problem(err, FILE, "levels.phong.day", 6, "valid integer")
    # Levels apply to every period: no 31 June.
    err = fails(schemas, DEADLINES.replace("day: 30, source", "day: 31, source"))
    assert_problem(err, FILE, "levels.so.day", 7, "CN reports are due in month 6, which has no day 31")


def test_months_levels_and_keys(schemas):
    err = fails(schemas, DEADLINES.replace("month: 10", "month: 13"))
    assert_problem(err, FILE, "periods.DN.month", 2, "less than or equal to 12")
    err = fails(schemas, DEADLINES.replace("  phong: {day: 20}\n", ""))
    assert_problem(err, FILE, "levels.phong", 4, "missing key 'phong'")
    err = fails(schemas, DEADLINES.replace("  phong: {day: 20}", "  district: {day: 20}"))
    assert_problem(err, FILE, "levels.district", 6, "'school', 'phong' or 'so'")
    err = fails(schemas, DEADLINES.replace("status: inferred", "status: guessed"))
    assert_problem(err, FILE, "levels.school.status", 5, "'inferred'")
    err = fails(schemas, DEADLINES.replace("  tt25:", "  tt30:"))
    assert_problem(err, FILE, "regimes.tt30", 9, "'tt24' or 'tt25'")
    err = fails(schemas, DEADLINES.replace("{month: 10, year_offset: 0}", "{month: 10, offset: 0}"))
    assert_problem(err, FILE, "periods.DN.offset", 2, "unknown key 'offset'")


def test_the_real_deadlines():
    assert deadlines.deadlines(2024, "DN") == {"school": date(2024, 10, 10), "phong": date(2024, 10, 20), "so": date(2024, 10, 30)}  # fmt: skip
    assert deadlines.deadlines(2025, "DN", "tt25")["so"] == date(2025, 10, 31)
    assert deadlines.deadlines(2024, "CN")["so"] == date(2025, 6, 30)
