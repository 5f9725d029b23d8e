"""The commune analyses of pipelines/analyst/analysis.py (communes on the 2025 map) on a tiny hand-made
province, held as the contract views they read (form_cells, unit_hierarchy, as tables with the
contract's columns). The start of 2024-2025, aggregated on the 2024 boundaries (the school cells are
stored on '2024'), read on the 2025 map, where Sở 66 has two communes:

- Phường Tân Lập (24121): Trường Mầm non Hoa Sen (MN1: one trường mầm non, 2 nhóm trẻ and 4 lớp mẫu
  giáo, 30 + 110 children, 12 teachers) and Trường Tiểu học Hòa Bình (TH1: 10 classes, 300 pupils,
  15 teachers). No lower-secondary school.
- Xã Cuôr Đăng (24301): Trường PTCS Cuôr Đăng (PTCS: primary and lower secondary, counted once as a
  THCS school; primary 5 classes, 140 pupils, 8 teachers; lower secondary 4 classes, 150 pupils, 10
  teachers). No preschool.
- Straight to the Sở: Trường Phổ thông nhiều cấp Ea Tam (PT123, up to upper secondary, so the Sở's:
  primary 2 classes, 60 pupils, 4 teachers; lower secondary 3 classes, 100 pupils, 6 teachers), and
  Trường Tiểu học Ea Drông (TH9: a primary school of a split commune awaiting review, so straight to
  the Sở for now; 3 classes, 100 pupils, 5 teachers).

The placement on 30/9/2024: MN1 stood in Cuôr Đăng until 15/9/2024 and in Tân Lập since (Tân Lập);
TH1 is first listed on 5/10/2024 (its first interval counts: Tân Lập).

Worked by hand (primary): Tân Lập 300 pupils / 10 classes = 30.0, Cuôr Đăng 140 / 5 = 28.0, the Sở
(300 + 140 + 60 + 100) / (10 + 5 + 2 + 3) = 600 / 20 = 30.0; pupils per teacher 300 / 15 = 20.0,
140 / 8 = 17.5, the Sở 600 / (15 + 8 + 4 + 5) = 600 / 32 = 18.75; share of the Sở's pupils
300 / 600 = 50 %, 140 / 600 = 23.33 % (the rest in PT123 and TH9). Lower secondary: Cuôr Đăng
150 / 250 = 60 % of the Sở's pupils.
"""

from __future__ import annotations

import math

import duckdb
import pytest

from pipelines.analyst import analysis

YEAR = "2024-2025"
TAN_LAP, CUOR_DANG = "24121", "24301"


