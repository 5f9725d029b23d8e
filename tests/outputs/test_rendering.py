"""Every kind of workbook as a statistician prints it: LibreOffice (headless) turns it into a PDF, and
the PDF must be on A4 or A3, with no text under 8 pt, a sensible number of pages, the form code in
every page's header, "Trang N / M" in every footer, and the signature block on the last page of each
form sheet. Skipped (with the reason) where LibreOffice is not installed."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines import catalog
from pipelines.outputs import errors, render
from pipelines.outputs.completeness import write_completeness
from pipelines.outputs.workbook import UnitHeader, write_form_workbook
from pipelines.settings import Settings
from pipelines.warehouse import Problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(render.soffice() is None, reason="LibreOffice (soffice) is not installed"),
]

SCHOOL = UnitHeader("school", "66000101", "Trường Tiểu học Số 1", "Phòng GDĐT Huyện Ea Súp")
SO = UnitHeader("so", "66", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "Bộ Giáo dục và Đào tạo")
SIGNATURE = ("Người lập biểu", "Thủ trưởng đơn vị")
# A Sở's numbers are the widest a form prints: six digits and separators in every cell.
BIG = 123_456


def _settings(out: Path) -> Settings:
    return Settings("2024-2025", 2024, "DN", "tt24", out / "r.xlsx", out / "inbox", out / "w.duckdb", out,
                    "run-1", b"k", 1)  # fmt: skip


def _so_values(form: catalog.Form) -> dict[tuple[int, str], int]:
    return {(r.code, c.key): BIG for r in form.cell_rows for c in form.columns_for(r)}


def _page_facts(pdf: Path) -> list[render.Page]:
    pages = render.pages(pdf)
    assert pages, pdf
    for i, p in enumerate(pages, 1):
        assert p.paper in ("A4", "A3"), (pdf.name, i, p.paper)
        assert p.smallest_font is not None and p.smallest_font >= 8.0 - 0.05, (pdf.name, i, p.smallest_font)
        assert re.search(rf"Trang {i} / {len(pages)}", p.text), (pdf.name, i)
    return pages


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One workbook of each kind: the primary form of a school, the preschool form of a Sở (its budget
    as a sheet) with six-digit figures, a school's error list, a Sở's summary and completeness."""
    out = tmp_path_factory.mktemp("render")
    th, mn, ns = (catalog.form("tt24", n) for n in ("02-TH-DN", "01-MN-DN", "01-MN-DN-NS"))
    write_form_workbook(out / "th_school.xlsx", th, SCHOOL, {(1, "T"): 2, (1, "CL"): 2, (37, "T.all"): 310}, [], 2024)
    write_form_workbook(out / "mn_so.xlsx", mn, SO, _so_values(mn), [], 2024,
                        printed=[(ns, {(16, "settled_prev_fy"): 1_234_500_000})])  # fmt: skip
    s = _settings(out)
    pupil_problem = Problem(
        rule_id="learner.disability_type_missing", severity="error", kind="record", school_code="66000101",
        file="66000101_2024_1.json", record="LstHocSinh[1]", entity="learner", list_name="LstHocSinh", position=2,
        class_code="1A", field="MaLoaiKhuyetTat", value=None,
        message_vi="Học sinh khuyết tật nhưng chưa ghi loại khuyết tật", message_en="Disabled pupil without a type",
        hint_vi="Chọn loại khuyết tật của học sinh trong phần mềm quản lý trường học",
    )  # fmt: skip
    xlsx_path, _ = errors.write_school_report(out / "errors", "66000101", "Trường Tiểu học Số 1", s,
                                              [pupil_problem] * 40, [th])  # fmt: skip
    school = errors.SchoolStats("66000101", "Trường Tiểu học Số 1", "643", 120, 119, 1, 40, 0, True, False, 0)
    rule_rows = [("learner.disability_type_missing", "Lỗi", "Học sinh", "Học sinh khuyết tật chưa ghi loại",
                  "Disabled pupil without a type", 40, 1, 40)]  # fmt: skip
    summary = errors.write_unit_summary(out / "errors", "so", "66", "Sở GDĐT Đắk Lắk", s, rule_rows, [school] * 30)[0]
    unit = {"school_year": "2024-2025", "period": "DN", "level": "phong", "unit_code": "643",
            "unit_name": "Phòng GDĐT Thành phố Buôn Ma Thuột", "expected": 3, "received": 2, "on_time": 1, "late": 1,
            "missing": 1, "pending": 0, "resubmitted": 0, "approved": 0, "received_pct": 66.7,
            "school_deadline": date(2024, 10, 15), "unit_deadline": date(2024, 10, 25), "unit_state": "draft",
            "unit_approved_at": None, "unit_timeliness": None, "evaluated_at": datetime(2024, 10, 20, 8)}  # fmt: skip
    schools = [{"school_year": "2024-2025", "period": "DN", "school_code": f"6664300{i}",
                "school_name": f"Trường Tiểu học {i}", "phong_code": "643", "so_code": "66",
                "deadline": date(2024, 10, 15), "status": status, "first_arrived_at": arrived, "versions": n,
                "current_arrived_at": arrived, "state": "received", "evaluated_at": datetime(2024, 10, 20, 8)}
               for i, (status, arrived, n) in enumerate([("on_time", datetime(2024, 10, 1), 1),
                                                         ("late", datetime(2024, 10, 18), 2),
                                                         ("missing", None, 0)], 1)]  # fmt: skip
    completeness = write_completeness(out, [unit], schools)[0]
    pdfs = render.to_pdf([out / "th_school.xlsx", out / "mn_so.xlsx", xlsx_path, summary, completeness], out / "pdf")
    return dict(zip(("th", "mn", "errors", "summary", "completeness"), pdfs, strict=True))


