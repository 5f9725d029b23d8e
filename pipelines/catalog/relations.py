"""Every relation of every form under its one id: a row relation `<form>.r<code>.<n>` (checked in
every printed column of its row) or a column relation `<form>.<column set>.<n>` (checked on every row
of the sheets using that column set). Aggregation checks them; reports and the rule catalogue name them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines import settings
from pipelines.catalog.forms import Form, Relation, Row, form
from pipelines.catalog.loader import SCHEMAS, cached

PROJECT_ROOT = settings.PROJECT_ROOT


@dataclass(frozen=True)
class FormRelation:
    """One declared relation of a form, under the id aggregate.relation_instances gives it: a row
    relation (`<form>.r<code>.<n>`, checked in every printed column of its row) or a column relation
    (`<form>.<column set>.<n>`, checked on every row of the sheets using that column set)."""

    id: str
    n: int  # the relation's place (from 1) in its row's relations or its column set's
    form: Form
    relation: Relation
    row: Row | None  # a row relation's row
    column_set: str | None  # a column relation's column set
    paths: tuple[str, ...]  # the form YAML files that use this form id (one per regime)
    base_path: str | None  # the YAML whose grid an `extends` form borrows

    @property
    def place(self) -> str:
        if self.row is not None:
            return f"row {self.row.code}, relation {self.n}"
        return f"column_relations.{self.column_set}, relation {self.n}"


def relations_of(f: Form) -> list[tuple[str, int, Relation, Row | None, str | None]]:
    """(id, n, relation, row, column set) of every relation of one form: its rows' relations, then
    its column relations."""
    out: list[tuple[str, int, Relation, Row | None, str | None]] = []
    for row in f.cell_rows:
        for i, rel in enumerate(row.relations):
            out.append((f"{f.form}.r{row.code}.{i + 1}", i + 1, rel, row, None))
    for set_name, rels in f.column_relations.items():
        for i, rel in enumerate(rels):
            out.append((f"{f.form}.{set_name}.{i + 1}", i + 1, rel, None, set_name))
    return out


def _form_files(root: Path) -> list[tuple[str, Path]]:
    """(regime, path) of every form YAML of the catalogue, regimes in date order."""
    regimes = sorted(settings.REGIMES, key=settings.REGIMES.get)
    return [(rg, p) for rg in regimes for p in sorted((root / "forms" / rg).glob("*.yaml"))]


def _rel(path: Path, root: Path) -> str:
    """A form file as the rule catalogue names it, from the project root (schemas/forms/tt24/…)."""
    return path.relative_to(root.parent).as_posix()


@cached
def form_relations(root: Path = SCHEMAS) -> tuple[FormRelation, ...]:
    """Every relation of every form of every regime, once per relation id (a form id shared by two
    regimes, e.g. tt24/01-MN-CN and tt25/01-MN-CN, is one grid: its relations are listed once)."""
    files = _form_files(root)
    by_form: dict[str, tuple[Form, list[str], str | None]] = {}
    for regime, path in files:
        f = form(regime, path.stem, root)
        if f.form in by_form:
            by_form[f.form][1].append(_rel(path, root))
            continue
        base = None
        if f.base_form:
            base = next((_rel(p, root) for rg, p in files if p.stem == f.base_form and rg != regime), None)
        by_form[f.form] = (f, [_rel(path, root)], base)
    return tuple(
        FormRelation(rid, n, f, rel, row, column_set, tuple(paths), base)
        for f, paths, base in by_form.values()
        for rid, n, rel, row, column_set in relations_of(f)
    )
