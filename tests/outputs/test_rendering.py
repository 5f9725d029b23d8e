"""Every kind of workbook as a statistician prints it: LibreOffice (headless) turns it into a PDF, and
the PDF must be on A4 or A3, with no text under 8 pt, a sensible number of pages, the form code in
every page's header, "Trang N / M" in every footer, and the signature block on the last page of each
form sheet. Skipped (with the reason) where LibreOffice, or a font with Times New Roman's metrics
and Vietnamese letters, is not installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.outputs import render, samples

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(render.soffice() is None, reason="LibreOffice (soffice) is not installed"),
    pytest.mark.skipif(
        render.print_font() is None,
        reason="no font with Times New Roman's metrics and Vietnamese letters (apt-get install fonts-liberation2)",
    ),
]

SIGNATURE = ("Người lập biểu", "Thủ trưởng đơn vị")


def _page_facts(pdf: Path, layout: bool = True) -> list[render.Page]:
    pages = render.pages(pdf, layout)
    assert pages, pdf
    for i, p in enumerate(pages, 1):
        assert p.paper in ("A4", "A3"), (pdf.name, i, p.paper)
        assert p.smallest_font is not None and p.smallest_font >= 8.0 - 0.05, (pdf.name, i, p.smallest_font)
        assert re.search(rf"Trang {i} / {len(pages)}", p.text), (pdf.name, i)
        # A number too wide for its column prints as ### (and the printed form loses it).
        assert "###" not in p.text, (pdf.name, i)
    return pages


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One workbook of each kind (outputs.samples), printed to PDF."""
    out = tmp_path_factory.mktemp("render")
    found = samples.samples(out)
    return dict(zip(found, render.to_pdf(list(found.values()), out / "pdf"), strict=True))


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


def _all_forms() -> list:
    from pipelines import catalog, settings

    found = {}
    for regime in settings.REGIMES:
        for period in settings.PERIODS:
            for f in catalog.forms_for(regime, period):
                found[(regime, f.form)] = f
    return [f for f in found.values() if f.printed_in is None]


def test_every_form_of_a_so_prints_at_8pt_or_more_with_signatures(tmp_path: Path) -> None:
    """Every form of every regime and period, for the Sở (the widest numbers: six digits in every
    cell), with the forms printed in it: A4/A3, ≥ 8 pt, page numbers, one signature per form sheet."""
    from pipelines import catalog, settings
    from pipelines.outputs.workbook import write_form_workbook

    forms = _all_forms()
    books = []
    for f in forms:
        printed = [
            (p, samples.big_values(p))
            for p in catalog.forms_for(f.regime, f.period)
            if p.printed_in == f.form
        ]
        path = tmp_path / f"{f.regime}_{f.form}.xlsx"
        write_form_workbook(path, f, samples.SO, samples.big_values(f), [], 2024, printed=printed)
        books.append((path, len(f.sheets) + sum(len(p.sheets) for p, _ in printed)))
    assert len(books) >= 12 and settings.REGIMES
    for (path, n_sheets), pdf in zip(
        books, render.to_pdf([b for b, _ in books], tmp_path / "pdf"), strict=True
    ):
        pages = _page_facts(pdf, layout=False)  # words anywhere on a page: pdfium, fast
        assert len(pages) <= 12 * n_sheets, path.name
        assert sum("Thủ trưởng đơn vị" in p.text for p in pages) == n_sheets, path.name


def test_every_form_of_every_level_prints_at_8pt_or_more_with_signatures(tmp_path: Path) -> None:
    """Every form of every regime and period for a school, a Phòng and, where the commune runs the
    form's schools on the 2025 boundaries (preschool, primary, lower secondary), a commune; each
    with the widest figures a unit of its level prints (a school's columns are the narrowest) and
    the forms printed in it, a Phòng's with its "Chỉ tiêu" sheet. All converted by one LibreOffice
    call: A4/A3, ≥ 8 pt, no ### (a number wider than its column), page numbers, one signature per
    form sheet, the form's code on every page, the column heads on every page of a form sheet."""
    from pipelines import catalog
    from pipelines.catalog.hierarchy import COMMUNE_LEVELS
    from pipelines.outputs.workbook import IndicatorLine, write_form_workbook

    indicator = IndicatorLine(
        "0201", "Số học sinh bình quân một lớp", "Pupils per class", 12_345, 345, 35.8, "official"
    )
    books = []
    for f in _all_forms():
        levels = ["school", "phong", *(["commune"] if f.education_level in COMMUNE_LEVELS else [])]
        printed_in = [p for p in catalog.forms_for(f.regime, f.period) if p.printed_in == f.form]
        for level in levels:
            printed = [(p, samples.level_values(p, level)) for p in printed_in]
            path = tmp_path / f"{f.regime}_{f.form}_{level}.xlsx"
            write_form_workbook(path, f, samples.UNITS[level], samples.level_values(f, level), [], 2024,
                                (indicator,) if level == "phong" else (), printed)  # fmt: skip
            books.append((path, f, len(f.sheets) + sum(len(p.sheets) for p, _ in printed)))
    levels_seen = {p.stem.rsplit("_", 1)[1] for p, _, _ in books}
    assert levels_seen == {"school", "phong", "commune"} and len(books) >= 30
    for (path, f, n_sheets), pdf in zip(
        books, render.to_pdf([b for b, _, _ in books], tmp_path / "pdf"), strict=True
    ):
        pages = _page_facts(pdf, layout=False)
        assert len(pages) <= 12 * n_sheets, path.name
        assert sum("Thủ trưởng đơn vị" in p.text for p in pages) == n_sheets, path.name
        assert all(f.code_printed in p.text for p in pages), path.name
        # Heads repeated: every page of a form sheet (not the Errors or Chỉ tiêu list) shows the column
        # heads, however many pages the sheet runs to.
        form_pages = [
            p for p in pages if "Sheet Cell Error" not in p.text and "Chỉ tiêu Indicator" not in p.text
        ]
        assert form_pages and all("Mã số" in p.text for p in form_pages), path.name
