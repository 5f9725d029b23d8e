"""`edustat diff A B`: what changed between two releases: the cells that changed by unit (absent =
0) and the schools whose submissions changed (another file hash, or a school added or removed)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.analyst.releases import CELLS_PARQUET, connect
from pipelines.warehouse import sql

DIFF_COLUMNS = ("form", "level", "unit_code", "row_code", "col_key", "value_a", "value_b", "boundaries")
SCHOOL_COLUMNS = ("school_code", "change", "file_a", "file_b", "file_hash_a", "file_hash_b")


@dataclass(frozen=True)
class ReleaseDiff:
    a: Path
    b: Path
    cells: list[tuple]  # DIFF_COLUMNS
    schools: list[tuple]  # SCHOOL_COLUMNS


def diff(a: Path, b: Path) -> ReleaseDiff:
    """The cells whose value differs (absent = 0) and the schools whose submissions differ."""
    con = duckdb.connect()
    try:
        paths = {"a": str(a / CELLS_PARQUET), "b": str(b / CELLS_PARQUET)}
        cells = con.execute(sql("analyst/diff", "changed_cells"), paths).fetchall()
    finally:
        con.close()
    return ReleaseDiff(a, b, cells, _school_changes(_files(a), _files(b)))


def _files(folder: Path) -> dict[str, tuple[str, str]]:
    """School (or, for a file no school could be read from, the file name) → (files, hashes)."""
    with connect(folder) as con:
        rows = con.execute(sql("analyst/diff", "files")).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for school, file, file_hash in rows:
        found.setdefault(school or f"file:{file}", []).append((file, file_hash or ""))
    return {k: (";".join(f for f, _ in v), ";".join(sorted(h for _, h in v))) for k, v in found.items()}


def _school_changes(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> list[tuple]:
    changes = []
    for key in sorted(a.keys() | b.keys()):
        fa, ha = a.get(key, ("", ""))
        fb, hb = b.get(key, ("", ""))
        change = "added" if key not in a else "removed" if key not in b else "changed" if ha != hb else None
        if change:
            school = "" if key.startswith("file:") else key
            changes.append((school, change, fa, fb, ha, hb))
    return changes


def _table(header: tuple[str, ...], rows: list[tuple]) -> list[str]:
    text = [tuple("" if v is None else str(v) for v in row) for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in text)]) for i, h in enumerate(header)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)).rstrip()  # noqa: E731
    return [line(header), line(tuple("-" * w for w in widths)), *(line(r) for r in text)]


def format_diff(d: ReleaseDiff, limit: int = 100) -> str:
    """The diff as two text tables (cells first, at most `limit` rows of them unless 0)."""
    shown = d.cells if limit <= 0 else d.cells[:limit]
    out = [f"So sánh / diff: A = {d.a}", f"                B = {d.b}", "",
           f"Ô số liệu thay đổi / changed cells: {len(d.cells)} (ô vắng = 0 / absent = 0)"]  # fmt: skip
    if d.cells:
        out += _table(DIFF_COLUMNS, shown)
        if len(shown) < len(d.cells):
            out.append(f"… {len(d.cells) - len(shown)} dòng nữa / more rows (--limit 0 or --out for all)")
    out += ["", f"Trường có bài nộp thay đổi / schools whose submissions changed: {len(d.schools)}"]
    if d.schools:
        short = [(s, c, fa, fb, ha[:12], hb[:12]) for s, c, fa, fb, ha, hb in d.schools]
        out += _table(SCHOOL_COLUMNS, short)
    return "\n".join(out)


def write_diff_csv(d: ReleaseDiff, out: Path) -> tuple[Path, Path]:
    """The changed cells to `out` and the changed schools to `<out stem>_schools.csv` beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    schools = out.with_name(f"{out.stem}_schools.csv")
    for path, header, rows in ((out, DIFF_COLUMNS, d.cells), (schools, SCHOOL_COLUMNS, d.schools)):
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
    return out, schools
