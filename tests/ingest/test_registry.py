"""The registry as real ones arrive: floats, lost zeros, missing ID_PHONG, duplicates, test schools."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import ingest, warehouse
from pipelines.ingest import ledger as ingest_ledger
from tests.conftest import write_registry

SO = "66"  # Sở GDĐT Đắk Lắk; Phòng 643 (Buôn Ma Thuột) and 644 (Buôn Hồ) are under it.


@pytest.fixture
def registry(tmp_path):
    rows = [
        {"MA_TRUONG": "66643001", "TEN_TRUONG_HOC": "TH float codes", "CAP_HOC": 1.0, "TRANG_THAI": 1.0,
         "ID_SO": 66.0, "ID_PHONG": 643.0, "MA_QUAN_HUYEN": 643},
        {"MA_TRUONG": "66644001", "TEN_TRUONG_HOC": "TH no Phòng", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": "644"},
        {"MA_TRUONG": "66000001", "TEN_TRUONG_HOC": "THPT run by the Sở", "CAP_HOC": "3", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": "643"},
        {"MA_TRUONG": "66643002", "TEN_TRUONG_HOC": "TH unknown Phòng", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "19"},
        {"MA_TRUONG": "66643001", "TEN_TRUONG_HOC": "TH listed twice", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "644"},
        {"MA_TRUONG": "66643999", "TEN_TRUONG_HOC": "Trường TEST nhập liệu", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": "01001001", "TEN_TRUONG_HOC": "TH lost zero", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": 43},
    ]  # fmt: skip
    return ingest.read_registry(write_registry(tmp_path / "registry.xlsx", rows))


def test_float_cells_become_codes(registry):
    school = registry.schools["66643001"]
    assert (school.levels, school.so_code, school.phong_code) == ("1", SO, "643")


def test_a_school_without_id_phong_is_placed_by_its_district_and_reported(registry):
    assert registry.schools["66644001"].phong_code == "644"
    outcomes = {p.school_code: p.outcome for p in registry.problems}
    assert outcomes["66644001"] == "placed_by_district"


def test_an_upper_secondary_school_reports_to_the_so_without_a_problem(registry):
    assert registry.schools["66000001"].phong_code is None
    assert "66000001" not in {p.school_code for p in registry.problems}


def test_a_phong_of_another_so_sends_the_school_to_its_so(registry):
    # Code 19 is a Phòng of Hà Nội (and the Sở of Thái Nguyên), not a Phòng of Sở 66.
    assert registry.schools["66643002"].phong_code is None
    assert {p.outcome for p in registry.problems if p.school_code == "66643002"} == {"placed_under_so"}


def test_duplicates_test_schools_and_lost_zeros(registry):
    outcomes = [(p.school_code, p.outcome) for p in registry.problems]
    assert ("66643001", "duplicate_ignored") in outcomes
    assert ("66643999", "skipped") in outcomes
    assert "66643999" not in registry.schools
    assert registry.schools["66643001"].name == "TH float codes"  # the first row is kept
    assert registry.schools["01001001"].district_code == "043"
    # District 043 has no Phòng under Sở 66: the school reports straight to the Sở.
    assert registry.schools["01001001"].phong_code is None


def test_unit_tree_names_units_by_type(registry, tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest.load_units(con, registry)
        units = {
            (lv, code): (name, plv, pcode)
            for lv, code, name, plv, pcode in con.execute("SELECT * FROM units").fetchall()
        }
    assert units[("so", SO)] == ("Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "bo", "BO")
    assert units[("phong", "643")][1:] == ("so", SO)
    assert units[("school", "66643001")][1:] == ("phong", "643")
    assert units[("school", "66000001")][1:] == ("so", SO)


def test_an_unreadable_registry_is_a_clear_error(tmp_path):
    bad = tmp_path / "registry.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(ingest.RegistryError, match="registry"):
        ingest.read_registry(bad)


# --- the registry as the national database exports it: every row to one outcome -----------------


def _row(code, **over):
    row = {"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường {code}", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": SO,
           "ID_PHONG": "643"}  # fmt: skip
    row.update(over)
    return row


def _rewrite(path, member, change):
    """Rewrite one part of an .xlsx (a zip) with change(text) → text."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    parts[member] = change(parts[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _outcomes(reg):
    return {r.excel_row: (r.school_code, r.outcome, r.reason) for r in reg.rows}


