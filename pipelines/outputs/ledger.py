"""The input ledger in the Sở's summary workbook: every input of the run (registry rows, inbox entries,
records) by outcome and reason, with the reasons' messages, in Vietnamese (the warehouse's
`input_ledger`, filled by ingest: each input has exactly one outcome); and beside it every input
that was not counted, one line each, with where it is, its reason code and the reason in Vietnamese
and English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from pipelines import warehouse
from pipelines.outputs import printing, xlsx
from pipelines.outputs.lists import Column, list_sheet
from pipelines.settings import Settings

LEDGER_SHEET = "Sổ đầu vào"
INPUT_VI = {  # the ledger's `input` kinds
    "registry": "Dòng danh sách trường",
    "registry_row": "Dòng danh sách trường",
    "inbox": "Mục trong thư mục nộp",
    "inbox_entry": "Mục trong thư mục nộp",
    "file": "Tệp",
    "record": "Bản ghi",
}
OUTCOME_VI = {
    "counted": "được tính",
    "excluded": "bị loại (bản ghi có lỗi)",
    "rejected": "bị từ chối (cả tệp hoặc cả dòng)",
    "superseded": "bị thay thế (phiên bản cũ hơn)",
    "not_expected": "không thuộc diện báo cáo",
    "not_read": "không đọc (không phải tệp dữ liệu)",
}
COLUMNS = (
    Column("Đầu vào", "Input", 22),
    Column("Kết quả", "Outcome", 24),
    Column("Mã lý do", "Reason", 26),
    Column("Số lượng", "Count", 10),
    Column("Lý do", "Reason (Vietnamese)", 50),
    Column("Lý do (tiếng Anh)", "Reason (English)", 40),
)
NOTE = (
    "Mỗi đầu vào của lượt chạy (mỗi dòng danh sách trường, mỗi mục trong thư mục nộp, mỗi bản ghi của "
    "mỗi tệp đã đọc) có đúng một kết quả; dòng Tổng của mỗi loại đầu vào cộng các dòng trên nó. / "
    "Every input of the run has exactly one outcome; each kind's Total adds the lines above it."
)


def ledger_rows(con: duckdb.DuckDBPyConnection, run_id: str,
                meanings: Mapping[str, tuple[str, str, str]] | None = None) -> list[tuple]:  # fmt: skip
    """(input, outcome, reason, count, message vi, message en) by input, outcome and reason, in
    Vietnamese, each kind of input closed by its total. A reason's message is the catalogue's
    meaning of that code where it has one (`meanings`: code → (severity, vi, en)), else the
    ledger's own."""
    rows: list[tuple] = []
    found = con.execute(warehouse.sql("outputs/errors", "ledger"), [run_id]).fetchall()
    for i, (inp, outcome, reason, n, vi, en) in enumerate(found):
        if meanings and reason in meanings:
            _, vi, en = meanings[reason]
        rows.append((INPUT_VI.get(inp, inp), OUTCOME_VI.get(outcome, outcome), reason, n, vi, en))
        if i + 1 == len(found) or found[i + 1][0] != inp:
            total = sum(r[3] for r in found if r[0] == inp)
            rows.append((INPUT_VI.get(inp, inp), "Tổng", None, total, None, None))
    return rows


def ledger_sheet(book: xlsx.StyleSheet, unit_name: str, s: Settings, rows: Sequence[tuple]) -> xlsx.Sheet:
    lines = [f"Sổ đầu vào — {unit_name}", f"Năm học {s.school_year}, kỳ {s.period}", NOTE]
    header = printing.header("Sổ đầu vào", unit_name, f"{s.school_year} {s.period}")
    return list_sheet(book, LEDGER_SHEET, lines, COLUMNS, rows, header=header,
                      empty="Sổ đầu vào trống: lượt chạy chưa ghi sổ / the run wrote no ledger",
                      fill=lambda r: "D9E1F2" if r[1] == "Tổng" else None)  # fmt: skip


NOT_COUNTED_SHEET = "Đầu vào không được tính"
# Excel's rows less the heading: a province whose not-counted inputs pass it (a hostile inbox) gets
# the first ones and a note; the view `ledger` holds them all.
NOT_COUNTED_MAX = 1_000_000
NOT_COUNTED_COLUMNS = (
    Column("Đầu vào", "Input", 20),
    Column("Kết quả", "Outcome", 22),
    Column("Mã trường", "School code", 12),
    Column("Nguồn", "Source", 28),
    Column("Vị trí", "Position", 22),
    Column("Mã lý do", "Reason", 26),
    Column("Lý do", "Reason (Vietnamese)", 50),
    Column("Lý do (tiếng Anh)", "Reason (English)", 44),
)
NOT_COUNTED_NOTE = (
    "Mỗi dòng một đầu vào không được tính: dòng danh sách trường (vị trí = số dòng), mục trong thư mục "
    "nộp (vị trí = đường dẫn), bản ghi của tệp (vị trí = danh sách[thứ tự, tính từ 0]). / One line per "
    "input not counted: registry row (position = row number), inbox entry (path), record of a file "
    "(list[index, from 0])."
)


def not_counted_rows(con: duckdb.DuckDBPyConnection, run_id: str,
                     limit: int = NOT_COUNTED_MAX) -> tuple[list[tuple], bool]:  # fmt: skip
    """(the run's inputs that were not counted: (input, outcome in Vietnamese, school, source,
    position, reason code, reason vi, reason en), whether more than `limit` were left out)."""
    found = con.execute(warehouse.sql("outputs/errors", "ledger_not_counted"), [run_id, limit + 1]).fetchall()
    rows = [
        (INPUT_VI.get(inp, inp), OUTCOME_VI.get(outcome, outcome), *rest) for inp, outcome, *rest in found
    ]
    return rows[:limit], len(rows) > limit


def not_counted_sheet(book: xlsx.StyleSheet, unit_name: str, s: Settings, rows: Sequence[tuple],
                      cut: bool = False) -> xlsx.Sheet:  # fmt: skip
    lines = [
        f"Đầu vào không được tính — {unit_name}",
        f"Năm học {s.school_year}, kỳ {s.period}: {len(rows):,} đầu vào",
    ]
    if cut:
        lines.append(f"Chỉ in {len(rows):,} dòng đầu; đủ cả trong khung nhìn `ledger` (edustat query) / only the first "
                     f"{len(rows):,} lines: all of them are in the view `ledger` (edustat query)")  # fmt: skip
    header = printing.header(NOT_COUNTED_SHEET, unit_name, f"{s.school_year} {s.period}")
    return list_sheet(book, NOT_COUNTED_SHEET, [*lines, NOT_COUNTED_NOTE], NOT_COUNTED_COLUMNS, rows, header=header,
                      empty="Mọi đầu vào đều được tính / every input was counted")  # fmt: skip
