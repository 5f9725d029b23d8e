"""What the analyst notebooks read of the forms (schemas/analysis.yaml): a plain loader that checks
every row and column it names against the form catalogue, so a mistyped code fails here, naming the
file and the key, instead of leaving a notebook's chart empty."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.catalog.forms import Form, form
from pipelines.catalog.loader import SCHEMAS, CatalogError, load_yaml

ANALYSIS_FILE = SCHEMAS / "analysis.yaml"
ENROLMENT_KEYS = {"regime", "form", "total", "all_column", "female_column", "grades"}


@dataclass(frozen=True)
class EnrolmentCells:
    """The cells of the enrolment notebook: one form's total of pupils and its rows by grade."""

    regime: str
    form: str
    total_row: int
    total_column: str
    all_column: str  # a grade row's column of all pupils
    female_column: str  # a grade row's column of girls
    grade_rows: tuple[tuple[int, int], ...]  # (row code, grade), in grade order


def _mapping(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: expected a mapping with keys {sorted(keys)}, got {value!r}")
    if set(value) != keys:
        missing, unknown = sorted(keys - set(value)), sorted(set(value) - keys)
        raise CatalogError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    return value


def _code(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise CatalogError(f"{where}: a row code is a whole number, got {value!r}")
    return value


def _column(f: Form, row: int, key: Any, where: str) -> str:
    """A column key printed on a row of the form."""
    found = next((r for r in f.cell_rows if r.code == row), None)
    if found is None:
        raise CatalogError(f"{where}: form {f.form} ({f.regime}) has no row {row}")
    keys = [c.key for c in f.columns_for(found)]
    if key not in keys or key in found.not_applicable:
        raise CatalogError(
            f"{where}: column {key!r} is not printed on row {row} of {f.form} (columns {keys})"
        )
    return key


@cache
def enrolment_cells(path: Path = ANALYSIS_FILE) -> EnrolmentCells:
    """The `enrolment` section of schemas/analysis.yaml, checked against its form."""
    name = path.name
    data = load_yaml(path)
    if not isinstance(data, dict) or "enrolment" not in data:
        raise CatalogError(f"{name}: expected a mapping with the section 'enrolment'")
    spec = _mapping(data["enrolment"], f"{name} enrolment", ENROLMENT_KEYS)
    try:
        f = form(str(spec["regime"]), str(spec["form"]))
    except (CatalogError, OSError) as exc:
        raise CatalogError(
            f"{name} enrolment: no form {spec['form']!r} in regime {spec['regime']!r}: {exc}"
        ) from exc
    total = _mapping(spec["total"], f"{name} enrolment.total", {"row", "column"})
    total_row = _code(total["row"], f"{name} enrolment.total.row")
    total_column = _column(f, total_row, total["column"], f"{name} enrolment.total")
    grades = spec["grades"]
    if not isinstance(grades, dict) or not grades:
        raise CatalogError(f"{name} enrolment.grades: expected a mapping of row code to grade")
    rows = []
    for row, grade in grades.items():
        where = f"{name} enrolment.grades.{row}"
        row = _code(row, where)
        rows.append((row, _code(grade, where)))
        for key in ("all_column", "female_column"):
            _column(f, row, spec[key], f"{name} enrolment.{key} (row {row})")
    if len({g for _, g in rows}) != len(rows):
        raise CatalogError(f"{name} enrolment.grades: a grade is given twice")
    return EnrolmentCells(regime=f.regime, form=f.form, total_row=total_row, total_column=total_column,
                          all_column=spec["all_column"], female_column=spec["female_column"],
                          grade_rows=tuple(sorted(rows, key=lambda r: r[1])))  # fmt: skip


COMMUNE_KEYS = {"regime", "levels"}
COMMUNE_MEASURES = ("schools", "multi_level_schools", "classes", "learners", "teachers")


@dataclass(frozen=True)
class CommuneLevel:
    """One level a commune manages: its form and, per measure (COMMUNE_MEASURES), the cells summed."""

    level: str  # preschool, primary, lower_secondary
    form: str
    cells: tuple[tuple[str, int, str], ...]  # (measure, row code, column key)


@dataclass(frozen=True)
class CommuneCells:
    """The cells the commune analyses read (schemas/analysis.yaml `communes`), level by level."""

    regime: str
    levels: tuple[CommuneLevel, ...]


@cache
def commune_cells(path: Path = ANALYSIS_FILE) -> CommuneCells:
    """The `communes` section of schemas/analysis.yaml, every row and column checked against its form."""
    name = path.name
    data = load_yaml(path)
    if not isinstance(data, dict) or "communes" not in data:
        raise CatalogError(f"{name}: expected a mapping with the section 'communes'")
    spec = _mapping(data["communes"], f"{name} communes", COMMUNE_KEYS)
    regime = str(spec["regime"])
    if not isinstance(spec["levels"], dict) or not spec["levels"]:
        raise CatalogError(f"{name} communes.levels: expected a mapping of level to its form and cells")
    levels = []
    for level, entry in spec["levels"].items():
        where = f"{name} communes.levels.{level}"
        entry = _mapping(entry, where, {"form", *COMMUNE_MEASURES})
        try:
            f = form(regime, str(entry["form"]))
        except (CatalogError, OSError) as exc:
            raise CatalogError(f"{where}: no form {entry['form']!r} in regime {regime!r}: {exc}") from exc
        cells = []
        for measure in COMMUNE_MEASURES:
            pairs = entry[measure]
            if not isinstance(pairs, list) or not pairs:
                raise CatalogError(f"{where}.{measure}: expected a list of [row, column]")
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise CatalogError(f"{where}.{measure}: expected [row, column], got {pair!r}")
                row = _code(pair[0], f"{where}.{measure}")
                cells.append((measure, row, _column(f, row, pair[1], f"{where}.{measure}")))
        levels.append(CommuneLevel(level=str(level), form=f.form, cells=tuple(cells)))
    return CommuneCells(regime=regime, levels=tuple(levels))