def test_a_stale_declared_dimension_loses_no_row(tmp_path):
    # Real exports declare A1:AB6 while holding 40 rows: openpyxl's read-only mode read 2 schools.
    rows = [_row(f"666430{i:02d}") for i in range(40)]
    path = write_registry(tmp_path / "registry.xlsx", rows)
    _rewrite(
        path,
        "xl/worksheets/sheet1.xml",
        lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:AB6"', x),
    )
    reg = ingest.read_registry(path)
    assert len(reg.schools) == 40 and len(reg.rows) == 40


def test_a_missing_required_column_is_named(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, name in enumerate(("MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "ID_SO", "ID_PHONG"), start=1):
        ws.cell(4, i, name)
        ws.cell(5, i, {"MA_TRUONG": "66643001", "ID_SO": SO, "ID_PHONG": "643"}.get(name, "1"))
    wb.save(tmp_path / "registry.xlsx")
    with pytest.raises(ingest.RegistryError, match="TRANG_THAI"):
        ingest.read_registry(tmp_path / "registry.xlsx")


def test_every_row_has_one_stated_outcome(tmp_path):
    rows = [
        _row("66643001"),                                   # row 5: counted
        _row("66643001", TEN_TRUONG_HOC="Bản sao"),          # row 6: the second row of a code
        _row("66643002", TRANG_THAI=2),                     # row 7: not active
        _row("66643003", TEN_TRUONG_HOC="Trường THỬ NGHIỆM"),  # row 8: a test school
        {},                                                 # row 9: an empty row between rows
        _row("79760001", ID_SO="79", ID_PHONG="760"),       # row 10: another province
        _row(None, TEN_TRUONG_HOC="Không có mã"),           # row 11: no code
        _row("66643004", ID_SO="999"),                      # row 12: an unknown Sở
        _row("66643005"),                                   # row 13: counted
    ]  # fmt: skip
    reg = ingest.read_registry(write_registry(tmp_path / "registry.xlsx", rows))
    got = _outcomes(reg)
    assert got == {
        5: ("66643001", "counted", None),
        6: ("66643001", "rejected", "registry.duplicate"),
        7: ("66643002", "not_expected", "registry.inactive"),
        8: ("66643003", "not_expected", "registry.test_school"),
        9: (None, "not_read", "registry.blank_row"),
        10: ("79760001", "not_expected", "registry.other_province"),
        11: (None, "rejected", "registry.no_code"),
        12: ("66643004", "rejected", "registry.unknown_so"),
        13: ("66643005", "counted", None),
    }
    duplicate = next(r for r in reg.rows if r.excel_row == 6)
    assert "5" in duplicate.message_vi and "row 5" in duplicate.message_en  # the row that wins is named
    elsewhere = next(r for r in reg.rows if r.excel_row == 10)
    assert "79" in elsewhere.message_en and SO in elsewhere.message_en  # both provinces named
    assert set(reg.schools) == {"66643001", "66643005"}
    assert reg.schools["66643001"].name == "Trường 66643001"  # the first usable row wins


def test_trailing_empty_rows_are_no_input(tmp_path):
    path = write_registry(tmp_path / "registry.xlsx", [_row("66643001")])
    wb = openpyxl.load_workbook(path)
    wb.active.cell(400, 3, "")  # a formatted, empty cell far below
    wb.save(path)
    assert [r.excel_row for r in ingest.read_registry(path).rows] == [5]


def test_the_registry_sheet_is_found_behind_a_hidden_sheet(tmp_path):
    path = write_registry(tmp_path / "registry.xlsx", [_row("66643001"), _row("66643002")])
    wb = openpyxl.load_workbook(path)
    notes = wb.create_sheet("Ghi chu", 0)
    notes["A1"] = "Hướng dẫn nhập"
    notes.sheet_state = "hidden"
    wb.save(path)
    assert set(ingest.read_registry(path).schools) == {"66643001", "66643002"}


def test_a_header_of_two_rows_with_merged_cells_is_read(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "DANH SÁCH TRƯỜNG"
    ws.merge_cells("A1:F1")
    names = ("MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "TRANG_THAI", "ID_SO", "ID_PHONG")
    for i, name in enumerate(names, start=1):
        ws.cell(3 if name != "ID_PHONG" else 2, i, name)  # ID_PHONG named in the merged row above
    ws.merge_cells("F2:F3")
    for i, v in enumerate(("66643001", "Trường A", "1", 1, SO, "643"), start=1):
        ws.cell(4, i, v)
    wb.save(tmp_path / "registry.xlsx")
    reg = ingest.read_registry(tmp_path / "registry.xlsx")
    assert reg.schools["66643001"].phong_code == "643"


def test_a_registry_that_is_a_zip_bomb_is_refused_before_it_is_read(tmp_path):
    path = write_registry(tmp_path / "registry.xlsx", [_row("66643001")])
    pad = "<!--" + "0" * 30_000_000 + "-->"
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda x: x.replace("<sheetData>", pad + "<sheetData>", 1))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ingest.RegistryError, match="EDUSTAT_MAX_COMPRESSION_RATIO"):
        ingest.read_registry(path)


def test_xml_entities_are_not_expanded(tmp_path):
    path = write_registry(tmp_path / "registry.xlsx", [_row("66643001", TEN_TRUONG_HOC="LAUGHS")])
    laughs = '<!DOCTYPE worksheet [<!ENTITY a "' + "ha" * 50 + '">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8)) + "]>"  # fmt: skip

    def bomb(xml: str) -> str:
        assert "LAUGHS" in xml
        xml = xml.replace("LAUGHS", "&i;")
        return xml.replace("?>", "?>" + laughs, 1) if xml.startswith("<?xml") else laughs + xml

    _rewrite(path, "xl/worksheets/sheet1.xml", bomb)
    try:
        reg = ingest.read_registry(path)
    except ingest.RegistryError:
        return  # refused: fine
    assert all(len(s.name) < 1_000 for s in reg.schools.values())  # 10^8 characters were asked for


def test_a_registry_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("EDUSTAT_MAX_REGISTRY_ROWS", "3")
    path = write_registry(tmp_path / "registry.xlsx", [_row(f"666430{i:02d}") for i in range(5)])
    with pytest.raises(ingest.RegistryError, match="EDUSTAT_MAX_REGISTRY_ROWS"):
        ingest.read_registry(path)


def test_codes_as_floats_and_a_header_in_the_first_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, (name, v) in enumerate((("MA_TRUONG", 66643001.0), ("TEN_TRUONG_HOC", "A"), ("CAP_HOC", 1.0),
                                   ("TRANG_THAI", 1.0), ("ID_SO", 66.0), ("ID_PHONG", 643.0)), start=1):  # fmt: skip
        ws.cell(1, i, name)
        ws.cell(2, i, v)
    wb.save(tmp_path / "registry.xlsx")
    reg = ingest.read_registry(tmp_path / "registry.xlsx")
    assert [(r.excel_row, r.school_code, r.outcome) for r in reg.rows] == [(2, "66643001", "counted")]


_cell = st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 10**9), st.floats(allow_nan=True),
                  st.sampled_from(["66643001", "66", "643", "1", "0", "TEST", "", " "]))  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({k: _cell for k in ("MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "TRANG_THAI",
                                                          "ID_SO", "ID_PHONG", "MA_QUAN_HUYEN")}), max_size=12))  # fmt: skip
