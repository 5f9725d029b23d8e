"""The forms: one YAML file each (schemas/forms/<regime>/*.yaml), its grid, rows, columns and relations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from pipelines.catalog.loader import SCHEMAS, CatalogError, build, load_yaml
from pipelines.catalog.sources import ENTITIES

# What a form row may count: the typed table of every source, and the tables pipelines/sql derives
# from them (budget_amount: one row per budget entry and amount column, so a budget form's
# columns are an ordinary column dimension).
FORM_ENTITIES = (*ENTITIES, "budget_amount")
_RELATION = re.compile(r"^\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*(=|<=|>=)\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*$")


@dataclass(frozen=True)
class Column:
    key: str
    excel_col: str
    number: int
    header_vi: str
    filter: str


@dataclass(frozen=True)
class ColumnSet:
    name: str
    dims: tuple[str, ...]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Relation:
    """`lhs op rhs1 + rhs2 …` over row codes (r12) or column keys (T.all)."""

    check: str
    lhs: tuple[str, ...]
    op: str
    rhs: tuple[str, ...]
    basis: str | None = None


@dataclass(frozen=True)
class Row:
    sheet: str
    label_vi: str
    label_en: str
    code: int | None = None  # None: a printed label with no cells
    tt: str | None = None
    unit: str | None = None
    entity: str | None = None
    measure: str = "count"
    filter: str = "TRUE"
    relations: tuple[Relation, ...] = ()
    not_applicable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    name: str
    heading_vi: str
    column_set: str
    title_block: bool = False
    footer_vi: str | None = None


@dataclass(frozen=True)
class SchoolAttribute:
    name: str
    entity: str
    filter: str


@dataclass(frozen=True)
class Form:
    form: str
    code_printed: str
    regime: str
    period: str
    education_level: str
    status: str
    status_note: str
    source: str
    title_vi: str
    title_en: str
    period_vi: str
    as_of_vi: str
    scope: dict[str, str] = field(hash=False)
    school_attributes: tuple[SchoolAttribute, ...] = ()
    sheets: tuple[Sheet, ...] = ()
    column_sets: dict[str, ColumnSet] = field(default_factory=dict, hash=False)
    column_relations: dict[str, tuple[Relation, ...]] = field(default_factory=dict, hash=False)
    rows: tuple[Row, ...] = ()
    base_form: str | None = None  # the form whose grid this one borrows (see `extends`)
    # Cells hold whole numbers (BIGINT); a form of money keeps them in đồng and prints them in a
    # larger unit: the workbook divides by display_scale (1,000,000 for triệu đồng) and shows
    # display_decimals decimals. cells.csv keeps the stored whole numbers.
    display_scale: int = 1
    display_decimals: int = 0

    @property
    def cell_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.code is not None)

    def sheet_of(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    def columns_for(self, row: Row) -> tuple[Column, ...]:
        """The columns printed for a row (its sheet's column set)."""
        return self.column_sets[self.sheet_of(row.sheet).column_set].columns


def parse_relation(check: str, basis: str | None = None) -> Relation:
    m = _RELATION.match(check)
    if not m:
        raise CatalogError(f"relation {check!r} is not of the form 'a = b + c', 'a <= b', 'a >= b'")

    def terms(s: str) -> tuple[str, ...]:
        return tuple(t.strip() for t in s.split("+"))

    return Relation(check=check, lhs=terms(m.group(1)), op=m.group(2), rhs=terms(m.group(3)), basis=basis)


@cache
def form(regime: str, name: str) -> Form:
    path = SCHEMAS / "forms" / regime / f"{name}.yaml"
    if not path.exists():
        raise CatalogError(f"form {regime}/{name} not found ({path})")
    data = load_yaml(path)
    where = path.name
    if "extends" in data:
        # A form of a later regime whose grid is not public yet: another regime's grid as its
        # provisional content, with its own code, header and status (e.g. tt25/02.DN-TH).
        base_regime, base_name = data.pop("extends").split("/")
        data = {
            **load_yaml(SCHEMAS / "forms" / base_regime / f"{base_name}.yaml"),
            **data,
            "base_form": base_name,
        }
    column_sets = {}
    for cs_name, cs in data.pop("column_sets").items():
        cols = tuple(build(Column, c, f"{where} column {c.get('key')}") for c in cs["columns"])
        column_sets[cs_name] = ColumnSet(name=cs_name, dims=tuple(cs["dims"]), columns=cols)
    column_relations = {
        cs_name: tuple(parse_relation(r["check"], r.get("basis")) for r in rels)
        for cs_name, rels in data.pop("column_relations", {}).items()
    }
    rows = []
    for raw in data.pop("rows"):
        raw = dict(raw)
        raw["relations"] = tuple(parse_relation(r["check"], r.get("basis")) for r in raw.get("relations", ()))
        raw["not_applicable"] = tuple(raw.get("not_applicable", ()))
        rows.append(build(Row, raw, f"{where} row {raw.get('code')}"))
    sheets = tuple(build(Sheet, s, f"{where} sheet") for s in data.pop("sheets"))
    attrs = tuple(
        SchoolAttribute(name=k, entity=v["entity"], filter=v.get("filter", "TRUE"))
        for k, v in data.pop("school_attributes", {}).items()
    )
    result = build(
        Form,
        {
            **data,
            "column_sets": column_sets,
            "column_relations": column_relations,
            "rows": tuple(rows),
            "sheets": sheets,
            "school_attributes": attrs,
        },
        where,
    )
    _check_form(result, where)
    return result


def _check_form(f: Form, where: str) -> None:
    codes = [r.code for r in f.cell_rows]
    if len(codes) != len(set(codes)):
        raise CatalogError(f"{where}: duplicate row codes")
    if not isinstance(f.display_scale, int) or f.display_scale < 1:
        raise CatalogError(f"{where}: display_scale must be a whole number >= 1")
    if not isinstance(f.display_decimals, int) or not 0 <= f.display_decimals <= 6:
        raise CatalogError(f"{where}: display_decimals must be a whole number from 0 to 6")
    sheet_names = {s.name for s in f.sheets}
    for s in f.sheets:
        if s.column_set not in f.column_sets:
            raise CatalogError(f"{where}: sheet {s.name} uses unknown column set {s.column_set}")
    for r in f.rows:
        if r.sheet not in sheet_names:
            raise CatalogError(f"{where}: row {r.code} on unknown sheet {r.sheet}")
        if r.code is None:
            continue
        if r.entity not in FORM_ENTITIES:
            raise CatalogError(f"{where}: row {r.code} has unknown entity {r.entity!r}")
        keys = {c.key for c in f.columns_for(r)}
        for rel in r.relations:
            for term in rel.lhs + rel.rhs:
                if not re.fullmatch(r"r\d+", term) or int(term[1:]) not in codes:
                    raise CatalogError(f"{where}: row {r.code} relation {rel.check!r}: unknown row {term}")
        if set(r.not_applicable) - keys:
            raise CatalogError(f"{where}: row {r.code} not_applicable names unknown columns")
    for cs_name, rels in f.column_relations.items():
        keys = {c.key for c in f.column_sets[cs_name].columns}
        for rel in rels:
            if set(rel.lhs + rel.rhs) - keys:
                raise CatalogError(f"{where}: column relation {rel.check!r} names unknown columns")


def forms_for(regime: str, period: str) -> tuple[Form, ...]:
    """Every form of a regime and period (one YAML file each)."""
    folder = SCHEMAS / "forms" / regime
    found = (form(regime, p.stem) for p in sorted(folder.glob("*.yaml")))
    return tuple(f for f in found if f.period == period)
