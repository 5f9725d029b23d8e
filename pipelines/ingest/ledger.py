"""The input ledger: every input a run was handed, each with exactly one outcome, and its balance.

Inputs: every registry row (position = its row number in the sheet), every entry under the inbox
(position = its path; "archive.zip!member" inside an archive), every record of every file read
(source = the file's path, position = "LstHocSinh[12]"; "TruongHocInfo" for the school record).
Outcomes: counted | excluded (a record with an error; reason = its rule ids) | rejected (reason =
why) | superseded (an older version of a school's file, or a record a change file replaced) |
not_expected (a school not active, a test school, another province, a file for another period) |
not_read (not a data file). The table (pipelines/sql/warehouse/schema.sql) keeps the latest run of
each period only: a run replaces the rows of the period's earlier runs (about 1.1 rows per learner,
so 450,000 rows for a province; the `files` table and `validation_results` keep the history).

Registry rows and inbox entries are written by prepare and ingest; the records of the files that
were loaded are written after validation (`complete_records`), counted or excluded by its
quarantine; records of files rejected or superseded whole take their file's outcome.
`ledger_summary` counts it and checks that it balances.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from pipelines import catalog, warehouse

INPUTS = ("registry_row", "inbox_entry", "record")
OUTCOMES = ("counted", "excluded", "rejected", "superseded", "not_expected", "not_read")
# A ledger row: (input, source, position, school_code, outcome, reason, message_vi, message_en).
Row = tuple[str, str, str, str | None, str, str | None, str | None, str | None]


class LedgerUnbalanced(RuntimeError):
    """The run's ledger does not balance: some input has no outcome, or two, or records are missing."""


def clear_period(con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str) -> None:
    """Drop the period's rows of earlier runs (and this run's, when a step is run again)."""
    con.execute(warehouse.sql("ingest/ledger", "clear_period"), [school_year, period, run_id])


def clear_input(con: duckdb.DuckDBPyConnection, run_id: str, input_: str) -> None:
    """This run's rows of one input (a step run again writes them anew)."""
    con.execute(warehouse.sql("ingest/ledger", "clear_input"), [run_id, input_])


def add(
    con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str, rows: Iterable[Row]
) -> None:
    warehouse.insert_rows(con, "input_ledger", [(run_id, school_year, period, *r) for r in rows])


def entity_of_path() -> dict[str, str]:
    return {s.json_path: s.entity for s in catalog.sources()}


def position(source: catalog.Source, index: int) -> str:
    """A record's position in its file: "LstHocSinh[12]"; "TruongHocInfo" for the school."""
    return source.json_path if source.entity == "school" else f"{source.json_path}[{index}]"


def record_rows(file: str, school: str | None, records: dict[str, int], outcome: str, reason: str | None,
                vi: str | None, en: str | None) -> list[Row]:  # fmt: skip
    """The records of a file rejected or superseded whole: each takes the file's outcome."""
    rows: list[Row] = []
    for source in catalog.sources():
        for i in range(records.get(source.entity, 0)):
            rows.append(("record", file, position(source, i), school, outcome, reason, vi, en))
    return rows


def complete_records(con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str) -> int:
    """After validation: every staged record of the run → counted, or excluded with the rules of its
    quarantine. Returns the rows written. (A step run again replaces them.)"""
    con.execute(warehouse.sql("ingest/ledger", "clear_staged_records"), [run_id])
    n = 0
    for source in catalog.sources():
        params = {"run_id": run_id, "school_year": school_year, "period": period, "entity": source.entity,
                  "path": source.json_path, "single": source.entity == "school"}  # fmt: skip
        con.execute(warehouse.sql("ingest/ledger", "staged_records", table=source.table), params)
    n = warehouse.scalar(con, warehouse.sql("ingest/ledger", "count_records"), [run_id])
    return int(n or 0)


# --- the summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerSummary:
    run_id: str
    # input → {(outcome, reason or None): count}
    counts: dict[str, dict[tuple[str, str | None], int]]
    balanced: bool
    problems: tuple[str, ...]  # why it does not balance (bilingual lines); empty when it does
    lines: tuple[str, ...]  # "registry: 1,204 rows → 1,150 schools placed, …" (Vietnamese / English)

    def total(self, input_: str, outcome: str | None = None) -> int:
        return sum(n for (o, _), n in self.counts.get(input_, {}).items() if outcome in (None, o))


_WORDS = {
    "registry_row": ("danh sách trường", "registry", "dòng", "rows"),
    "inbox_entry": ("hộp thư", "inbox", "mục", "entries"),
    "record": ("bản ghi", "records", "bản ghi", "records"),
}
_OUTCOME_WORDS = {
    "counted": ("được tính", "counted"),
    "excluded": ("bị loại", "excluded"),
    "rejected": ("bị từ chối", "rejected"),
    "superseded": ("bị thay thế", "superseded"),
    "not_expected": ("không thuộc kỳ/danh sách", "not expected"),
    "not_read": ("không đọc", "not read"),
}


