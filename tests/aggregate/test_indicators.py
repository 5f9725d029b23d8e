"""compute_indicators on hand-worked cells (issue 16): every indicator added or corrected, computed on
one school's form cells as a statistician would compute it from the printed form. The numbers in
the comments are the hand computation; the rows are those docs/indicators.md lists."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import aggregate, catalog, warehouse

M = "66643101"  # Trường Mầm non Hoa Sen
T = "66643201"  # a primary school
S = "66643301"  # a lower-secondary school
P = "66000401"  # an upper-secondary school

# (form, unit, row, column) → value: the cells of the start of 2024-2025.
START_CELLS = {
    # 01-MN-ĐN. Nursery: 2 groups (r56), 30 children (r84) of whom 5 / 10 / 12 aged 3-12 / 13-24 /
    # 25-36 months (r97-99) and 3 older than 36 months (r100); 4 nursery teachers (r168), of whom 1
    # below (r214), 2 at (r215), 1 above (r216) the training standard.
    ("01-MN-DN", M, 56, "T"): 2,
    ("01-MN-DN", M, 84, "T.all"): 30,
    ("01-MN-DN", M, 96, "T.all"): 30,
    ("01-MN-DN", M, 97, "T.all"): 5,
    ("01-MN-DN", M, 98, "T.all"): 10,
    ("01-MN-DN", M, 99, "T.all"): 12,
    ("01-MN-DN", M, 100, "T.all"): 3,
    ("01-MN-DN", M, 168, "T.all"): 4,
    ("01-MN-DN", M, 214, "T.all"): 1,
    ("01-MN-DN", M, 215, "T.all"): 2,
    ("01-MN-DN", M, 216, "T.all"): 1,
    # Kindergarten: 3 classes (r69), 75 children (r90): 2 under 3 (r102), 20 / 25 / 26 aged 3-4 /
    # 4-5 / 5-6 (r103-105), 2 over 6 (r106); 70 checked for nutrition (r112), 7 underweight (r113),
    # 14 stunted (r114); 5 kindergarten teachers (r181): 1 below (r217), 3 at (r218), 1 above (r219).
    ("01-MN-DN", M, 69, "T"): 3,
    ("01-MN-DN", M, 90, "T.all"): 75,
    ("01-MN-DN", M, 101, "T.all"): 75,
    ("01-MN-DN", M, 102, "T.all"): 2,
    ("01-MN-DN", M, 103, "T.all"): 20,
    ("01-MN-DN", M, 104, "T.all"): 25,
    ("01-MN-DN", M, 105, "T.all"): 26,
    ("01-MN-DN", M, 106, "T.all"): 2,
    ("01-MN-DN", M, 112, "T.all"): 70,
    ("01-MN-DN", M, 113, "T.all"): 7,
    ("01-MN-DN", M, 114, "T.all"): 14,
    ("01-MN-DN", M, 181, "T.all"): 5,
    ("01-MN-DN", M, 217, "T.all"): 1,
    ("01-MN-DN", M, 218, "T.all"): 3,
    ("01-MN-DN", M, 219, "T.all"): 1,
    # One trường mầm non (r33) meeting the national standard, level 1 (r40).
    ("01-MN-DN", M, 33, "T"): 1,
    ("01-MN-DN", M, 40, "T"): 1,
    # 02-TH-ĐN: 5 classes (r27), 1 of grade 1 (r28) with 35 pupils (r40); 160 pupils (r37); 5 teachers
    # (r96), 3 at (r139) and 1 above (r140) the standard.
    ("02-TH-DN", T, 27, "T"): 5,
    ("02-TH-DN", T, 28, "T"): 1,
    ("02-TH-DN", T, 37, "T.all"): 160,
    ("02-TH-DN", T, 40, "T.all"): 35,
    ("02-TH-DN", T, 96, "T.all"): 5,
    ("02-TH-DN", T, 139, "T.all"): 3,
    ("02-TH-DN", T, 140, "T.all"): 1,
}
# The school's population (population.csv) in 2024, by single year of age.
POPULATION = {0: 20, 1: 25, 2: 30, 3: 30, 4: 30, 5: 40}
# The end of 2024-2025, and the grade-6 pupils of 03-THCS-ĐN three years earlier (2021-2022).
END_CELLS = {
    # 01-MN-CN: 26 children aged 5-6 at the start (r20), 24 completed the programme (r19).
    ("01-MN-CN", M, 19, "T.all"): 24,
    ("01-MN-CN", M, 20, "T.all"): 26,
    # 03-THCS-CN: 40 grade-9 pupils assessed (r50), 38 recognised as graduates (r90).
    ("03-THCS-CN", S, 50, "T.all"): 40,
    ("03-THCS-CN", S, 90, "T.all"): 38,
    # 04-THPT-CN: 48 grade-12 pupils assessed (r42), 45 recognised as graduates (r75).
    ("04-THPT-CN", P, 42, "T.all"): 48,
    ("04-THPT-CN", P, 75, "T.all"): 45,
}
EARLIER_CELLS = {("03-THCS-DN", S, 36, "T.all"): 50}
# The grade-10 pupils of 04-THPT-ĐN two years earlier (2022-2023).
EARLIER_THPT_CELLS = {("04-THPT-DN", P, 36, "T.all"): 60}


def _insert(con, school_year, period, cells):
    for (form, unit, row, col), value in cells.items():
        con.execute(
            "INSERT INTO cells (school_year, period, regime, form, level, unit_code, row_code, col_key, value) "
            "VALUES (?, ?, 'tt24', ?, 'school', ?, ?, ?, ?)",
            [school_year, period, form, unit, row, col, value],
        )


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """indicator id → (numerator, denominator, value) of the school, on the 2025 boundaries."""
    path = tmp_path_factory.mktemp("indicators") / "w.duckdb"
    with warehouse.connect(path) as con:
        _insert(con, "2024-2025", "DN", START_CELLS)
        _insert(con, "2024-2025", "CN", END_CELLS)
        _insert(con, "2021-2022", "DN", EARLIER_CELLS)
        _insert(con, "2022-2023", "DN", EARLIER_THPT_CELLS)
        for age, n in POPULATION.items():
            con.execute("INSERT INTO population VALUES ('school', ?, 2024, ?, '01', ?)", [M, age, n])
        for period, end in (("DN", date(2024, 9, 30)), ("CN", date(2025, 5, 31))):
            ctx = aggregate.RunContext("run-x", "2024-2025", 2024, period, end)
            aggregate.compute_indicators(con, ctx, catalog.forms_for("tt24", period))
        rows = con.execute(
            "SELECT indicator_id, numerator, denominator, value FROM indicators "
            "WHERE level = 'school' AND boundaries = '2025'"
        ).fetchall()
    return {i: (num, den, value) for i, num, den, value in rows if num or den}


@pytest.mark.parametrize(
    "indicator, expected",
    [
        # 1106: children of 3-36 months (r97-99: 5 + 10 + 12 = 27, not r84's 30 which holds r100's 3
        # older children) over the population aged 0-2 (20 + 25 + 30 = 75): 36%.
        ("1106", (27, 75, 36.0)),
        # 1206: children of 3-6 (r103-105: 20 + 25 + 26 = 71, not r101's 75 with r102 and r106) over
        # the population aged 3-5 (30 + 30 + 40 = 100): 71%.
        ("1206", (71, 100, 71.0)),
        ("1206.2", (26, 40, 65.0)),  # 5-year-olds: 26 / 40
        ("1107.1", (30, 2, 15.0)),  # children per nursery group: 30 / 2
        ("1107.2", (30, 4, 7.5)),  # children per nursery teacher: 30 / 4
        ("1207.1", (75, 3, 25.0)),  # children per kindergarten class: 75 / 3
        ("1207.2", (75, 5, 15.0)),  # children per kindergarten teacher: 75 / 5
        ("1208.1", (7, 70, 10.0)),  # underweight: 7 of the 70 checked
        ("1208.2", (14, 70, 20.0)),  # stunted: 14 of the 70 checked
        ("1209", (24, 26, 92.31)),  # 24 of the 26 five-year-olds completed the programme
        # 1210: teachers at or above the standard: (2 + 1) nursery + (3 + 1) kindergarten = 7 of 9.
        ("1210", (7, 9, 77.78)),
        ("1211", (1, 1, 100.0)),  # the one preschool meets the national standard
        ("2106.2.1", (35, 1, 35.0)),  # grade-1 pupils per grade-1 class: 35 / 1
        ("2106.2", (160, 5, 32.0)),  # pupils per class, all grades: 160 / 5
        ("TH.teacher_standard", (4, 5, 80.0)),  # 3 at + 1 above the standard of 5 teachers
        # THCS: graduation (38 of the 40 grade-9 pupils assessed that year: 95%) is not completion
        # (38 of the 50 grade-6 pupils three years earlier: 76%).
        ("THCS.graduation_rate", (38, 40, 95.0)),
        ("THCS.completion_rate", (38, 50, 76.0)),
        ("THPT.graduation_rate", (45, 48, 93.75)),  # 45 of the 48 grade-12 pupils assessed
        ("THPT.completion_rate", (45, 60, 75.0)),  # 45 of the 60 grade-10 pupils two years earlier
    ],
)
def test_indicator_on_a_hand_worked_school(computed, indicator, expected):
    assert computed[indicator] == expected
