"""The forms: one YAML file each (schemas/forms/<regime>/*.yaml), its grid, rows, columns and relations.

`FormFile` is the model of a form file and `FormExtension` that of a form borrowing another regime's
grid (`extends`); both are exported as docs/schemas/form.schema.json. `Form` and its parts are the
frozen objects the pipeline reads (cache keys, pickled to worker processes).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, ValidationInfo, model_validator
from pydantic import Field as SpecField

from pipelines import settings
from pipelines.catalog.loader import (
    SCHEMAS,
    CatalogError,
    Loc,
    Spec,
    cached,
    problem_at,
    read_yaml,
    reference_problems,
    root_of,
    validate,
)
from pipelines.catalog.sources import ENTITIES

# What a form row may count: the typed table of every source, and the tables pipelines/sql derives
# from them (budget_amount: one row per budget entry and amount column, so a budget form's
# columns are an ordinary column dimension).
FORM_ENTITIES = (*ENTITIES, "budget_amount")
RELATION_PATTERN = r"^\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*(=|<=|>=)\s*([\w.]+(?:\s*\+\s*[\w.]+)*)\s*$"
_RELATION = re.compile(RELATION_PATTERN)
_ROW_TERM = re.compile(r"r(\d+)")


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
    style: str | None = None  # how the row prints (ROW_STYLES); None: from its TT and label
    # The cells the real export prints without a figure (column key → "" empty, or a marker such as
    # "?"); the warehouse and the tidy tables keep the figures (presentation only).
    printed_as: tuple[tuple[str, str], ...] = ()


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
    # The form whose workbook prints this form's sheets after its own (the budget tab of 01-MN-ĐN is
    # a form of its own, printed as a sheet of the 01-MN-ĐN workbook); None: a workbook of its own.
    printed_in: str | None = None
    # The bases (F, L, I) of the `=` relations whose total cells the workbook writes as a formula
    # with its value cached, where the unit's figures satisfy the relation.
    formulas: tuple[str, ...] = ("F", "L", "I")

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


# ---------------------------------------------------------------------------------------------
# The file models


def _relation_syntax(check: str) -> str:
    if not _RELATION.match(check):
        raise ValueError(f"relation {check!r} is not of the form 'a = b + c', 'a <= b', 'a >= b'")
    return check


FormEntity = Literal[FORM_ENTITIES]  # type: ignore[valid-type]
Regime = Literal[tuple(settings.REGIMES)]  # type: ignore[valid-type]
Period = Literal[tuple(settings.PERIODS)]  # type: ignore[valid-type]
FormStatus = Literal["official", "inferred", "provisional"]
Basis = Literal["F", "L", "I"]
# How a row prints: section (bold capitals: I, II …), bold (a numbered item), plain, label (italic:
# "Chia ra:", "Trong đó:"), indent (a "- " part), indent2 (a "+ " part). By default from the row's TT
# and label (pipelines/outputs/layout.py); `style` overrides it.
ROW_STYLES = ("section", "bold", "plain", "label", "indent", "indent2")
RowStyle = Literal[ROW_STYLES]  # type: ignore[valid-type]
Name = Annotated[str, SpecField(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Check = Annotated[
    str,
    AfterValidator(_relation_syntax),
    SpecField(
        description="lhs = a + b, lhs <= a or lhs >= a over row codes (r12) or column keys (T.all)",
        json_schema_extra={"pattern": RELATION_PATTERN},
    ),
]


class RelationSpec(Spec):
    """A relation the cells must satisfy; basis F = formula of the source workbook, L = implied by
    the wording, I = inferred."""

    check: Check
    basis: Literal["F", "L", "I"] | None = None


class ColumnSpec(Spec):
    key: Annotated[str, SpecField(pattern=r"^[\w.]+$", description="the column's key in cells (T.all)")]
    excel_col: Annotated[str, SpecField(pattern=r"^[A-Z]{1,3}$")]
    number: Annotated[int, SpecField(ge=1)]
    header_vi: str
    filter: str = SpecField(description="SQL over the row's entity; the column counts where it is true")


class ColumnSetSpec(Spec):
    dims: list[str]
    columns: list[ColumnSpec] = SpecField(min_length=1)


class SheetSpec(Spec):
    name: str
    heading_vi: str
    column_set: str = SpecField(description="a key of column_sets")
    title_block: bool = False
    footer_vi: str | None = None


class SchoolAttributeSpec(Spec):
    """A count per school rows may filter on (n_classes < 9)."""

    entity: FormEntity
    filter: str = "TRUE"


class PrintedAsSpec(Spec):
    """Cells the real export prints without a figure (empty, or a marker such as "?"): the workbook
    prints them the same, never 0; the warehouse and the tidy tables keep the figures."""

    text: Annotated[str, SpecField(max_length=3)] = SpecField(
        "", description='what the cells print: "" (empty) or a marker such as "?" (not computed)'
    )
    columns: list[str] = SpecField(
        default_factory=list, description="column keys printed so; none: every column of the row"
    )
    source: str = SpecField(min_length=1, description="where the real export prints the cells so")


class RowSpec(Spec):
    """A printed row: with a code, a row of cells measure(entity WHERE scope AND filter AND column
    filter); without one, a label."""

    sheet: str
    label_vi: str
    label_en: str
    code: Annotated[int, SpecField(ge=1)] | None = None
    tt: str | None = None
    unit: str | None = None
    entity: FormEntity | None = None
    measure: str = "count"
    filter: str = "TRUE"
    relations: list[RelationSpec] = []
    not_applicable: list[str] = SpecField(
        default_factory=list, description="column keys the row does not print"
    )
    style: RowStyle | None = SpecField(
        None, description="how the row prints; by default from its TT and label (presentation)"
    )
    printed_as: PrintedAsSpec | None = SpecField(
        None, description="cells printed without a figure, as the real export (presentation)"
    )

    @model_validator(mode="after")
    def _cells_or_label(self) -> RowSpec:
        if self.code is not None and self.entity is None:
            raise ValueError(f"row {self.code} needs an entity (one of {', '.join(FORM_ENTITIES)})")
        if self.code is None:
            cell_keys = {"entity", "unit", "measure", "filter", "relations", "not_applicable", "printed_as"}
            given = sorted(cell_keys & self.model_fields_set)
            if given:
                raise ValueError(f"a row without a code is a label: it has no {', '.join(given)}")
        return self


class FormFile(Spec):
    """schemas/forms/<regime>/<form>.yaml: a statistical form, its grid and its relations."""

    form: str = SpecField(description="the form's id: the file name without .yaml")
    code_printed: str
    regime: Regime
    period: Period
    education_level: Annotated[str, SpecField(pattern=r"^\d{2}$")]
    status: FormStatus
    status_note: str
    source: str
    title_vi: str
    title_en: str
    period_vi: str
    as_of_vi: str
    scope: dict[FormEntity, str] = SpecField(description="SQL per entity: what the form counts at all")
    school_attributes: dict[Name, SchoolAttributeSpec] = {}
    sheets: list[SheetSpec] = SpecField(min_length=1)
    column_sets: dict[Name, ColumnSetSpec]
    column_relations: dict[str, list[RelationSpec]] = {}
    rows: list[RowSpec] = SpecField(min_length=1)
    display_scale: Annotated[int, SpecField(ge=1)] = 1
    display_decimals: Annotated[int, SpecField(ge=0, le=6)] = 0
    printed_in: str | None = SpecField(
        None, description="a form of the same regime and period whose workbook prints this form's sheets"
    )
    formulas: list[Basis] = SpecField(
        default_factory=lambda: ["F", "L", "I"],
        description="bases of the = relations whose totals the workbook writes as formulas (presentation)",
    )

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> FormFile:
        path = (info.context or {}).get("path")
        reference_problems([*_identity_problems(self, path), *form_problems(self)])
        return self


class FormExtension(Spec):
    """A form of a later regime whose grid is not public yet: another regime's grid (`extends`) as its
    provisional content, with its own id, code, header and status."""

    extends: Annotated[
        str, SpecField(pattern=r"^[a-z0-9]+/[^/]+$", description="<regime>/<form> of the grid")
    ]
    form: str
    regime: Regime
    status: FormStatus
    status_note: str
    source: str
    code_printed: str | None = None
    title_vi: str | None = None
    title_en: str | None = None
    period_vi: str | None = None
    as_of_vi: str | None = None
    printed_in: str | None = SpecField(
        None, description="the form of this regime whose workbook prints this form's sheets (as the grid's)"
    )

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> FormExtension:
        path = (info.context or {}).get("path")
        problems = _identity_problems(self, path)
        base_regime = self.extends.split("/")[0]
        # The grid of an earlier regime: a form cannot borrow its own grid or a later one (no cycles).
        if settings.REGIMES.get(base_regime, settings.REGIMES[self.regime]) >= settings.REGIMES[self.regime]:
            problems.append((("extends",), f"a {self.regime} form extends a form of an earlier regime, not {base_regime}"))  # fmt: skip
        elif not (root_of(info.context) / "forms" / f"{self.extends}.yaml").exists():
            problems.append((("extends",), f"no form {self.extends} (schemas/forms/{self.extends}.yaml)"))
        reference_problems(problems)
        return self


def _identity_problems(spec: FormFile | FormExtension, path: Path | None) -> list[tuple[Loc, str]]:
    """A form file is found by its folder (regime) and name (form id): they must say the same."""
    if path is None:
        return []
    out: list[tuple[Loc, str]] = []
    if spec.form != path.stem:
        out.append((("form",), f"the file {path.name} must declare form {path.stem}"))
    if spec.regime != path.parent.name:
        out.append(
            (("regime",), f"a form in forms/{path.parent.name}/ must declare regime {path.parent.name}")
        )
    return out


def form_problems(spec: FormFile) -> list[tuple[Loc, str]]:
    """Cross-references inside a form: sheets → column sets, rows → sheets, relations → rows and
    columns, not_applicable → columns, unique row codes and column keys."""
    out: list[tuple[Loc, str]] = []
    if "school" not in spec.scope:
        out.append((("scope",), "missing key 'school' (which schools the form counts)"))
    sheet_sets: dict[str, str] = {}
    for i, s in enumerate(spec.sheets):
        if s.name in sheet_sets:
            out.append((("sheets", i, "name"), f"duplicate sheet {s.name}"))
        sheet_sets[s.name] = s.column_set
        if s.column_set not in spec.column_sets:
            out.append((("sheets", i, "column_set"), f"unknown column set {s.column_set} (column_sets: {', '.join(spec.column_sets)})"))  # fmt: skip
    keys: dict[str, set[str]] = {}
    for name, cs in spec.column_sets.items():
        keys[name] = set()
        for j, c in enumerate(cs.columns):
            if c.key in keys[name]:
                out.append((("column_sets", name, "columns", j, "key"), f"duplicate column {c.key}"))
            keys[name].add(c.key)
    for name, rels in spec.column_relations.items():
        if name not in keys:
            out.append((("column_relations", name), f"unknown column set {name}"))
            continue
        for j, rel in enumerate(rels):
            unknown = [t for t in _terms(rel.check) if t not in keys[name]]
            if unknown:
                out.append(
                    (("column_relations", name, j, "check"), f"{', '.join(unknown)}: not a column of {name}")
                )
    codes = {r.code for r in spec.rows if r.code is not None}
    seen: set[int] = set()
    for i, r in enumerate(spec.rows):
        if r.code is not None and r.code in seen:
            out.append((("rows", i, "code"), f"duplicate row code {r.code}"))
        if r.code is not None:
            seen.add(r.code)
        if r.sheet not in sheet_sets:
            out.append((("rows", i, "sheet"), f"unknown sheet {r.sheet} (sheets: {', '.join(sheet_sets)})"))
        for j, rel in enumerate(r.relations):
            for term in _terms(rel.check):
                m = _ROW_TERM.fullmatch(term)
                if not m or int(m.group(1)) not in codes:
                    out.append((("rows", i, "relations", j, "check"), f"unknown row {term} (a row relation names rows: r<code>)"))  # fmt: skip
        printed = keys.get(sheet_sets.get(r.sheet, ""))
        for k, key in enumerate(r.not_applicable if printed is not None else ()):  # else reported above
            if key not in printed:
                out.append((("rows", i, "not_applicable", k), f"{key} is not a column of the row's sheet"))
        for k, key in enumerate(r.printed_as.columns if r.printed_as and printed is not None else ()):
            if key not in printed:
                out.append((("rows", i, "printed_as", "columns", k), f"{key} is not a column of the row's sheet"))  # fmt: skip
            elif key in r.not_applicable:
                out.append((("rows", i, "printed_as", "columns", k), f"{key} is not applicable (#) already"))  # fmt: skip
    return out


def _terms(check: str) -> list[str]:
    rel = parse_relation(check)
    return [*rel.lhs, *rel.rhs]


# ---------------------------------------------------------------------------------------------
# Loading


def form_path(regime: str, name: str, root: Path = SCHEMAS) -> Path:
    return root / "forms" / regime / f"{name}.yaml"


@cached
def form(regime: str, name: str, root: Path = SCHEMAS) -> Form:
    path = form_path(regime, name, root)
    if not path.exists():
        raise CatalogError(f"form {regime}/{name} not found ({path})")
    data = read_yaml(path, root)
    if not (isinstance(data, dict) and "extends" in data):
        return _form(validate(FormFile, data, path, root))
    spec = validate(FormExtension, data, path, root)
    # A form of a later regime whose grid is not public yet: another regime's grid as its
    # provisional content, with its own code, header and status (e.g. tt25/02.DN-TH).
    base_regime, base_name = spec.extends.split("/")
    base = form(base_regime, base_name, root)
    if base.base_form is not None:
        raise problem_at(
            path, root, ("extends",), f"{spec.extends} extends a form itself: extend a full grid"
        )
    own = {k: getattr(spec, k) for k in spec.model_fields_set - {"extends"}}
    if base.printed_in is not None and spec.printed_in is None:
        raise problem_at(
            path, root, ("printed_in",),
            f"{spec.extends} is printed in {base.printed_in}'s workbook: name the form of {spec.regime} that prints it",
        )  # fmt: skip
    return dataclasses.replace(base, **own, base_form=base_name)


def _form(spec: FormFile) -> Form:
    return Form(
        form=spec.form,
        code_printed=spec.code_printed,
        regime=spec.regime,
        period=spec.period,
        education_level=spec.education_level,
        status=spec.status,
        status_note=spec.status_note,
        source=spec.source,
        title_vi=spec.title_vi,
        title_en=spec.title_en,
        period_vi=spec.period_vi,
        as_of_vi=spec.as_of_vi,
        scope=dict(spec.scope),
        school_attributes=tuple(
            SchoolAttribute(k, a.entity, a.filter) for k, a in spec.school_attributes.items()
        ),
        sheets=tuple(
            Sheet(s.name, s.heading_vi, s.column_set, s.title_block, s.footer_vi) for s in spec.sheets
        ),
        column_sets={
            name: ColumnSet(
                name,
                tuple(cs.dims),
                tuple(Column(c.key, c.excel_col, c.number, c.header_vi, c.filter) for c in cs.columns),
            )
            for name, cs in spec.column_sets.items()
        },
        column_relations={
            name: tuple(parse_relation(r.check, r.basis) for r in rels)
            for name, rels in spec.column_relations.items()
        },
        rows=tuple(
            Row(
                sheet=r.sheet,
                label_vi=r.label_vi,
                label_en=r.label_en,
                code=r.code,
                tt=r.tt,
                unit=r.unit,
                entity=r.entity,
                measure=r.measure,
                filter=r.filter,
                relations=tuple(parse_relation(rel.check, rel.basis) for rel in r.relations),
                not_applicable=tuple(r.not_applicable),
                style=r.style,
                printed_as=_printed_as(spec, r),
            )
            for r in spec.rows
        ),
        display_scale=spec.display_scale,
        display_decimals=spec.display_decimals,
        printed_in=spec.printed_in,
        formulas=tuple(spec.formulas),
    )


def _printed_as(spec: FormFile, row: RowSpec) -> tuple[tuple[str, str], ...]:
    """(column key, text) of the row's cells printed without a figure (every column of its sheet but
    the not applicable ones, where printed_as names none)."""
    if row.printed_as is None:
        return ()
    keys = row.printed_as.columns or [
        c.key
        for c in spec.column_sets[next(s.column_set for s in spec.sheets if s.name == row.sheet)].columns
        if c.key not in row.not_applicable
    ]
    return tuple((k, row.printed_as.text) for k in keys)


def forms_for(regime: str, period: str, root: Path = SCHEMAS) -> tuple[Form, ...]:
    """Every form of a regime and period (one YAML file each)."""
    folder = root / "forms" / regime
    found = tuple(form(regime, p.stem, root) for p in sorted(folder.glob("*.yaml")))
    of_period = tuple(f for f in found if f.period == period)
    names = {f.form for f in of_period}
    for f in of_period:
        if f.printed_in is not None and f.printed_in not in names:
            raise CatalogError(
                f"{form_path(regime, f.form, root)}: printed_in {f.printed_in} is not a {period} form of {regime}"
            )
    return of_period