def test_random_registry_rows_each_get_one_outcome(tmp_path, rows):
    rows = [_row("66643900")] + [{k: v for k, v in r.items() if v is not None} for r in rows]
    for r in rows:
        for k, v in r.items():
            if isinstance(v, str):  # cells hold no control characters
                r[k] = re.sub(r"[\x00-\x1f\ud800-\udfff]", "", v)
    reg = ingest.read_registry(write_registry(tmp_path / "random.xlsx", rows))
    numbers = [r.excel_row for r in reg.rows]
    assert numbers == list(range(5, 5 + len(numbers)))  # every row from the first to the last listed once
    assert {r.outcome for r in reg.rows} <= {"counted", "rejected", "not_expected", "not_read"}
    assert all(r.reason and r.message_vi and r.message_en for r in reg.rows if r.outcome != "counted")
    assert {r.school_code for r in reg.rows if r.outcome == "counted"} == set(reg.schools)


def _as_xls(xlsx: Path, folder: Path) -> Path:
    """The workbook saved as real BIFF8 .xls by LibreOffice (its own profile: no clash with another
    soffice running on the machine)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: the .xls registry is made with it at test time")
    profile = (folder / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "xls",
                    "--outdir", str(folder), str(xlsx)], check=True, capture_output=True, timeout=180)  # fmt: skip
    return folder / f"{xlsx.stem}.xls"


@pytest.mark.slow
def test_a_registry_saved_as_xls_is_read_like_the_xlsx(tmp_path):
    """The national database's older exports are .xls (BIFF). Codes there are numbers (66 not "66",
    lost leading zeros) as in any spreadsheet; every row keeps its one outcome."""
    rows = [
        _row("66643001", ID_SO=66, ID_PHONG=643, CAP_HOC=1),  # row 5: counted, numbers as codes
        _row("66643002", TEN_TRUONG_HOC="Trường Tiểu học Hòa Thắng"),  # row 6: counted, Vietnamese name
        _row("66643002", TEN_TRUONG_HOC="Bản sao"),  # row 7: the second row of a code
        _row("66643003", TRANG_THAI=0),  # row 8: not active
        _row("66000001", CAP_HOC="3", ID_PHONG=None),  # row 9: upper secondary, straight to the Sở
        _row("79760001", ID_SO="79", ID_PHONG="760"),  # row 10: another province
    ]  # fmt: skip
    xlsx = write_registry(tmp_path / "registry.xlsx", rows)
    xls = _as_xls(xlsx, tmp_path / "xls")
    assert xls.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # an OLE2 compound file: BIFF, not a zip
    reg = ingest.read_registry(xls)
    assert _outcomes(reg) == {
        5: ("66643001", "counted", None),
        6: ("66643002", "counted", None),
        7: ("66643002", "rejected", "registry.duplicate"),
        8: ("66643003", "not_expected", "registry.inactive"),
        9: ("66000001", "counted", None),
        10: ("79760001", "not_expected", "registry.other_province"),
    }
    placed = {c: (s.name, s.levels, s.so_code, s.phong_code) for c, s in reg.schools.items()}
    assert placed == {
        "66643001": ("Trường 66643001", "1", SO, "643"),
        "66643002": ("Trường Tiểu học Hòa Thắng", "1", SO, "643"),
        "66000001": ("Trường 66000001", "3", SO, None),
    }
    # The ledger names the .xls as the rows' source, each row once.
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest_ledger.record_registry(con, reg, "xls-run", "2024-2025", "DN")
        ledger = con.execute(
            "SELECT source, position, outcome FROM input_ledger ORDER BY position::INTEGER"
        ).fetchall()
    assert ledger == [
        ("registry.xls", str(row), outcome) for row, (_, outcome, _) in sorted(_outcomes(reg).items())
    ]
    # The same workbook as .xlsx gives the same outcomes and places.
    same = ingest.read_registry(xlsx)
    assert _outcomes(same) == _outcomes(reg)
    assert {c: (s.name, s.levels, s.so_code, s.phong_code) for c, s in same.schools.items()} == placed