def _school_cells(boundaries: str) -> list[tuple]:
    rows = {
        "MN1": [("01-MN-DN", 33, "T", 1), ("01-MN-DN", 56, "T", 2), ("01-MN-DN", 69, "T", 4),
                ("01-MN-DN", 84, "T.all", 30), ("01-MN-DN", 90, "T.all", 110), ("01-MN-DN", 167, "T.all", 12),
                ("01-MN-DN", 84, "T.female", 14)],
        "TH1": [("02-TH-DN", 1, "T", 1), ("02-TH-DN", 27, "T", 10), ("02-TH-DN", 37, "T.all", 300),
                ("02-TH-DN", 96, "T.all", 15), ("02-TH-DN", 37, "CL.all", 300)],
        "PTCS": [("02-TH-DN", 135, "T", 1), ("02-TH-DN", 27, "T", 5), ("02-TH-DN", 37, "T.all", 140),
                 ("02-TH-DN", 96, "T.all", 8), ("03-THCS-DN", 1, "T", 1), ("03-THCS-DN", 24, "T", 4),
                 ("03-THCS-DN", 33, "T.all", 150), ("03-THCS-DN", 89, "T.all", 10)],
        "PT123": [("02-TH-DN", 135, "T", 1), ("02-TH-DN", 27, "T", 2), ("02-TH-DN", 37, "T.all", 60),
                  ("02-TH-DN", 96, "T.all", 4), ("03-THCS-DN", 132, "T", 1), ("03-THCS-DN", 24, "T", 3),
                  ("03-THCS-DN", 33, "T.all", 100), ("03-THCS-DN", 89, "T.all", 6), ("04-THPT-DN", 1, "T", 1),
                  ("04-THPT-DN", 33, "T.all", 400)],
        "TH9": [("02-TH-DN", 1, "T", 1), ("02-TH-DN", 27, "T", 3), ("02-TH-DN", 37, "T.all", 100),
                ("02-TH-DN", 96, "T.all", 5)],
    }  # fmt: skip
    return [(YEAR, "DN", form, boundaries, "school", school, row, col, value)
            for school, cells in rows.items() for form, row, col, value in cells]  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("communes") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE form_cells (school_year VARCHAR, period VARCHAR, form VARCHAR, boundaries VARCHAR,
            level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR, value BIGINT);
        CREATE TABLE unit_hierarchy (boundaries VARCHAR, level VARCHAR, unit_code VARCHAR, name_vi VARCHAR,
            parent_level VARCHAR, parent_code VARCHAR, valid_from DATE, valid_to DATE);
        INSERT INTO unit_hierarchy VALUES
            ('2025', 'so', '66', 'Sở GDĐT Đắk Lắk', 'bo', 'BO', DATE '2025-07-01', NULL),
            ('2025', 'so', '01', 'Sở GDĐT Hà Nội', 'bo', 'BO', DATE '2025-07-01', NULL),
            ('2025', 'commune', '24121', 'Phường Tân Lập', 'so', '66', DATE '2025-07-01', NULL),
            ('2025', 'commune', '24301', 'Xã Cuôr Đăng', 'so', '66', DATE '2025-07-01', NULL),
            ('2025', 'commune', '00097', 'Phường Hồng Hà', 'so', '01', DATE '2025-07-01', NULL),
            ('2025', 'school', 'MN1', 'Trường Mầm non Hoa Sen', 'commune', '24301', DATE '2023-09-30', DATE '2024-09-15'),
            ('2025', 'school', 'MN1', 'Trường Mầm non Hoa Sen', 'commune', '24121', DATE '2024-09-15', NULL),
            ('2025', 'school', 'TH1', 'Trường Tiểu học Hòa Bình', 'commune', '24121', DATE '2024-10-05', NULL),
            ('2025', 'school', 'PTCS', 'Trường PTCS Cuôr Đăng', 'commune', '24301', DATE '2024-09-01', NULL),
            ('2025', 'school', 'PT123', 'Trường Phổ thông nhiều cấp Ea Tam', 'so', '66', DATE '2024-09-01', NULL),
            ('2025', 'school', 'TH9', 'Trường Tiểu học Ea Drông', 'so', '66', DATE '2024-09-01', NULL),
            -- the 2024 boundaries: Phòng, no communes (not read by the commune analyses)
            ('2024', 'school', 'TH1', 'Trường Tiểu học Hòa Bình', 'phong', '643', DATE '2024-10-05', NULL);
    """)  # fmt: skip
    con.executemany("INSERT INTO form_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _school_cells("2024"))
    # Cells that must not count: the Phòng's and Sở's sums of the same schools, the same period
    # re-aggregated on 2025 (fewer cells: the run's version is the one with most cells), last year.
    con.executemany("INSERT INTO form_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        (YEAR, "DN", "02-TH-DN", "2024", "phong", "643", 37, "T.all", 440),
        (YEAR, "DN", "02-TH-DN", "2024", "so", "66", 37, "T.all", 500),
        (YEAR, "DN", "02-TH-DN", "2025", "school", "TH1", 37, "T.all", 300),
        (YEAR, "DN", "02-TH-DN", "2025", "commune", TAN_LAP, 37, "T.all", 300),
        ("2023-2024", "DN", "02-TH-DN", "2024", "school", "TH1", 37, "T.all", 280),
    ])  # fmt: skip
    con.close()
    return path


@pytest.fixture()
def con(warehouse):
    con = analysis.connect(warehouse)
    yield con
    con.close()


def _profile(con) -> dict[tuple[str, str], tuple[int, ...]]:
    df = analysis.commune_profile(con, YEAR)
    cols = ["schools", "multi_level_schools", "schools_teaching", "classes", "learners", "teachers"]
    return {(r.commune_code, r.level): tuple(int(getattr(r, c)) for c in cols) for r in df.itertuples()}


def test_each_commune_of_the_so_has_every_level_it_manages_with_its_schools_classes_learners_teachers(con):
    assert _profile(con) == {
        # (schools, multi-level schools, schools teaching the level, classes, learners, teachers)
        (TAN_LAP, "preschool"): (1, 0, 1, 6, 140, 12),
        (TAN_LAP, "primary"): (1, 0, 1, 10, 300, 15),
        (TAN_LAP, "lower_secondary"): (0, 0, 0, 0, 0, 0),
        (CUOR_DANG, "preschool"): (0, 0, 0, 0, 0, 0),
        (CUOR_DANG, "primary"): (0, 1, 1, 5, 140, 8),  # the PTCS school is counted once, as a THCS school
        (CUOR_DANG, "lower_secondary"): (1, 0, 1, 4, 150, 10),
    }
    df = analysis.commune_profile(con, YEAR)
    assert list(df["commune_code"]) == [TAN_LAP] * 3 + [CUOR_DANG] * 3  # Hà Nội's commune is not 66's
    assert list(df["level"][:3]) == ["preschool", "primary", "lower_secondary"]
    assert set(df["commune_name"]) == {"Phường Tân Lập", "Xã Cuôr Đăng"} and set(df["so_code"]) == {"66"}


def test_the_so_holds_every_school_and_its_communes_all_but_those_reporting_straight_to_it(con):
    df = analysis.commune_figures(con, YEAR)
    so = df[df["unit_level"] == "so"].set_index("level")
    assert so.loc["primary", ["schools", "multi_level_schools", "classes", "learners", "teachers"]].tolist() == [
        2, 2, 20, 600, 32]  # fmt: skip
    assert so.loc["lower_secondary", ["schools", "multi_level_schools", "learners"]].tolist() == [1, 1, 250]
    communes = df[df["unit_level"] == "commune"].groupby("level")["learners"].sum()
    assert so.loc["primary", "learners"] - communes["primary"] == 160  # PT123 and TH9, straight to the Sở
    assert so.loc["preschool", "learners"] == communes["preschool"] == 140


def test_commune_indicators_carry_their_numerator_and_denominator(con):
    df = analysis.commune_indicators(con, YEAR).set_index(["unit_code", "level", "indicator"])

    def got(unit, level, indicator):
        r = df.loc[(unit, level, indicator)]
        return int(r["numerator"]), int(r["denominator"]), r["value"]

    assert got(TAN_LAP, "primary", "pupils_per_class") == (300, 10, 30.0)
    assert got(CUOR_DANG, "primary", "pupils_per_class") == (140, 5, 28.0)
    assert got("66", "primary", "pupils_per_class") == (600, 20, 30.0)
    assert got("66", "primary", "pupils_per_teacher") == (600, 32, 18.75)
    assert got(CUOR_DANG, "primary", "pupils_per_teacher") == (140, 8, 17.5)
    assert got(TAN_LAP, "primary", "learner_share") == (300, 600, 50.0)
    assert got(CUOR_DANG, "primary", "learner_share")[:2] == (140, 600)
    assert got(CUOR_DANG, "primary", "learner_share")[2] == pytest.approx(23.33, abs=0.005)
    assert got(CUOR_DANG, "lower_secondary", "learner_share") == (150, 250, 60.0)
    assert got(TAN_LAP, "preschool", "pupils_per_class") == (140, 6, pytest.approx(140 / 6))
    numerator, denominator, value = got(TAN_LAP, "lower_secondary", "pupils_per_class")
    assert (numerator, denominator) == (0, 0) and math.isnan(value)  # no class: not computable, not 0


def test_communes_ranked_against_the_so(con):
    df = analysis.commune_ranking(con, "pupils_per_class", YEAR, "primary")
    cols = ["rank", "commune_code", "value", "numerator", "denominator", "vs_so"]
    rows = [tuple(r) for r in df[cols].itertuples(index=False)]
    assert rows == [(1, TAN_LAP, 30.0, 300, 10, 0.0), (2, CUOR_DANG, 28.0, 140, 5, -2.0)]  # the Sở: 30.0
    teachers = analysis.commune_ranking(con, "pupils_per_teacher", YEAR, "primary")
    assert list(teachers["commune_code"]) == [TAN_LAP, CUOR_DANG] and list(teachers["vs_so"]) == [1.25, -1.25]
    # Lower secondary: Tân Lập has no class, so it is not ranked (rather than ranked last at 0).
    assert list(analysis.commune_ranking(con, "pupils_per_class", YEAR, "lower_secondary")["commune_code"]) == [
        CUOR_DANG]  # fmt: skip
    with pytest.raises(ValueError, match="no commune indicator"):
        analysis.commune_ranking(con, "2106.2", YEAR)


def test_communes_with_no_school_of_a_level_they_manage(con):
    df = analysis.communes_without_school(con, YEAR)
    assert [tuple(r) for r in df[["commune_code", "level", "learners"]].itertuples(index=False)] == [
        (TAN_LAP, "lower_secondary", 0), (CUOR_DANG, "preschool", 0)]  # fmt: skip


def test_a_school_the_commune_should_manage_but_reporting_straight_to_the_so_is_listed(con):
    df = analysis.communes_unplaced(con, YEAR)
    # TH9 fills only a commune level's form; PT123 fills 04-THPT-DN too, so it is the Sở's own.
    assert [tuple(r) for r in df[["so_code", "school_code", "school_name", "forms"]].itertuples(index=False)] == [
        ("66", "TH9", "Trường Tiểu học Ea Drông", "02-TH-DN")]  # fmt: skip


# --- a run on the 2025 map: the analyses agree with the run's own commune cells ------------------

TH, PTCS, THPT, SPLIT = "66643401", "66643402", "66000404", "66643405"


@pytest.fixture(scope="module")
def run_on_2025_map(tmp_path_factory):
    """The start of 2024-2025 run from the files on the 2025 boundaries. The registry (of 2024) gives
    old communes that went whole into a new one: TH's Phường Tân Lập (24118) into Phường Tân Lập
    (24121), PTCS's Phường Thành Nhất (24130) into Phường Thành Nhất (24154); SPLIT's Xã Ea D'Rơng
    (24292) was split between two communes, so SPLIT reports straight to the Sở; the THPT school is
    the Sở's. TH: classes 1A, 1B, three pupils; PTCS (group 09): classes 1A and 6A, one pupil in
    grade 1 and two in grade 6; SPLIT: one class, one pupil; THPT: one class, one pupil."""
    from pipelines import run as pipeline
    from pipelines import settings as settings_mod
    from tests.conftest import klass, payload, pupil, school_info, write_inbox, write_registry

    tmp = tmp_path_factory.mktemp("communes_2025")
    registry = write_registry(tmp / "registry.xlsx", [
        {"MA_TRUONG": TH, "TEN_TRUONG_HOC": "Trường Tiểu học Hòa Bình", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24118"},
        {"MA_TRUONG": PTCS, "TEN_TRUONG_HOC": "Trường PTCS Thành Nhất", "CAP_HOC": "12", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24130"},
        {"MA_TRUONG": THPT, "TEN_TRUONG_HOC": "Trường THPT Tân An", "CAP_HOC": "3", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24124"},
        {"MA_TRUONG": SPLIT, "TEN_TRUONG_HOC": "Trường Tiểu học Ea Drông", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24292"},
    ])  # fmt: skip
    inbox = write_inbox(tmp / "inbox", {
        f"{TH}.json": payload(TH, school_info(TH), [klass("1A", 1), klass("1B", 1)], [
            pupil("a1", "1A", 1, 2, "01", "2018-02-02"), pupil("a2", "1A", 1, 1, "01", "2018-03-03"),
            pupil("a3", "1B", 1, 2, "01", "2018-04-04")]),
        f"{PTCS}.json": payload(PTCS, school_info(PTCS, MaNhomCapHoc="09"), [klass("1A", 1), klass("6A", 6)], [
            pupil("b1", "1A", 1, 1, "01", "2018-01-01"), pupil("b2", "6A", 6, 1, "01", "2013-01-01"),
            pupil("b3", "6A", 6, 2, "01", "2013-05-05")]),
        f"{SPLIT}.json": payload(SPLIT, school_info(SPLIT), [klass("1A", 1)],
                                 [pupil("d1", "1A", 1, 1, "01", "2018-06-06")]),
        f"{THPT}.json": payload(THPT, school_info(THPT, MaNhomCapHoc="08"), [klass("10A", 10)],
                                [pupil("c1", "10A", 10, 2, "01", "2009-01-01")]),
    })  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve(YEAR, "DN", registry, inbox, tmp / "warehouse.duckdb", tmp / "out",
                                 run_id="test-run", processes=1, boundaries="2025")  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return s.warehouse


@pytest.mark.slow  # runs the pipeline
def test_on_a_run_on_the_2025_map_the_commune_figures_are_the_runs_commune_cells(run_on_2025_map):
    from pipelines.catalog.analysis import commune_cells

    con = analysis.connect(run_on_2025_map)
    try:
        profile = _profile(con)
        # (schools, multi-level schools, schools teaching the level, classes, learners, teachers)
        assert profile[("24121", "primary")][:5] == (1, 0, 1, 2, 3)
        assert profile[("24154", "primary")][:5] == (0, 1, 1, 1, 1)  # the PTCS school counts as THCS
        assert profile[("24154", "lower_secondary")][:5] == (1, 0, 1, 1, 2)
        assert profile[("24121", "lower_secondary")] == (0,) * 6
        # SPLIT is the Sở's until its commune is settled: in the Sở's primary pupils, listed as unplaced.
        so = analysis.commune_figures(con, YEAR).query("unit_level == 'so' and level == 'primary'")
        assert so["learners"].tolist() == [3 + 1 + 1]
        assert analysis.communes_unplaced(con, YEAR)["school_code"].tolist() == [SPLIT]
        # Every figure equals the sum of the run's own commune and Sở cells of the same rows.
        figures = analysis.commune_figures(con, YEAR)
        for lv in commune_cells().levels:
            for measure in ("schools", "multi_level_schools", "classes", "learners", "teachers"):
                rows = [(r, c) for m, r, c in lv.cells if m == measure]
                cells = dict(con.execute(
                    "SELECT unit_code, sum(value) FROM form_cells WHERE school_year = ? AND period = 'DN' AND form = ?"
                    " AND boundaries = '2025' AND level IN ('commune', 'so')"
                    " AND (row_code, col_key) IN (SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[])) GROUP BY 1",
                    [YEAR, lv.form, [r for r, _ in rows], [c for _, c in rows]],
                ).fetchall())  # fmt: skip
                mine = figures[figures["level"] == lv.level].set_index("unit_code")[measure]
                assert {u: int(v) for u, v in mine.items() if v} == {u: int(v) for u, v in cells.items() if v}, (
                    lv.level, measure)  # fmt: skip
    finally:
        con.close()
