"""One workbook of each kind, from small hand-made figures, and their printed previews.

`make render` (python -m pipelines.outputs.samples docs/img) writes the first pages of each as PNG
files to docs/img/, shown in docs/statistician.md; the rendering tests
(tests/outputs/test_rendering.py) print the same workbooks and check them. The figures are made up
for the look (a Sở's six-digit counts in every cell of 01-MN-ĐN, so the widest numbers show); they
are no one's data.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from pipelines import catalog
from pipelines.outputs import errors, render
from pipelines.outputs.completeness import write_completeness
from pipelines.outputs.workbook import UnitHeader, write_form_workbook
from pipelines.settings import Settings
from pipelines.warehouse import Problem

SCHOOL = UnitHeader("school", "66000101", "Trường Tiểu học Số 1", "Phòng GDĐT Huyện Ea Súp")
SO = UnitHeader("so", "66", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "Bộ Giáo dục và Đào tạo")
BIG = 123_456  # a Sở's numbers are the widest a form prints: six digits and a separator
# The widest count a unit of each level prints (a large school's pupils, a city Phòng's or commune's, a
# Sở's), and a unit of each level (a commune on the 2025 boundaries: school → commune → Sở).
WIDEST = {"school": 1_234, "phong": 12_345, "commune": 12_345, "so": BIG}
UNITS = {
    "school": SCHOOL,
    "phong": UnitHeader(
        "phong", "643", "Phòng GDĐT Thành phố Buôn Ma Thuột", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk"
    ),
    "commune": UnitHeader(
        "commune", "24133", "Ủy ban nhân dân Phường Buôn Ma Thuột", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk"
    ),
    "so": SO,
}
# The pages previewed of each kind (from 0): the first sheet, and a wide one where there is one.
PREVIEW_PAGES = {"th": (0, 2), "mn": (0, 7), "errors": (1,), "summary": (0,), "completeness": (0, 2)}


def big_values(form: catalog.Form) -> dict[tuple[int, str], int]:
    """Every cell of a form at BIG: the widest a Sở prints."""
    return {(r.code, c.key): BIG for r in form.cell_rows for c in form.columns_for(r)}


def level_values(form: catalog.Form, level: str) -> dict[tuple[int, str], int]:
    """Every cell of a form at the widest a unit of the level prints; a money form (kept in đồng,
    printed in a larger unit) as that many of its printed units and a half (12,345.5 triệu đồng)."""
    n = WIDEST[level]
    value = n * form.display_scale + form.display_scale // 2 if form.display_scale != 1 else n
    return {(r.code, c.key): value for r in form.cell_rows for c in form.columns_for(r)}


def _settings(out: Path) -> Settings:
    return Settings("2024-2025", 2024, "DN", "tt24", out / "registry.xlsx", out / "inbox", out / "w.duckdb", out,
                    "sample", b"sample", 1)  # fmt: skip


def samples(out: Path) -> dict[str, Path]:
    """Write one workbook of each kind into `out`: the primary form of a school, the preschool form of a
    Sở (its budget as a sheet), a school's error list, a Sở's summary and completeness."""
    th, mn, ns = (catalog.form("tt24", n) for n in ("02-TH-DN", "01-MN-DN", "01-MN-DN-NS"))
    write_form_workbook(
        out / "th_school.xlsx", th, SCHOOL, {(1, "T"): 2, (1, "CL"): 2, (37, "T.all"): 310}, [], 2024
    )
    write_form_workbook(out / "mn_so.xlsx", mn, SO, big_values(mn), [], 2024,
                        printed=[(ns, {(16, "settled_prev_fy"): 1_234_500_000})])  # fmt: skip
    s = _settings(out)
    problem = Problem(
        rule_id="learner.disability_type_missing", severity="error", kind="record", school_code="66000101",
        file="66000101_2024_1.json", record="LstHocSinh[1]", entity="learner", list_name="LstHocSinh", position=2,
        class_code="1A", field="MaLoaiKhuyetTat", value=None,
        message_vi="Học sinh khuyết tật nhưng chưa ghi loại khuyết tật", message_en="Disabled pupil without a type",
        hint_vi="Chọn loại khuyết tật của học sinh trong phần mềm quản lý trường học",
    )  # fmt: skip
    school_book, _ = errors.write_school_report(out / "errors", "66000101", "Trường Tiểu học Số 1", s,
                                                [problem] * 40, [th])  # fmt: skip
    school = errors.SchoolStats("66000101", "Trường Tiểu học Số 1", "643", 120, 119, 1, 40, 0, True, False, 0)
    rule_rows = [("learner.disability_type_missing", "Lỗi", "Học sinh", "Học sinh khuyết tật chưa ghi loại",
                  "Disabled pupil without a type", 40, 1, 40)]  # fmt: skip
    summary = errors.write_unit_summary(
        out / "errors", "so", "66", "Sở GDĐT Đắk Lắk", s, rule_rows, [school] * 30
    )[0]
    evaluated = datetime(2024, 10, 20, 8)
    unit = {"school_year": "2024-2025", "period": "DN", "level": "phong", "unit_code": "643",
            "unit_name": "Phòng GDĐT Thành phố Buôn Ma Thuột", "expected": 3, "received": 2, "on_time": 1, "late": 1,
            "missing": 1, "pending": 0, "resubmitted": 0, "approved": 0, "received_pct": 66.7,
            "school_deadline": date(2024, 10, 15), "unit_deadline": date(2024, 10, 25), "unit_state": "draft",
            "unit_approved_at": None, "unit_timeliness": None, "evaluated_at": evaluated}  # fmt: skip
    schools = [{"school_year": "2024-2025", "period": "DN", "school_code": f"6664300{i}",
                "school_name": f"Trường Tiểu học {i}", "phong_code": "643", "so_code": "66",
                "deadline": date(2024, 10, 15), "status": status, "first_arrived_at": arrived, "versions": n,
                "current_arrived_at": arrived, "state": "received", "evaluated_at": evaluated}
               for i, (status, arrived, n) in enumerate([("on_time", datetime(2024, 10, 1), 1),
                                                         ("late", datetime(2024, 10, 18), 2),
                                                         ("missing", None, 0)], 1)]  # fmt: skip
    completeness = write_completeness(out, [unit], schools)[0]
    return {"th": out / "th_school.xlsx", "mn": out / "mn_so.xlsx", "errors": school_book, "summary": summary,
            "completeness": completeness}  # fmt: skip


def previews(folder: Path, dpi: int = 80) -> list[Path]:
    """PNG previews of the sample workbooks as LibreOffice prints them: <kind>-<page>.png in folder."""
    with tempfile.TemporaryDirectory(prefix="edustat-samples-") as tmp:
        books = samples(Path(tmp))
        pdfs = render.to_pdf(list(books.values()), Path(tmp) / "pdf")
        out: list[Path] = []
        for kind, pdf in zip(books, pdfs, strict=True):
            for page in PREVIEW_PAGES[kind]:
                out += render.to_png(pdf, folder, f"preview-{kind}", page, 1, dpi)
        return out


if __name__ == "__main__":
    for path in previews(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(path)
