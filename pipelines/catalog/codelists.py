"""Code lists (schemas/codelists/*.csv, and the unit lists of schemas/hierarchy/)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipelines.catalog.loader import SCHEMAS, CatalogError


@dataclass(frozen=True)
class Codelist:
    name: str
    codes: tuple[str, ...]
    labels_vi: dict[str, str] = field(hash=False, compare=False)
    rows: tuple[dict[str, str], ...] = field(hash=False, compare=False)
    width: int = 0  # width of the numeric codes (to restore lost leading zeros), 0 if they vary


def codelist_path(name: str) -> Path:
    """The CSV of a code list: schemas/codelists/, or schemas/hierarchy/ for the lists of
    administrative and education units."""
    for folder in ("codelists", "hierarchy"):
        path = SCHEMAS / folder / f"{name}.csv"
        if path.exists():
            return path
    raise CatalogError(f"code list {name!r} not found (schemas/codelists or schemas/hierarchy)")


@cache
def codelist(name: str) -> Codelist:
    path = codelist_path(name)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = tuple(csv.DictReader(fh))
    widths = {len(r["code"]) for r in rows if r["code"].isdigit()}
    return Codelist(
        name=name,
        codes=tuple(r["code"] for r in rows),
        labels_vi={r["code"]: r["name_vi"] for r in rows},
        rows=rows,
        width=widths.pop() if len(widths) == 1 else 0,
    )