def _sheet_runs(pages: list[render.Page], code: str) -> list[list[render.Page]]:
    """The pages of each sheet: a sheet's pages share the second header line (the sheet's heading)."""
    runs: list[list[render.Page]] = []
    last = None
    for p in pages:
        lines = p.text.splitlines()
        key = lines[1] if len(lines) > 1 and code in lines[0] else None
        if key != last or not runs:
            runs.append([])
        runs[-1].append(p)
        last = key
    return runs


def test_school_primary_form_prints_with_heads_code_and_signature(books: dict[str, Path]) -> None:
    pages = _page_facts(books["th"])
    # Four form sheets (I, III, IV, V) and Errors: at least a page each, not a sheet per column.
    assert 5 <= len(pages) <= 14
    form_pages = [p for p in pages if "BÁO CÁO" in p.text or "Mã số" in p.text]
    assert all("Biểu số 02-TH-ĐN" in p.text for p in pages)
    # Every form page repeats the heads (the column-number row A, B, C) and the form's sheets each end
    # with the signature block.
    assert all(re.search(r"\bA\s+B\s+C\b", p.text) for p in form_pages)
    signed = [p for p in pages if all(s in p.text for s in SIGNATURE)]
    assert len(signed) == 4, [p.text[:80] for p in pages]
    assert all("(Ký, họ tên)" in p.text and "(Ký tên, đóng dấu)" in p.text for p in signed)
    assert all("ngày … tháng … năm" in p.text for p in signed)


def test_so_preschool_form_with_six_digit_figures_stays_readable(books: dict[str, Path]) -> None:
    pages = _page_facts(books["mn"])
    assert 6 <= len(pages) <= 30
    assert all("01-MN-ĐN" in p.text for p in pages)
    assert "123.456" in pages[0].text or "123,456" in pages[0].text  # thousands separated
    # The budget is a sheet of this workbook: its heading, the amount in triệu đồng (1,234.5), signed.
    budget = [p for p in pages if "NGÂN SÁCH NHÀ NƯỚC" in p.text]
    assert budget, "no budget sheet"
    assert any(re.search(r"1[.,]234[.,]5\b", p.text) for p in budget)
    assert all(s in budget[-1].text for s in SIGNATURE)
    # Five form sheets (Trường-Lớp, Học sinh, Cán bộ, Phòng học, Ngân sách), each signed once by the
    # head of the unit: on the last page of a sheet whose columns go over two pages.
    assert sum("Thủ trưởng đơn vị" in p.text for p in pages) == 5


def test_error_list_of_a_school_is_vietnamese_and_readable(books: dict[str, Path]) -> None:
    pages = _page_facts(books["errors"])
    assert len(pages) <= 12
    assert all(p.landscape for p in pages)
    text = "\n".join(p.text for p in pages)
    assert "Tệp và hồ sơ" in text and "Thứ tự bản ghi" in text and "Cách sửa" in text
    # The 40 problems, on pages that each repeat the heading row.
    assert all("Mức độ" in p.text for p in pages if "learner.disability_type_missing" in p.text)


def test_summary_and_completeness_print_on_a4(books: dict[str, Path]) -> None:
    for name in ("summary", "completeness"):
        pages = _page_facts(books[name])
        assert len(pages) <= 12, name
    text = "\n".join(p.text for p in render.pages(books["completeness"]))
    assert "Chậm, chưa nộp" in text or "chậm, chưa nộp" in text.lower()
    assert "Trường Tiểu học 3" in text and "Buôn Ma Thuột" in text  # the missing school and its Phòng
