"""Load schemas/ (sources, code lists, forms) into frozen, validated objects.

A malformed YAML file fails here with a message naming the file and the item, never later with a
KeyError deep in a run.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

FIELD_TYPES = {"string", "integer", "number", "code", "flag", "date", "subject_list", "code_list"}
# New entities come last ("result": end-of-year results, LstKetQuaHocTap; "budget": the budget
# tab of 01-MN-ĐN, NganSach): the `files` table adds their count columns at the end.
ENTITIES = ("school", "site", "class", "learner", "staff", "rooms", "result", "budget")
# What a form row may count: the typed table of every source, and the tables pipelines/sql derives
# from them (budget_amount: one row per budget entry and amount column, so a budget form's
# columns are an ordinary column dimension).
FORM_ENTITIES = (*ENTITIES, "budget_amount")
_RELATION = re.compile(r"^\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*(=|<=|>=)\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*$")


def _load_yaml(path: Path) -> Any:
    # The C loader when PyYAML has it: a form file parses in milliseconds instead of ~0.1 s.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader


class CatalogError(ValueError):
    """A schema file is malformed."""


@dataclass(frozen=True)
class Codelist:
    name: str
    codes: tuple[str, ...]
    labels_vi: dict[str, str] = field(hash=False, compare=False)
    rows: tuple[dict[str, str], ...] = field(hash=False, compare=False)
    width: int = 0  # width of the numeric codes (to restore lost leading zeros), 0 if they vary


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    codelist: str | None = None
    max_length: int | None = None
    min: float | None = None
    max: float | None = None
    pii: str | None = None  # hash | year_month
    pattern: str | None = None  # regular expression the whole value must match (identifiers)
    note: str | None = None


@dataclass(frozen=True)
class RecordRule:
    """A rule over several fields or records of one entity (declared in the source YAML)."""

    id: str
    severity: str  # error | warning
    field: str
    message_vi: str
    message_en: str
    where: str | None = None  # SQL predicate true for failing rows
    duplicate_of: tuple[str, ...] = ()  # later occurrences of the same key in a school fail
    missing_in: dict[str, str] | None = None  # {entity, field, via}
    grade_matches: dict[str, str] | None = None  # {entity, field, via, grade}
    # A query listing the row_id of every failing row; it reads the entity's rows as `b` and may
    # join any staging or history table. $name is replaced by a parameter (params, or the run's
    # $start_year, $year_start, $as_of, $school_year, $period).
    query: str | None = None
    kind: str | None = None  # cross_field | cross_entity | identity | cross_period | outlier | …
    params: tuple[tuple[str, Any], ...] = ()
    source: str | None = None  # where the rule comes from (spec, note, form)
    # school: a row's result depends on its own school's records only (and reference data);
    # province: on other schools' records too, so a re-run checks every school again (validate.py).
    scope: str = "school"


@dataclass(frozen=True)
class Source:
    entity: str
    json_path: str
    label_vi: str
    label_en: str
    fields: tuple[Field, ...]
    rules: tuple[RecordRule, ...]

    @property
    def table(self) -> str:
        return f"stg_{self.entity}"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


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


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    names = set(cls.__dataclass_fields__)
    unknown = set(data) - names
    if unknown:
        raise CatalogError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise CatalogError(f"{where}: {exc}") from exc


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


@cache
def source(entity: str) -> Source:
    path = SCHEMAS / "sources" / f"{entity}.yaml"
    data = _load_yaml(path)
    fields = []
    for i, f in enumerate(data.get("fields", [])):
        fld = _build(Field, f, f"{path.name} field {i}")
        if fld.type not in FIELD_TYPES:
            raise CatalogError(f"{path.name} {fld.name}: unknown type {fld.type!r}")
        if fld.codelist:
            codelist(fld.codelist)
        fields.append(fld)
    rules = []
    for r in data.get("rules", []):
        r = dict(r)
        r["duplicate_of"] = tuple(r.get("duplicate_of", ()))
        r["params"] = tuple(sorted((r.get("params") or {}).items()))
        rule = _build(RecordRule, r, f"{path.name} rule {r.get('id')}")
        if rule.severity not in ("error", "warning"):
            raise CatalogError(f"{path.name} {rule.id}: severity must be error or warning")
        if rule.scope not in ("school", "province"):
            raise CatalogError(f"{path.name} {rule.id}: scope must be school or province")
        rules.append(rule)
    return Source(
        entity=data["entity"],
        json_path=data["json_path"],
        label_vi=data["label_vi"],
        label_en=data["label_en"],
        fields=tuple(fields),
        rules=tuple(rules),
    )


def sources() -> tuple[Source, ...]:
    return tuple(source(e) for e in ENTITIES)


@cache
def form(regime: str, name: str) -> Form:
    path = SCHEMAS / "forms" / regime / f"{name}.yaml"
    if not path.exists():
        raise CatalogError(f"form {regime}/{name} not found ({path})")
    data = _load_yaml(path)
    where = path.name
    if "extends" in data:
        # A form of a later regime whose grid is not public yet: another regime's grid as its
        # provisional content, with its own code, header and status (e.g. tt25/02.DN-TH).
        base_regime, base_name = data.pop("extends").split("/")
        data = {
            **_load_yaml(SCHEMAS / "forms" / base_regime / f"{base_name}.yaml"),
            **data,
            "base_form": base_name,
        }
    column_sets = {}
    for cs_name, cs in data.pop("column_sets").items():
        cols = tuple(_build(Column, c, f"{where} column {c.get('key')}") for c in cs["columns"])
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
        rows.append(_build(Row, raw, f"{where} row {raw.get('code')}"))
    sheets = tuple(_build(Sheet, s, f"{where} sheet") for s in data.pop("sheets"))
    attrs = tuple(
        SchoolAttribute(name=k, entity=v["entity"], filter=v.get("filter", "TRUE"))
        for k, v in data.pop("school_attributes", {}).items()
    )
    result = _build(
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


POPULATION_SEXES = ("all", "female", "male")
POPULATION_AGES = (0, 25)  # the single ages a population file may hold


@dataclass(frozen=True)
class Indicator:
    """A national indicator read off a form's cells: sum(numerator cells) − sum(minus cells) over
    sum(denominator cells), or a count when it has no denominator. A cell is (row code, column key).

    A rate over population (denominator_population) divides by the population of the unit, the
    school year's start year, the ages `population_ages` (inclusive) and `population_sex`. A gender
    parity index (gpi: female indicator id, male indicator id) divides the two rates; above 1 it is
    adjusted (UNESCO: 2 − 1/GPI).
    """

    id: str
    form: str
    name_vi: str
    name_en: str
    numerator: tuple[tuple[int, str], ...] = ()
    denominator: tuple[tuple[int, str], ...] = ()
    status: str = "sourced"
    scale: float = 1  # 100 for a rate in per cent
    minus: tuple[tuple[int, str], ...] = ()  # cells taken off the numerator (male = all − female)
    population_ages: tuple[int, int] | None = None
    population_sex: str = "all"
    gpi: tuple[str, str] = ()  # (female indicator id, male indicator id)
    # A cohort rate: the denominator cells are read from an earlier year's form, e.g. grade-1
    # pupils of 02-TH-DN four years before a primary completion: (form, period, years back).
    denominator_earlier: tuple[str, str, int] | None = None

    @property
    def kind(self) -> str:
        """count | ratio (of cells) | population (rate over population) | gpi | cohort."""
        if self.gpi:
            return "gpi"
        if self.denominator_earlier:
            return "cohort"
        if self.population_ages:
            return "population"
        return "ratio" if self.denominator else "count"


def _cells(value: Any) -> tuple[tuple[int, str], ...]:
    """[37, T.all] (one cell) or [[124, T.all], [157, T.all]] (a sum of cells)."""
    if not value:
        return ()
    items = value if isinstance(value[0], list) else [value]
    return tuple((int(row), str(col)) for row, col in items)


def _population(raw: dict[str, Any], where: str) -> None:
    """denominator_population: {ages: [6, 10], sex: all} → population_ages, population_sex."""
    pop = raw.pop("denominator_population", None)
    if pop is None:
        return
    if not isinstance(pop, dict) or set(pop) - {"ages", "sex"} or "ages" not in pop:
        raise CatalogError(
            f"{where}: denominator_population must be {{ages: [from, to], sex: all|female|male}}"
        )
    ages = pop["ages"]
    lo, hi = POPULATION_AGES
    if not (isinstance(ages, list) and len(ages) == 2 and all(isinstance(a, int) for a in ages)
            and lo <= ages[0] <= ages[1] <= hi):  # fmt: skip
        raise CatalogError(f"{where}: denominator_population ages must be [from, to] within {lo}-{hi}")
    sex = str(pop.get("sex", "all"))
    if sex not in POPULATION_SEXES:
        raise CatalogError(f"{where}: denominator_population sex must be one of {POPULATION_SEXES}")
    if raw.get("denominator"):
        raise CatalogError(f"{where}: a denominator of cells and a denominator_population exclude each other")
    raw["population_ages"] = (ages[0], ages[1])
    raw["population_sex"] = sex


@cache
def indicators(regime: str = "tt24") -> tuple[Indicator, ...]:
    """schemas/indicators/*.yaml, each checked against the grid of its form."""
    out: list[Indicator] = []
    for path in sorted((SCHEMAS / "indicators").glob("*.yaml")):
        for raw in _load_yaml(path)["indicators"]:
            raw = dict(raw)
            where = f"{path.name} indicator {raw.get('id')}"
            for key in ("numerator", "denominator", "minus"):
                raw[key] = _cells(raw.get(key))
            _population(raw, where)
            if "denominator_earlier" in raw:
                earlier = raw.pop("denominator_earlier")
                raw["denominator_earlier"] = (earlier["form"], earlier["period"], int(earlier["years_back"]))
                raw["denominator"] = _cells(earlier["cells"])
            if "gpi" in raw:
                gpi = raw["gpi"]
                if not isinstance(gpi, dict) or set(gpi) != {"female", "male"}:
                    raise CatalogError(
                        f"{where}: gpi must be {{female: <indicator id>, male: <indicator id>}}"
                    )
                raw["gpi"] = (str(gpi["female"]), str(gpi["male"]))
            ind = _build(Indicator, raw, where)
            if not ind.numerator and not ind.gpi:
                raise CatalogError(f"{where}: no numerator")
            if ind.gpi:
                known = {i.id: i for i in out}
                for ref in ind.gpi:
                    if ref not in known or known[ref].kind != "population" or known[ref].form != ind.form:
                        raise CatalogError(
                            f"{where}: gpi names {ref!r}, not an earlier population rate of {ind.form}"
                        )
            for form_name, cells in (
                (ind.form, ind.numerator + ind.minus),
                (ind.denominator_earlier[0] if ind.denominator_earlier else ind.form, ind.denominator),
            ):
                f = form(regime, form_name)
                printed = {(r.code, c.key) for r in f.cell_rows for c in f.columns_for(r)}
                for cell in cells:
                    if cell not in printed:
                        raise CatalogError(f"{path.name} {ind.id}: {form_name} prints no cell {cell}")
            out.append(ind)
    return tuple(out)
