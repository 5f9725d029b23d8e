"""The hierarchy through time (issue 5): both boundary versions, the 2025 merger, dated membership.

Hand-made: Đắk Lắk (old Sở 66: Phòng 643 with one school of 3 pupils, Phòng 644 with one school of
2 pupils, one upper-secondary school run by the Sở with 4) and Phú Yên (old Sở 54: Phòng 555 with
one school of 5 pupils). On 1/7/2025 both became the new Đắk Lắk (code 66, NQ 202/2025/QH15).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines import run as pipeline
from pipelines import settings, warehouse
from pipelines.catalog import hierarchy
from tests.conftest import copy_warehouse, klass, payload, pupil, school_info, write_inbox, write_registry

# 02-TH-DN row 37 "Tổng quy mô" (04-THPT-DN row 33), column T.all: a unit's pupils.
PUPILS = 37
TT25_PRIMARY = "02.DN-TH"  # 2025-26 reports under Thông tư 25/2024 (same grid, provisional)
TOTAL = (
    "SELECT value FROM cell_series WHERE school_year = ? AND period = 'DN' AND boundaries = ? AND form = ? "
    "AND level = ? AND unit_code = ? AND row_code = ? AND col_key = 'T.all'"
)


def _school(code: str, n: int, year: int, grade: int = 1, info: dict | None = None) -> dict:
    born = f"{year - grade - 5}-03-01"
    learners = [pupil(f"{code}-{i}", f"{code}-L", grade, 2 if i % 2 else 1, "01", born) for i in range(n)]
    return payload(
        code, info or school_info(code, NamHoc=year), [klass(f"{code}-L", grade)], learners, year=year
    )


def _row(code: str, so: str, phong: str | None, levels: str = "1", district: str | None = None) -> dict:
    row = {
        "MA_TRUONG": code,
        "TEN_TRUONG_HOC": f"Trường {code}",
        "CAP_HOC": levels,
        "TRANG_THAI": 1,
        "ID_SO": so,
    }
    if phong:
        row["ID_PHONG"] = phong
    if district:
        row["MA_QUAN_HUYEN"] = district
    return row


def _run(
    folder: Path, school_year: str, rows: list[dict], payloads: dict, wh: Path, boundaries: str | None = None
):
    year = int(school_year[:4])
    folder.mkdir(parents=True, exist_ok=True)
    registry = write_registry(folder / "registry.xlsx", rows)
    inbox = write_inbox(folder / "inbox", {f"{code}_{year}_1.json": p for code, p in payloads.items()})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.KEY_ENV, "test-key-not-secret")
        s = settings.resolve(school_year, "DN", registry, inbox, wh, folder / "out", run_id=folder.name,
                             processes=1, boundaries=boundaries)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return s


THPT = school_info("66000001", NamHoc=2023, MaNhomCapHoc="08", TenTruongHoc="THPT 66000001")


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """2023-2024 on the old map, one run per old province, into one warehouse."""
    root = tmp_path_factory.mktemp("boundaries")
    wh = root / "warehouse.duckdb"
    _run(root / "dak-lak", "2023-2024",
         [_row("66643001", "66", "643"), _row("66644001", "66", "644"), _row("66000001", "66", None, "3")],
         {"66643001": _school("66643001", 3, 2023), "66644001": _school("66644001", 2, 2023),
          "66000001": _school("66000001", 4, 2023, grade=10, info=THPT)}, wh)  # fmt: skip
    _run(root / "phu-yen", "2023-2024", [_row("54555001", "54", "555")],
         {"54555001": _school("54555001", 5, 2023)}, wh)  # fmt: skip
    return root, wh


def _value(wh: Path, *args) -> int | None:
    with warehouse.connect(wh) as con:
        return warehouse.scalar(con, TOTAL, list(args))


def test_the_crosswalk_places_every_old_province_once():
    crosswalk = hierarchy.province_crosswalk()
    assert len(crosswalk) == 63 and len(set(crosswalk.values())) == 34
    assert crosswalk["54"] == crosswalk["66"] == "66"  # Phú Yên into Đắk Lắk
    assert crosswalk["06"] == "19"  # Bắc Kạn into Thái Nguyên
    # The CSDL unit list writes Hà Nội's Sở as "1", the province lists as "01".
    assert hierarchy.new_province("1") == "01" and hierarchy.old_so_unit("01") == "1"


@pytest.mark.slow
def test_old_map_keeps_both_provinces_and_their_phong(merged):
    _, wh = merged
    # 02-TH-DN row 8 "Tổng số học sinh" column T: pupils of each unit.
    assert _value(wh, "2023-2024", "2024", "02-TH-DN", "phong", "643", PUPILS) == 3
    assert _value(wh, "2023-2024", "2024", "02-TH-DN", "phong", "644", PUPILS) == 2
    assert _value(wh, "2023-2024", "2024", "02-TH-DN", "so", "66", PUPILS) == 5
    assert _value(wh, "2023-2024", "2024", "02-TH-DN", "so", "54", PUPILS) == 5


@pytest.mark.slow
def test_new_map_merges_the_old_provinces(merged):
    """The 2023-24 figures of the new Đắk Lắk equal old Đắk Lắk + old Phú Yên (5 + 5 primary
    pupils); no Phòng exists on the new map; the national total is the same on both maps."""
    _, wh = merged
    assert _value(wh, "2023-2024", "2025", "02-TH-DN", "so", "66", PUPILS) == 10
    assert _value(wh, "2023-2024", "2025", "02-TH-DN", "so", "54", PUPILS) is None
    with warehouse.connect(wh) as con:
        phong = warehouse.scalar(
            con, "SELECT count(*) FROM cell_series WHERE boundaries = '2025' AND level = 'phong'"
        )
        totals = con.execute(
            "SELECT boundaries, form, value FROM cell_series WHERE level = 'bo' AND col_key = 'T.all' AND "
            "((form = '02-TH-DN' AND row_code = 37) OR (form = '04-THPT-DN' AND row_code = 33)) ORDER BY ALL"
        ).fetchall()
    assert phong == 0
    assert totals == [("2024", "02-TH-DN", 10), ("2024", "04-THPT-DN", 4),
                      ("2025", "02-TH-DN", 10), ("2025", "04-THPT-DN", 4)]  # fmt: skip


@pytest.mark.slow
def test_indicators_exist_on_both_maps(merged):
    """Pupils per class (02-TH-DN 37 / 27), one class per school: old Đắk Lắk 5 / 2 = 2.5, old Phú
    Yên 5 / 1 = 5.0; the new Đắk Lắk 10 / 3 = 3.33; the ministry 10 / 3 on both maps."""
    _, wh = merged
    with warehouse.connect(wh) as con:
        found = con.execute(
            "SELECT boundaries, level, unit_code, numerator, denominator, value FROM indicators "
            "WHERE indicator_id = '2106.2' AND level IN ('so', 'bo') ORDER BY ALL"
        ).fetchall()
    assert found == [("2024", "bo", "BO", 10, 3, 3.33), ("2024", "so", "54", 5, 1, 5.0), ("2024", "so", "66", 5, 2, 2.5),
                     ("2025", "bo", "BO", 10, 3, 3.33), ("2025", "so", "66", 10, 3, 3.33)]  # fmt: skip


@pytest.mark.slow
def test_a_run_on_the_new_boundaries_names_the_new_units(merged, tmp_path):
    """Old Đắk Lắk's 2023-24 run aggregated on the 2025 map: its schools sit under the new Sở
    directly, and the unit is named after the new province."""
    wh = copy_warehouse(merged[1], tmp_path)  # this run writes: its own copy of the merged warehouse
    s = _run(tmp_path / "dak-lak-2025", "2023-2024",
             [_row("66643001", "66", "643"), _row("66644001", "66", "644"), _row("66000001", "66", None, "3")],
             {"66643001": _school("66643001", 3, 2023), "66644001": _school("66644001", 2, 2023),
              "66000001": _school("66000001", 4, 2023, grade=10, info=THPT)}, wh, boundaries="2025")  # fmt: skip
    with warehouse.connect(wh) as con:
        units = con.execute(
            "SELECT level, unit_code, name_vi, parent_level FROM units ORDER BY ALL"
        ).fetchall()
        stored = con.execute(
            "SELECT DISTINCT boundaries, level FROM cells WHERE unit_code = '66' ORDER BY ALL"
        ).fetchall()
    assert s.boundaries == "2025"
    assert ("so", "66", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "bo") in units
    assert not [u for u in units if u[0] == "phong"]
    assert ("school", "66643001", "Trường 66643001", "so") in units
    assert stored == [("2025", "so")]  # the run replaced old Đắk Lắk's cells of the period


@pytest.mark.slow
def test_a_school_moves_phong_and_keeps_its_history(tmp_path):
    """66643001 is under Phòng 643 in 2023-24 and under 644 in 2024-25: each period uses the
    membership valid on its date, and unit_tree shows two dated intervals."""
    wh = tmp_path / "w.duckdb"
    _run(
        tmp_path / "y1",
        "2023-2024",
        [_row("66643001", "66", "643")],
        {"66643001": _school("66643001", 3, 2023)},
        wh,
    )
    _run(
        tmp_path / "y2",
        "2024-2025",
        [_row("66643001", "66", "644")],
        {"66643001": _school("66643001", 3, 2024)},
        wh,
    )
    assert _value(wh, "2023-2024", "2024", "02-TH-DN", "phong", "643", PUPILS) == 3
    assert _value(wh, "2024-2025", "2024", "02-TH-DN", "phong", "644", PUPILS) == 3
    assert _value(wh, "2024-2025", "2024", "02-TH-DN", "phong", "643", PUPILS) is None
    with warehouse.connect(wh) as con:
        tree = con.execute(
            "SELECT parent_code, valid_from, valid_to FROM unit_tree WHERE boundaries = '2024' "
            "AND unit_code = '66643001' ORDER BY valid_from"
        ).fetchall()
    assert tree == [("643", date(2023, 9, 30), date(2024, 9, 29)), ("644", date(2024, 9, 30), None)]


@pytest.mark.slow
def test_a_school_missing_from_a_later_registry_is_closed(tmp_path):
    wh = tmp_path / "w.duckdb"
    two = {"66643001": _school("66643001", 3, 2023), "66643002": _school("66643002", 1, 2023)}
    _run(
        tmp_path / "y1", "2023-2024", [_row("66643001", "66", "643"), _row("66643002", "66", "643")], two, wh
    )
    _run(
        tmp_path / "y2",
        "2024-2025",
        [_row("66643001", "66", "643")],
        {"66643001": _school("66643001", 3, 2024)},
        wh,
    )
    with warehouse.connect(wh) as con:
        tree = con.execute(
            "SELECT boundaries, valid_from, valid_to FROM unit_tree WHERE unit_code = '66643002' ORDER BY ALL"
        ).fetchall()
    assert tree == [
        ("2024", date(2023, 9, 30), date(2024, 9, 29)),
        ("2025", date(2023, 9, 30), date(2024, 9, 29)),
    ]


@pytest.mark.slow
def test_a_2025_registry_keeps_known_phong_and_reports_what_it_cannot_place(merged, tmp_path):
    """2025-26: the registry names the new province only (ID_SO 66, no ID_PHONG). A school seen
    under Phòng 643 before stays there on the old map; a new school of the merged province with
    no Phòng and no old province code cannot be placed on the old map and is reported."""
    wh = copy_warehouse(merged[1], tmp_path)  # this run writes: its own copy of the merged warehouse
    s = _run(tmp_path / "y2025", "2025-2026", [_row("66643001", "66", None), _row("66999001", "66", None)],
             {"66643001": _school("66643001", 3, 2025), "66999001": _school("66999001", 2, 2025)}, wh)  # fmt: skip
    assert s.boundaries == "2025"
    with warehouse.connect(wh) as con:
        problems = con.execute("SELECT school_code, outcome FROM registry_problems ORDER BY ALL").fetchall()
    assert ("66999001", "unplaced_2024") in problems
    assert _value(wh, "2025-2026", "2025", TT25_PRIMARY, "so", "66", PUPILS) == 5
    assert _value(wh, "2025-2026", "2024", TT25_PRIMARY, "phong", "643", PUPILS) == 3
    assert (
        _value(wh, "2025-2026", "2024", TT25_PRIMARY, "so", "66", PUPILS) == 3
    )  # the unplaced school is in no Sở
    assert _value(wh, "2025-2026", "2024", TT25_PRIMARY, "bo", "BO", PUPILS) == 3


def test_boundaries_default_to_the_version_in_force():
    assert settings.boundaries_on(date(2025, 5, 31)) == "2024"
    assert settings.boundaries_on(date(2025, 9, 30)) == "2025"
