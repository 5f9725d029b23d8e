"""CSV files safe to open in a spreadsheet (OWASP, "CSV Injection").

A spreadsheet takes a field that begins with "=", "+", "-" or "@" (or a tab or carriage return
before one) for a formula. Text that reaches an output from an input (a school's file, the
registry, a query) could so run in the reader's spreadsheet. Every CSV edustat writes under the
output folder therefore prefixes such a text field with a single quote ("'=1+2"), which
spreadsheets show as text and a reader can still recognise; numbers are left alone (a negative
number is a number, not a formula). What counts as a formula and the quoting are defined once, in
settings (FORMULA_START, neutralise), for these files and `edustat query --out` alike.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import FORMULA_PATTERN, NUMBER_PATTERN, neutralise


def safe(value: Any) -> Any:
    """A field as written: text that a spreadsheet would read as a formula gets a leading "'"."""
    return neutralise(value) if isinstance(value, str) else value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe(v) for v in row]


def write_csv(path: Path, heading: Sequence[str], rows: Iterable[Sequence[Any]], bom: bool = True,
              none: Any = "") -> None:  # fmt: skip
    """A CSV file (UTF-8, with a BOM so Excel reads Vietnamese right) with every field made safe."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(safe_row(heading))
        for row in rows:
            writer.writerow(safe_row(none if v is None else v for v in row))


def safe_relation(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with every text column made safe (numbers and other types untouched); the
    relation itself when no text field needs it (the usual case: nothing is rewritten)."""
    text = [c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) == "VARCHAR"]
    if not text:
        return rel

    def starts(c: str) -> duckdb.Expression:
        return duckdb.FunctionExpression("regexp_matches", duckdb.ColumnExpression(c),
                                         duckdb.ConstantExpression(FORMULA_PATTERN))  # fmt: skip

    hit = starts(text[0])
    for c in text[1:]:
        hit = hit | starts(c)
    if not rel.filter(hit).limit(1).fetchall():
        return rel
    exprs = []
    for c, t in zip(rel.columns, rel.types, strict=True):
        col = duckdb.ColumnExpression(c)
        if str(t) == "VARCHAR":
            quoted = duckdb.FunctionExpression("concat", duckdb.ConstantExpression("'"), col)
            numeric = duckdb.FunctionExpression(
                "regexp_matches", col, duckdb.ConstantExpression(NUMBER_PATTERN)
            )
            col = duckdb.CaseExpression(starts(c) & ~numeric, quoted).otherwise(col).alias(c)
        exprs.append(col)
    return rel.select(*exprs)
