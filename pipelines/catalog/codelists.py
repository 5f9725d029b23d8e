"""Code lists (schemas/codelists/*.csv, and the unit lists of schemas/hierarchy/)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.catalog.loader import SCHEMAS, CatalogError, Problem, cached, file_name

CODELIST_FOLDERS = ("codelists", "hierarchy")
CODELIST_COLUMNS = ("code", "name_vi")  # every list has them; some add more (schemas/codelists/README.md)


@dataclass(frozen=True)
class Codelist:
    name: str
    codes: tuple[str, ...]
    labels_vi: dict[str, str] = field(hash=False, compare=False)
    rows: tuple[dict[str, str], ...] = field(hash=False, compare=False)
    width: int = 0  # width of the numeric codes (to restore lost leading zeros), 0 if they vary


def codelist_path(name: str, root: Path = SCHEMAS) -> Path:
    """The CSV of a code list: schemas/codelists/, or schemas/hierarchy/ for the lists of
    administrative and education units."""
    for folder in CODELIST_FOLDERS:
        path = root / folder / f"{name}.csv"
        if path.exists():
            return path
    raise CatalogError(f"code list {name!r} not found (schemas/codelists or schemas/hierarchy)")


def has_codelist(name: str, root: Path = SCHEMAS) -> bool:
    return any((root / folder / f"{name}.csv").exists() for folder in CODELIST_FOLDERS)


@cached
def codelist(name: str, root: Path = SCHEMAS) -> Codelist:
    path = codelist_path(name, root)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in CODELIST_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise CatalogError(
                problems=[Problem(file_name(path, root), 1, "", f"the header lacks the columns {missing}")]
            )
        rows = []
        for r in reader:
            if not r["code"]:
                raise CatalogError(
                    problems=[Problem(file_name(path, root), reader.line_num, "code", "empty code")]
                )
            rows.append(r)
    widths = {len(r["code"]) for r in rows if r["code"].isdigit()}
    return Codelist(
        name=name,
        codes=tuple(r["code"] for r in rows),
        labels_vi={r["code"]: r["name_vi"] for r in rows},
        rows=tuple(rows),
        width=widths.pop() if len(widths) == 1 else 0,
    )
