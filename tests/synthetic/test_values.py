"""How generated values look: codes, flags, sex and dates in each software style, names made distinct."""

from __future__ import annotations

import datetime as dt
import random
import re

from pipelines.synthetic.values import (
    FAMILY_MINORITY,
    GIVEN,
    MIDDLE,
    client_id,
    code_in_style,
    date_between,
    distinct_names,
    flag_in_style,
    format_date,
    gender_in_style,
    person_name,
    short_place,
    year_dates,
)


def test_codes_flags_and_sex_in_each_style():
    assert [code_in_style("07", s) for s in ("int", "float", "str")] == [7, "7.0", "07"]
    assert [flag_in_style(True, s) for s in ("bool", "str", "int")] == [True, "1", 1]
    assert [flag_in_style(False, s) for s in ("bool", "str", "int")] == [False, "0", 0]
    assert [gender_in_style(2, s) for s in ("int", "str1", "str2")] == [2, "2", "02"]


def test_dates_in_each_format_and_every_day_of_a_year():
    day = dt.date(2024, 3, 5)
    assert [format_date(day, f) for f in ("iso_t", "dmy", "iso")] == [
        "2024-03-05T00:00:00.0",
        "05/03/2024",
        "2024-03-05",
    ]
    leap, plain = year_dates(2024, "iso"), year_dates(2023, "dmy")
    assert (len(leap), leap[0], leap[59], leap[-1]) == (366, "2024-01-01", "2024-02-29", "2024-12-31")
    assert (len(plain), plain[0], plain[-1]) == (365, "01/01/2023", "31/12/2023")
    rng = random.Random(1)
    lo, hi = dt.date(2024, 9, 5), dt.date(2024, 9, 29)
    drawn = {date_between(rng, lo, hi, "iso") for _ in range(500)}
    assert drawn == {(lo + dt.timedelta(days=i)).isoformat() for i in range(25)}  # both ends included
    assert date_between(rng, lo, lo, "dmy") == "05/09/2024"


def test_a_pupil_sharing_name_birth_month_and_sex_gets_a_second_given_name():
    pupils = [
        {"HoTen": "Lê Văn An", "NgaySinh": "2015-03-02T00:00:00.0", "GioiTinh": 1},
        {"HoTen": "Lê Văn An", "NgaySinh": "2015-03-28", "GioiTinh": "01"},  # same month and sex
        {"HoTen": "Lê Văn An", "NgaySinh": "2015-04-01", "GioiTinh": 1},  # another month
        {"HoTen": "Lê Văn An", "NgaySinh": "2015-03-10", "GioiTinh": 2},  # another sex
        {"HoTen": "Lê Văn An", "NgaySinh": "2015-03-15T00:00:00.0", "GioiTinh": "1"},  # a third one
    ]
    distinct_names(pupils)
    assert [p["HoTen"] for p in pupils] == [
        "Lê Văn An",
        "Lê Văn An Anh",
        "Lê Văn An",
        "Lê Văn An",
        "Lê Văn An Minh",
    ]


def test_names_places_and_client_ids():
    rng = random.Random(5)
    for _ in range(200):
        family, middle, given = person_name(rng, 2, minority=False).split(" ")
        assert middle in MIDDLE[2] and given in GIVEN[2]
        assert person_name(rng, 1, minority=True).rsplit(" ", 2)[0] in FAMILY_MINORITY
    assert short_place("Huyện Krông Búk") == "Krông Búk"
    assert short_place("Thành phố Buôn Ma Thuột") == "Buôn Ma Thuột"
    assert short_place("Ea Kar") == "Ea Kar"
    ids = {client_id(rng) for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i) for i in ids)
