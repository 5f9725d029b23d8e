"""Enrolment rates over population (GER, NER, GER by sex, gender parity index), worked by hand.

The province is the two primary schools of tests/test_aggregate.py (same pupils), so the cells are
known: Phòng 643 (school A) r37 T.all 4, T.female 2, ages 6-10 (r46-r50) 4; Phòng 644 (school B)
r37 3, female 2, ages 6-10 2 (b2 is 12); Sở 66 r37 7, female 4, ages 6-10 6.

Hand-written population (year 2024, ages 6-10, F = female 02, M = male 01):
  Phòng 643: F 1,1,1,0,1 = 4; M 1,1,1,1,1 = 5 (total 9); age 5 F 7 and age 11 M 9 lie outside.
  Phòng 644: F 2,2,2,1,1 = 8; M 1,1,0,0,0 = 2 (total 10).
  Sở 66:     F 12, M 7 (total 19) on the age-6 rows; a 2023 row that must be ignored.
  Phòng 645: population but no school → no rate.

  Phòng 643: GER 4/9 = 44.44; NER 4/9 = 44.44; GER F 2/4 = 50.00; GER M (4−2)/5 = 40.00;
             GPI 50/40 = 1.25 > 1 → adjusted 2 − 1/1.25 = 1.20.
  Phòng 644: GER 3/10 = 30.00; NER 2/10 = 20.00; GER F 2/8 = 25.00; GER M 1/2 = 50.00; GPI 0.50.
  Sở 66:     GER 7/19 = 36.84; NER 6/19 = 31.58; GER F 4/12 = 33.33; GER M 3/7 = 42.86;
             GPI 33.33/42.86 = 0.7777 → 0.78.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines import aggregate, cli, warehouse
from pipelines.ingest import population as population_file
from pipelines.synthetic import province as generate
from tests.conftest import klass, payload, pupil, school_info, staff_member, write_inbox, write_registry

A, B = "66643001", "66644001"
POPULATION = [
    *[("phong", "643", 2024, age, "02", n) for age, n in zip(range(6, 11), (1, 1, 1, 0, 1), strict=True)],
    *[("phong", "643", 2024, age, "01", 1) for age in range(6, 11)],
    ("phong", "643", 2024, 5, "02", 7),
    ("phong", "643", 2024, 11, "01", 9),
    *[("phong", "644", 2024, age, "02", n) for age, n in zip(range(6, 11), (2, 2, 2, 1, 1), strict=True)],
    *[("phong", "644", 2024, age, "01", n) for age, n in zip(range(6, 11), (1, 1, 0, 0, 0), strict=True)],
    ("so", "66", 2024, 6, "02", 12),
    ("so", "66", 2024, 6, "01", 7),
    ("so", "66", 2023, 6, "02", 1000),
    ("phong", "645", 2024, 6, "02", 50),
]


def write_population(path: Path, rows: list[tuple]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(population_file.POPULATION_COLUMNS)
        w.writerows(rows)
    return path


def _province(tmp_path: Path) -> list[str]:
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": A, "TEN_TRUONG_HOC": "Trường TH A", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": B, "TEN_TRUONG_HOC": "Trường TH B", "CAP_HOC": 1, "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "644", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 644},
    ])  # fmt: skip
    school_a = payload(
        A,
        school_info(A),
        [klass("1A", 1, sessions=4), klass("3A", 3, sessions=1, subjects=("12",))],
        [
            pupil("a1", "1A", 1, 2, "01", "2018-03-01T00:00:00.0", LoaiNhapHoc=0),
            pupil("a2", "1A", 1, 1, "02", "2017-05-02", LoaiNhapHoc=3),
            pupil("a3", "3A", 3, 2, "02", "2016-01-20", KhuyetTat=1, MaLoaiKhuyetTat="03"),
            pupil("a4", "3A", 3, 1, "01", "2016-07-07", status=4, NgayTrangThai="2024-09-15"),
            pupil("a5", "3A", 3, 2, "01", "2015-02-02", status=2, NgayTrangThai="2024-10-10"),
            pupil("a6", "3A", 3, 1, "01", "2016-11-11", status=2, NgayTrangThai="2024-09-10"),
        ],
        [staff_member("sa1", "01", "01", "07", "16", 2, "1975-04-04")],
    )
    school_b = payload(
        B,
        school_info(B, LoaiHinhDaoTao="09", MaVung="04"),
        [klass("5A", 5, sessions=4)],
        [
            pupil("b1", "5A", 5, 2, "01", "2014-04-04"),
            pupil("b2", "5A", 5, 1, "01", "2012-12-12"),
            pupil("b3", "5A", 5, 2, "17", "2014-09-09"),
        ],
        [staff_member("sb1", "01", "01", "03", "02", 1, "1970-02-02")],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{A}.json": school_a, f"{B}.json": school_b})
    return ["run", "--school-year", "2024-2025", "--registry", str(registry), "--inbox", str(inbox),
            "--warehouse", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out"), "--processes", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def rates(tmp_path_factory):
    """(level, unit, indicator) → (numerator, denominator, value, numerator_rate, denominator_rate)."""
    tmp_path = tmp_path_factory.mktemp("population")
    args = _province(tmp_path)
    population = write_population(tmp_path / "population.csv", POPULATION)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDUSTAT_PSEUDONYM_KEY", "test-key-not-secret")
        assert cli.main([*args, "--population", str(population)]) == 0
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        rows = con.execute(
            "SELECT level, unit_code, indicator_id, numerator, denominator, value, numerator_rate, "
            "denominator_rate FROM indicators"
        ).fetchall()
    with (tmp_path / "out" / "indicators.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == aggregate.INDICATOR_COLUMNS
    return {(lv, unit, ind): tuple(rest) for lv, unit, ind, *rest in rows}


@pytest.mark.parametrize(
    ("level", "unit", "expected"),
    [
        ("phong", "643", {"TH.ger": (4, 9, 44.44), "TH.ner": (4, 9, 44.44), "TH.ger_female": (2, 4, 50.0),
                          "TH.ger_male": (2, 5, 40.0)}),
        ("phong", "644", {"TH.ger": (3, 10, 30.0), "TH.ner": (2, 10, 20.0), "TH.ger_female": (2, 8, 25.0),
                          "TH.ger_male": (1, 2, 50.0)}),
        ("so", "66", {"TH.ger": (7, 19, 36.84), "TH.ner": (6, 19, 31.58), "TH.ger_female": (4, 12, 33.33),
                      "TH.ger_male": (3, 7, 42.86)}),
    ],
)  # fmt: skip
@pytest.mark.slow
def test_enrolment_rates_over_population(rates, level, unit, expected):
    for ind, (num, den, value) in expected.items():
        assert rates[(level, unit, ind)] == (num, den, value, None, None), ind


@pytest.mark.slow
def test_gender_parity_index_keeps_both_rates_and_is_adjusted_above_one(rates):
    assert rates[("phong", "643", "TH.gpi")] == (None, None, 1.2, 50.0, 40.0)  # 1.25 → 2 − 1/1.25
    assert rates[("phong", "644", "TH.gpi")] == (None, None, 0.5, 25.0, 50.0)
    assert rates[("so", "66", "TH.gpi")] == (None, None, 0.78, 33.33, 42.86)


@pytest.mark.slow
def test_rates_only_for_units_with_population_and_the_form(rates):
    population_ids = {"TH.ger", "TH.ner", "TH.ger_female", "TH.ger_male", "TH.gpi"}
    units = {(lv, u) for (lv, u, ind) in rates if ind in population_ids}
    assert units == {("phong", "643"), ("phong", "644"), ("so", "66")}  # not 645 (no school), not schools
    assert not [k for k in rates if k[2].startswith(("THCS.", "THPT.", "1106", "1206"))]
    assert rates[("so", "66", "2105")] == (7, None, 7, None, None)  # the other indicators are unchanged


@pytest.mark.slow
def test_a_run_without_population_has_no_population_rates(tmp_path, monkeypatch):
    monkeypatch.setenv("EDUSTAT_PSEUDONYM_KEY", "test-key-not-secret")
    assert cli.main(_province(tmp_path)) == 0
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ids = {r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicators").fetchall()}
    assert "2105" in ids
    assert not ids & {"TH.ger", "TH.ner", "TH.gpi"}


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (("huyen", "643", 2024, 6, "01", 5), ["dòng / line 2", "level", "phong hoặc so", "unknown level"]),
        (("phong", "643", 2024, 6, "01", "năm"), ["population", "không phải số", "not a non-negative whole number"]),
        (("phong", "643", "2024a", 6, "01", 5), ["year", "not a non-negative whole number"]),
        (("phong", "643", 2024, 30, "01", 5), ["age", "tuổi phải từ 0 đến 25", "age must be 0 to 25"]),
        (("so", "66", 2024, 6, "3", 5), ["sex", "01 (nam)", "sex must be 01 (male) or 02 (female)"]),
    ],
)  # fmt: skip
def test_a_bad_population_file_is_refused_with_a_bilingual_message(tmp_path, capsys, row, words):
    path = write_population(tmp_path / "population.csv", [row])
    with pytest.raises(population_file.PopulationError) as exc:
        population_file.read_population(path)
    for word in words:
        assert word in str(exc.value)
    args = _province(tmp_path)
    assert cli.main([*args, "--population", str(path)]) == 2
    assert words[-1] in capsys.readouterr().err


def test_a_population_file_without_its_columns_is_refused(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("unit_code,age,population\n643,6,5\n", encoding="utf-8")
    with pytest.raises(population_file.PopulationError, match="thiếu cột / missing columns level, year, sex"):
        population_file.read_population(path)


def test_generated_population_is_by_phong_age_and_sex_and_sums_to_the_so(tmp_path):
    generate.generate_province("66", "2024-2025", "DN", 12, 7, tmp_path)
    rows = population_file.read_population(tmp_path / "population.csv")  # the file passes its own checks
    phongs = {u for lv, u, *_ in rows if lv == "phong"}
    assert phongs and {u for lv, u, *_ in rows if lv == "so"} == {"66"}
    for unit in phongs:
        assert {(age, sex) for lv, u, _, age, sex, _ in rows if u == unit} == {
            (age, sex) for age in range(26) for sex in ("01", "02")
        }
    so = {(age, sex): n for lv, _, _, age, sex, n in rows if lv == "so"}
    for key, n in so.items():
        assert n == sum(m for lv, _, _, age, sex, m in rows if lv == "phong" and (age, sex) == key)
    assert {year for _, _, year, *_ in rows} == {2024}
    again = tmp_path / "again"
    generate.generate_province("66", "2024-2025", "DN", 12, 7, again)
    assert (again / "population.csv").read_bytes() == (tmp_path / "population.csv").read_bytes()