def _line(input_: str, by_outcome: dict[str, int], reasons: dict[str, int]) -> str:
    vi_in, en_in, vi_unit, en_unit = _WORDS[input_]
    total = sum(by_outcome.values())
    parts_vi = [f"{n:,} {_OUTCOME_WORDS[o][0]}" for o, n in by_outcome.items() if n]
    parts_en = [f"{n:,} {_OUTCOME_WORDS[o][1]}" for o, n in by_outcome.items() if n]
    top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
    why = f" ({', '.join(f'{r}: {n:,}' for r, n in top)})" if top else ""
    return (f"{vi_in}: {total:,} {vi_unit} → {', '.join(parts_vi) or '0'}{why} / "
            f"{en_in}: {total:,} {en_unit} → {', '.join(parts_en) or '0'}")  # fmt: skip


def ledger_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> LedgerSummary:
    """The run's ledger counted per input by outcome and reason, whether it balances, and its lines."""
    counts: dict[str, dict[tuple[str, str | None], int]] = {i: {} for i in INPUTS}
    for input_, outcome, reason, n in con.execute(
        warehouse.sql("ingest/ledger", "counts"), [run_id]
    ).fetchall():
        counts.setdefault(input_, {})[(outcome, reason)] = int(n)
    problems = []
    con.execute(warehouse.sql("ingest/ledger", "paths"))
    warehouse.insert_rows(con, "_ledger_paths", [(s.json_path, s.entity) for s in catalog.sources()])
    staged = sum(int(warehouse.scalar(con, warehouse.sql("ingest/ledger", "staged_count", table=s.table)) or 0)
                 for s in catalog.sources())  # fmt: skip
    checks = con.execute(
        warehouse.sql("ingest/ledger", "balance"), {"run_id": run_id, "staged": staged}
    ).fetchall()
    for check, n in checks:
        if n:
            named = ""
            if check == "files_missing":  # name them
                rows = con.execute(warehouse.sql("ingest/ledger", "files_missing"), [run_id]).fetchall()
                named = " (" + ", ".join(r[0] for r in rows) + ")"
            problems.append(f"{_CHECKS[check][0]}: {n:,}{named} / {_CHECKS[check][1]}: {n:,}{named}")
    lines = []
    for input_ in INPUTS:
        by_outcome = {o: 0 for o in OUTCOMES}
        reasons: dict[str, int] = {}
        for (o, r), n in counts.get(input_, {}).items():
            by_outcome[o] = by_outcome.get(o, 0) + n
            if r and o != "excluded":
                reasons[r] = reasons.get(r, 0) + n
        lines.append(_line(input_, by_outcome, reasons))
    rec = {o: sum(n for (oo, _), n in counts["record"].items() if oo == o) for o in OUTCOMES}
    read = sum(rec.values())
    lines.append(f"bản ghi: {read:,} đọc = {rec['counted']:,} tính + {rec['excluded']:,} loại + "
                 f"{rec['superseded'] + rec['rejected']:,} của tệp bị thay thế/từ chối / records: {read:,} read = "
                 f"{rec['counted']:,} counted + {rec['excluded']:,} excluded + "
                 f"{rec['superseded'] + rec['rejected']:,} in superseded or rejected files")  # fmt: skip
    if problems:
        lines.append("SỔ NHẬP LIỆU KHÔNG CÂN / THE LEDGER DOES NOT BALANCE: " + "; ".join(problems))
    return LedgerSummary(run_id, counts, not problems, tuple(problems), tuple(lines))


# The checks of pipelines/sql/ingest/ledger.sql `balance`: (vi, en) of what a non-zero count means.
_CHECKS = {
    "duplicate_position": ("Đầu vào có hơn một kết quả", "inputs with more than one outcome"),
    "unknown_outcome": ("Kết quả không hợp lệ", "unknown outcomes"),
    "missing_reason": (
        "Đầu vào không được tính nhưng thiếu lý do",
        "inputs not counted without a reason or message",
    ),
    "registry_gap": ("Dòng danh sách trường không có trong sổ", "registry rows missing from the ledger"),
    "records_missing": (
        "Bản ghi của tệp đã nạp thiếu trong sổ",
        "records of loaded files missing from the ledger",
    ),
    "records_extra": ("Bản ghi trong sổ nhiều hơn trong tệp", "ledger records beyond those the files hold"),
    "staged_missing": (
        "Bản ghi đã nạp chưa có (hoặc thừa) trong sổ",
        "staged records not in the ledger (or too many)",
    ),
    "files_missing": ("Tệp đã xử lý không có trong sổ", "files processed but not in the ledger"),
    "placed_missing": (
        "Trường trong cây đơn vị không có dòng được tính",
        "schools of the unit tree without a counted registry row",
    ),
}


def record_registry(
    con: duckdb.DuckDBPyConnection, registry, run_id: str, school_year: str, period: str
) -> None:  # noqa: ANN001
    """The registry's rows (registry.Registry.rows) into the ledger, after clearing the period's
    earlier runs (prepare is a run's first step)."""
    clear_period(con, run_id, school_year, period)
    add(con, run_id, school_year, period,
        [("registry_row", registry.source, str(r.excel_row), r.school_code, r.outcome, r.reason, r.message_vi,
          r.message_en) for r in registry.rows])  # fmt: skip


def school_records(
    con: duckdb.DuckDBPyConnection, run_id: str, school: str
) -> list[tuple[str, str, str, str | None]]:
    """This run's ledger rows of one school's records: (file, position, outcome, reason)."""
    return con.execute(warehouse.sql("ingest/ledger", "records_of_school"), [run_id, school]).fetchall()
