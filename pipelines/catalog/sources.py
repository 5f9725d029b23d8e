"""The sources: each list of a school's file, its fields and its record rules (schemas/sources/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.catalog.codelists import codelist
from pipelines.catalog.loader import SCHEMAS, CatalogError, build, load_yaml

FIELD_TYPES = {"string", "integer", "number", "code", "flag", "date", "subject_list", "code_list"}
# New entities come last ("result": end-of-year results, LstKetQuaHocTap; "budget": the budget
# tab of 01-MN-ĐN, NganSach): the `files` table adds their count columns at the end.
ENTITIES = ("school", "site", "class", "learner", "staff", "rooms", "result", "budget")


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


@cache
def source(entity: str) -> Source:
    path = SCHEMAS / "sources" / f"{entity}.yaml"
    data = load_yaml(path)
    fields = []
    for i, f in enumerate(data.get("fields", [])):
        fld = build(Field, f, f"{path.name} field {i}")
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
        rule = build(RecordRule, r, f"{path.name} rule {r.get('id')}")
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
