"""The sources: each list of a school's file, its fields and its record rules (schemas/sources/*.yaml).

`SourceFile` is the model of one file (exported as docs/schemas/sources.schema.json); `Source`,
`Field` and `RecordRule` are the frozen objects the pipeline reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, ValidationInfo, model_validator
from pydantic import Field as SpecField

from pipelines.catalog.codelists import codelist, has_codelist
from pipelines.catalog.loader import (
    SCHEMAS,
    CatalogError,
    Loc,
    Spec,
    cached,
    load_yaml,
    read_file,
    reference_problems,
    root_of,
)

FieldType = Literal["string", "integer", "number", "code", "flag", "date", "subject_list", "code_list"]
FIELD_TYPES = set(get_args(FieldType))
CODED_TYPES = ("code", "code_list")  # the types whose values come from a code list
# New entities come last ("result": end-of-year results, LstKetQuaHocTap; "budget": the budget
# tab of 01-MN-ĐN, NganSach): the `files` table adds their count columns at the end.
ENTITIES = ("school", "site", "class", "learner", "staff", "rooms", "result", "budget")
Entity = Literal[ENTITIES]  # type: ignore[valid-type]
Severity = Literal["error", "warning"]
# school: a rule's result for a row depends on its own school's records only (and reference data);
# province: on other schools' records too, so a re-run checks every school again (validate).
Scope = Literal["school", "province"]
RuleKind = Literal["cross_field", "cross_entity", "identity", "cross_period", "outlier"]
Pii = Literal["hash", "year_month"]
# How a declared rule finds its failing rows: exactly one of these keys.
RULE_TESTS = ("where", "query", "duplicate_of", "missing_in", "grade_matches")


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
    kind: str | None = None  # cross_field | cross_entity | identity | cross_period | outlier
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


# ---------------------------------------------------------------------------------------------
# The file model


def _regular_expression(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


Name = Annotated[str, SpecField(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
CodelistName = Annotated[str, SpecField(pattern=r"^[a-z0-9_]+$", description="schemas/codelists/<name>.csv")]


class FieldSpec(Spec):
    """A field of the list: its name in the school's JSON file, its type and its checks."""

    name: Name
    type: FieldType
    required: bool = False
    codelist: CodelistName | None = None
    max_length: Annotated[int, SpecField(ge=1)] | None = None
    min: int | float | None = None
    max: int | float | None = None
    pii: Pii | None = SpecField(None, description="personal: hash = keyed hash at ingest, year_month = cut")
    pattern: Annotated[str, AfterValidator(_regular_expression)] | None = SpecField(
        None, description="a regular expression the whole value must match"
    )
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type in CODED_TYPES and self.codelist is None:
            raise ValueError(f"a field of type {self.type} needs a codelist")
        if self.codelist is not None and self.type not in CODED_TYPES:
            raise ValueError(f"a codelist needs the type code or code_list, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class MissingInSpec(Spec):
    """The record's `via` field must match `field` of some record of `entity` in the same school."""

    entity: Entity
    field: Name
    via: Name


class GradeMatchesSpec(MissingInSpec):
    """The record's `grade` must equal that of the record of `entity` it names through `via`."""

    grade: Name


class RuleSpec(Spec):
    """A record rule: exactly one of where, query, duplicate_of, missing_in, grade_matches."""

    id: Annotated[str, SpecField(pattern=r"^[a-z_]+\.[a-z0-9_]+$")]
    kind: RuleKind | None = None
    severity: Severity
    field: Name = SpecField(description="the field a failing row is reported on")
    message_vi: str
    message_en: str
    where: str | None = SpecField(None, description="SQL predicate true for failing rows")
    query: str | None = SpecField(None, description="SQL listing the row_id of failing rows; reads rows as b")
    duplicate_of: list[Name] | None = None
    missing_in: MissingInSpec | None = None
    grade_matches: GradeMatchesSpec | None = None
    params: dict[Name, int | float] = SpecField(default_factory=dict, description="$name values of the query")
    source: str | None = None
    scope: Scope = "school"

    @model_validator(mode="after")
    def _one_test(self) -> RuleSpec:
        tests = [t for t in RULE_TESTS if getattr(self, t) is not None]
        if len(tests) != 1:
            raise ValueError(
                f"a rule needs exactly one of {', '.join(RULE_TESTS)} (it has {tests or 'none'})"
            )
        if self.params and self.query is None:
            raise ValueError("params are the $names of a query: this rule has no query")
        return self


class SourceFile(Spec):
    """schemas/sources/<entity>.yaml: one list of a school's JSON file, its fields and record rules."""

    entity: Entity
    json_path: str = SpecField(description="the list's key in the school's JSON file (LstHocSinh)")
    label_vi: str
    label_en: str
    fields: list[FieldSpec] = SpecField(min_length=1)
    rules: list[RuleSpec] = []

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> SourceFile:
        reference_problems(source_problems(self, root_of(info.context), (info.context or {}).get("path")))
        return self


def source_problems(spec: SourceFile, root: Path, path: Path | None) -> list[tuple[Loc, str]]:
    """Cross-references of a source file: its name, its fields' code lists, its rules' fields."""
    out: list[tuple[Loc, str]] = []
    if path is not None and path.stem != spec.entity:
        out.append((("entity",), f"the file {path.name} must declare entity {path.stem}"))
    names = [f.name for f in spec.fields]
    for i, f in enumerate(spec.fields):
        if f.name in names[:i]:
            out.append((("fields", i, "name"), f"duplicate field {f.name}"))
        if f.codelist is not None and not has_codelist(f.codelist, root):
            out.append(
                (
                    ("fields", i, "codelist"),
                    f"no code list {f.codelist} (schemas/codelists, schemas/hierarchy)",
                )
            )
    ids = [r.id for r in spec.rules]
    for i, r in enumerate(spec.rules):
        if r.id in ids[:i]:
            out.append((("rules", i, "id"), f"duplicate rule id {r.id}"))
        if not r.id.startswith(f"{spec.entity}."):
            out.append((("rules", i, "id"), f"a rule id of {spec.entity} starts with '{spec.entity}.'"))
        if r.field not in names:
            out.append((("rules", i, "field"), f"{spec.entity} has no field {r.field}"))
        for j, key in enumerate(r.duplicate_of or ()):
            if key not in names:
                out.append((("rules", i, "duplicate_of", j), f"{spec.entity} has no field {key}"))
        for test in (r.missing_in, r.grade_matches):
            if test is None:
                continue
            name = "missing_in" if test is r.missing_in else "grade_matches"
            if test.via not in names:
                out.append((("rules", i, name, "via"), f"{spec.entity} has no field {test.via}"))
            other = names if test.entity == spec.entity else field_names(test.entity, root)
            for key in ("field", "grade") if isinstance(test, GradeMatchesSpec) else ("field",):
                if getattr(test, key) not in other:
                    out.append((("rules", i, name, key), f"{test.entity} has no field {getattr(test, key)}"))
    return out


def field_names(entity: str, root: Path = SCHEMAS) -> tuple[str, ...]:
    """The field names another source declares, read without validating it (sources may name each
    other: a rule of one checks a field of the other)."""
    path = root / "sources" / f"{entity}.yaml"
    data = load_yaml(path) if path.exists() else None
    fields = data.get("fields") if isinstance(data, dict) else None
    return tuple(f["name"] for f in fields or () if isinstance(f, dict) and "name" in f)


# ---------------------------------------------------------------------------------------------
# Loading


@cached
def source_file(entity: str, root: Path = SCHEMAS) -> SourceFile:
    """schemas/sources/<entity>.yaml, validated."""
    path = root / "sources" / f"{entity}.yaml"
    if not path.exists():
        raise CatalogError(f"source {entity!r} not found ({path})")
    return read_file(SourceFile, path, root)


@cached
def source(entity: str, root: Path = SCHEMAS) -> Source:
    spec = source_file(entity, root)
    for f in spec.fields:
        if f.codelist:
            codelist(f.codelist, root)  # a broken code list fails here, not in the middle of a run
    return Source(
        entity=spec.entity,
        json_path=spec.json_path,
        label_vi=spec.label_vi,
        label_en=spec.label_en,
        fields=tuple(
            Field(
                f.name, f.type, f.required, f.codelist, f.max_length, f.min, f.max, f.pii, f.pattern, f.note
            )
            for f in spec.fields
        ),
        rules=tuple(_rule(r) for r in spec.rules),
    )


def _rule(r: RuleSpec) -> RecordRule:
    return RecordRule(
        id=r.id,
        severity=r.severity,
        field=r.field,
        message_vi=r.message_vi,
        message_en=r.message_en,
        where=r.where,
        duplicate_of=tuple(r.duplicate_of or ()),
        missing_in=r.missing_in.model_dump() if r.missing_in else None,
        grade_matches=r.grade_matches.model_dump() if r.grade_matches else None,
        query=r.query,
        kind=r.kind,
        params=tuple(sorted(r.params.items())),
        source=r.source,
        scope=r.scope,
    )


def sources(root: Path = SCHEMAS) -> tuple[Source, ...]:
    return tuple(source(e, root) for e in ENTITIES)
