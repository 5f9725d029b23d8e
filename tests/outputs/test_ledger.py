"""The Sở's summary workbook lists every input that was not counted, one line each, beside the
ledger's summary (issue 13): a hand-made ledger of one run, written the way export writes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines import settings, warehouse
from pipelines.ingest import ledger as ingest_ledger
from pipelines.outputs import errors as error_reports
from pipelines.outputs import ledger as ledger_out

A = "66643001"
FILE_A = f"643/{A}_2024_1.json"
UNREADABLE = ("Tệp JSON hỏng, không đọc được", "Malformed JSON file, cannot be read")
# (input, source, position, school, outcome, reason, vi, en): rows 9 and 10 and records [2] and [10]
# are there to be put in number order, not text order.
RUN = [
    ("registry_row", "registry.xlsx", "5", A, "counted", None, None, None),
    ("registry_row", "registry.xlsx", "6", A, "rejected", "registry.duplicate", "Mã trùng dòng 5",
     "Code repeats row 5"),
    ("registry_row", "registry.xlsx", "10", "66643003", "not_expected", "registry.inactive", "Không hoạt động",
     "Not active"),
    ("registry_row", "registry.xlsx", "9", "66643999", "not_expected", "registry.test_school", "Trường thử",
     "Test school"),
    ("inbox_entry", "inbox", FILE_A, A, "counted", None, None, None),
    ("inbox_entry", "inbox", "643/ghi-chu.txt", None, "not_read", "entry.not_data", "Không phải tệp dữ liệu",
     "Not a data file"),
    ("inbox_entry", "inbox", "643/=1+1.json", None, "rejected", "file.unreadable", *UNREADABLE),
    ("inbox_entry", "inbox", f"{A}_2024_0.json", A, "superseded", "file.superseded", "Có phiên bản mới hơn",
     "A newer version exists"),
    ("record", FILE_A, "TruongHocInfo", A, "counted", None, None, None),
    ("record", FILE_A, "LstHocSinh[10]", A, "excluded", "learner.MaDanToc.codelist", "Bị loại", "Excluded"),
    ("record", FILE_A, "LstHocSinh[2]", A, "excluded", "learner.duplicate", "Bị loại", "Excluded"),
    ("record", FILE_A, "LstHocSinh[3]", A, "counted", None, None, None),
]  # fmt: skip
REG, BOX, REC = "Dòng danh sách trường", "Mục trong thư mục nộp", "Bản ghi"
NOT_EXPECTED, REJECTED = "không thuộc diện báo cáo", "bị từ chối (cả tệp hoặc cả dòng)"
EXPECTED = [
    (REG, NOT_EXPECTED, "66643999", "registry.xlsx", "9", "registry.test_school", "Trường thử", "Test school"),
    (REG, NOT_EXPECTED, "66643003", "registry.xlsx", "10", "registry.inactive", "Không hoạt động", "Not active"),
    (REG, REJECTED, A, "registry.xlsx", "6", "registry.duplicate", "Mã trùng dòng 5", "Code repeats row 5"),
    (BOX, "không đọc (không phải tệp dữ liệu)", None, "inbox", "643/ghi-chu.txt", "entry.not_data",
     "Không phải tệp dữ liệu", "Not a data file"),
    (BOX, REJECTED, None, "inbox", "643/=1+1.json", "file.unreadable", *UNREADABLE),
    (BOX, "bị thay thế (phiên bản cũ hơn)", A, "inbox", f"{A}_2024_0.json", "file.superseded",
     "Có phiên bản mới hơn", "A newer version exists"),
    (REC, "bị loại (bản ghi có lỗi)", A, FILE_A, "LstHocSinh[2]", "learner.duplicate", "Bị loại", "Excluded"),
    (REC, "bị loại (bản ghi có lỗi)", A, FILE_A, "LstHocSinh[10]", "learner.MaDanToc.codelist", "Bị loại",
     "Excluded"),
]  # fmt: skip


@pytest.fixture
def ledger_db(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest_ledger.add(con, "r1", "2024-2025", "DN", RUN)
        # Another run's row (another period): never in r1's sheet.
        ingest_ledger.add(con, "r0", "2024-2025", "CN", [("inbox_entry", "inbox", "old.txt", None, "not_read",
                                                          "entry.not_data", "Không phải", "Not")])  # fmt: skip
        # A run that counted everything.
        ingest_ledger.add(con, "r2", "2025-2026", "DN", [RUN[0]])
        yield con


def _settings(tmp_path: Path) -> settings.Settings:
    return settings.resolve("2024-2025", "DN", tmp_path / "registry.xlsx", tmp_path / "inbox", tmp_path / "w.duckdb",
                            tmp_path / "out", run_id="r1")  # fmt: skip


def _sheet_rows(path: Path) -> tuple[list[str], list[tuple]]:
    """(the lines above the table, the table's rows) of the not-counted sheet."""
    ws = load_workbook(path)[ledger_out.NOT_COUNTED_SHEET]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    head = next(i for i, r in enumerate(rows) if r[0] == "Đầu vào")
    assert rows[head + 1][:2] == ("Input", "Outcome")  # Vietnamese heading, English below
    lines = [r[0] for r in rows[:head] if r[0]]
    return lines, [r[:8] for r in rows[head + 2 :] if any(v is not None for v in r)]


def test_every_input_not_counted_is_one_line_with_its_reason(ledger_db, tmp_path):
    s = _settings(tmp_path)
    folder = tmp_path / "errors"
    error_reports.write_unit_summary(folder, "so", "66", "Sở GDĐT Đắk Lắk", s, [], [],
                                     ledger_out.ledger_rows(ledger_db, "r1"),
                                     ledger_out.not_counted_rows(ledger_db, "r1"))  # fmt: skip
    book = folder / "summary_so_66.xlsx"
    names = load_workbook(book).sheetnames
    assert names[-2:] == [ledger_out.LEDGER_SHEET, ledger_out.NOT_COUNTED_SHEET]  # beside the summary
    lines, rows = _sheet_rows(book)
    assert rows == EXPECTED
    assert "8 đầu vào" in lines[1]
    # Not counted + counted (row 5, A's file, its school record and pupil 3) = the run's 12 inputs.
    assert len(rows) + sum(1 for r in RUN if r[4] == "counted") == len(RUN)
    # Text from the inbox is a string cell, never a formula.
    ws = load_workbook(book)[ledger_out.NOT_COUNTED_SHEET]
    cells = [c for r in ws.iter_rows() for c in r if c.value == "643/=1+1.json"]
    assert [c.data_type for c in cells] == ["s"]


def test_a_run_that_counted_everything_says_so(ledger_db, tmp_path):
    rows, cut = ledger_out.not_counted_rows(ledger_db, "r2")
    assert (rows, cut) == ([], False)
    folder = tmp_path / "errors"
    error_reports.write_unit_summary(folder, "so", "66", "Sở GDĐT Đắk Lắk", _settings(tmp_path), [], [], [],
                                     (rows, cut))  # fmt: skip
    ws = load_workbook(folder / "summary_so_66.xlsx")[ledger_out.NOT_COUNTED_SHEET]
    texts = [c.value for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert "Mọi đầu vào đều được tính / every input was counted" in texts


def test_more_lines_than_a_sheet_holds_are_cut_with_a_note(ledger_db, tmp_path):
    rows, cut = ledger_out.not_counted_rows(ledger_db, "r1", limit=3)
    assert (rows, cut) == ([tuple(r) for r in EXPECTED[:3]], True)
    folder = tmp_path / "errors"
    error_reports.write_unit_summary(folder, "so", "66", "Sở GDĐT Đắk Lắk", _settings(tmp_path), [], [], [],
                                     (rows, cut))  # fmt: skip
    lines, shown = _sheet_rows(folder / "summary_so_66.xlsx")
    assert len(shown) == 3 and any("`ledger`" in line for line in lines)


def test_a_phong_summary_has_no_ledger_sheets(ledger_db, tmp_path):
    folder = tmp_path / "errors"
    error_reports.write_unit_summary(
        folder, "phong", "643", "Phòng GDĐT Buôn Ma Thuột", _settings(tmp_path), [], []
    )
    assert load_workbook(folder / "summary_phong_643.xlsx").sheetnames == ["Theo quy tắc", "Theo trường"]
