"""The analysts' contract as declared in schemas/views.yaml: views, their columns and meanings, the
support tables they read, and the English terms of form column heads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field as SpecField
from pydantic import ValidationInfo, model_validator

from pipelines.catalog.codelists import has_codelist
from pipelines.catalog.forms import Form, form
from pipelines.catalog.loader import (
    SCHEMAS,
    CatalogError,
    Loc,
    Spec,
    cached,
    load_other,
    read_file,
    reference_problems,
    root_of,
)
from pipelines.catalog.sources import Field, source

VIEWS_FILE = SCHEMAS / "views.yaml"
TYPES = {"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP"}
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"


@dataclass(frozen=True)
class ViewColumn:
    name: str
    type: str
    meaning_vi: str
    meaning_en: str
    source: str | None = None  # entity.Field of schemas/sources
    codelist: str | None = None
    derived: bool = False  # computed from the source field rather than its code as sent

    @property
    def source_field(self) -> Field | None:
        if not self.source:
            return None
        entity, name = self.source.split(".", 1)
        return source(entity).field(name)

    @property
    def code_list(self) -> str | None:
        """The column's code list: its own, else its source field's when it holds the code as sent."""
        if self.codelist:
            return self.codelist
        f = self.source_field
        return f.codelist if f is not None and not self.derived else None


@dataclass(frozen=True)
class View:
    name: str
    meaning_vi: str
    meaning_en: str
    sql: str
    columns: tuple[ViewColumn, ...]


# ---------------------------------------------------------------------------------------------
# The file model

ViewName = Annotated[str, SpecField(pattern=NAME_PATTERN)]


class ViewColumnSpec(Spec):
    name: ViewName
    type: Literal[tuple(sorted(TYPES))]  # type: ignore[valid-type]
    meaning_vi: str
    meaning_en: str
    source: Annotated[str, SpecField(pattern=r"^[a-z_]+\.\w+$", description="entity.Field of schemas/sources")] | None = None  # fmt: skip
    codelist: Annotated[str, SpecField(pattern=r"^[a-z0-9_]+$")] | None = None
    derived: bool = SpecField(False, description="computed from the source field, not its value as sent")


class ViewSpec(Spec):
    name: ViewName
    meaning_vi: str
    meaning_en: str
    sql: str
    columns: list[ViewColumnSpec] = SpecField(min_length=1)


class TableSpec(Spec):
    """A support table computed once per run before the views (not part of the contract)."""

    name: ViewName
    sql: str


class ViewsFile(Spec):
    """schemas/views.yaml: the analysts' contract (views, their columns and meanings), the support
    tables they read, and the English terms of the form column heads."""

    tables: list[TableSpec] = []
    column_terms: dict[str, str] = SpecField(description="English for the parts of form column heads")
    views: list[ViewSpec] = SpecField(min_length=1)

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> ViewsFile:
        reference_problems(view_problems(self, root_of(info.context)))
        return self


def view_problems(spec: ViewsFile, root: Path) -> list[tuple[Loc, str]]:
    """Unique names; every column's source a field of schemas/sources, never a personal one shown
    as sent; every code list present."""
    out: list[tuple[Loc, str]] = []
    names = [t.name for t in spec.tables] + [v.name for v in spec.views]
    for i, v in enumerate(spec.views):
        if v.name in names[: len(spec.tables) + i]:
            out.append((("views", i, "name"), f"duplicate view or table name {v.name}"))
        columns: set[str] = set()
        for j, c in enumerate(v.columns):
            at: Loc = ("views", i, "columns", j)
            if c.name in columns:
                out.append(((*at, "name"), f"duplicate column {c.name} in view {v.name}"))
            columns.add(c.name)
            if c.source:
                entity, name = c.source.split(".", 1)
                if not (root / "sources" / f"{entity}.yaml").exists():
                    out.append(
                        ((*at, "source"), f"unknown source {c.source!r}: no schemas/sources/{entity}.yaml")
                    )
                    continue
                fields = {f.name: f for f in load_other(source, entity, root).fields}
                if name not in fields:
                    out.append(
                        ((*at, "source"), f"unknown source {c.source!r}: {entity} has no field {name}")
                    )
                # A personal field reaches a view only transformed (a keyed hash, a year), never as sent.
                elif fields[name].pii and not c.derived:
                    out.append(((*at, "source"), f"{c.source} is a personal field (pii: {fields[name].pii}): a view shows it only derived (derived: true, a hash or a year), never as sent"))  # fmt: skip
            if c.codelist and not has_codelist(c.codelist, root):
                out.append(
                    ((*at, "codelist"), f"no code list {c.codelist} (schemas/codelists, schemas/hierarchy)")
                )
    return out


@cached
def views_file(root: Path = SCHEMAS) -> ViewsFile:
    """schemas/views.yaml, validated."""
    return read_file(ViewsFile, root / VIEWS_FILE.name, root)


@cached
def views(root: Path = SCHEMAS) -> tuple[View, ...]:
    """The contract views of schemas/views.yaml, checked (names, types, sources, code lists)."""
    return tuple(
        View(
            name=v.name,
            meaning_vi=v.meaning_vi,
            meaning_en=v.meaning_en,
            sql=v.sql,
            columns=tuple(
                ViewColumn(c.name, c.type, c.meaning_vi, c.meaning_en, c.source, c.codelist, c.derived)
                for c in v.columns
            ),
        )
        for v in views_file(root).views
    )


def column_terms(root: Path = SCHEMAS) -> dict[str, str]:
    return dict(views_file(root).column_terms)


def column_label_en(header_vi: str, root: Path = SCHEMAS) -> str:
    """English label of a form column header: each part ("Công lập / Dân tộc thiểu số - Nữ") translated."""
    terms = views_file(root).column_terms

    def part(text: str) -> str:
        text = text.strip()
        if text not in terms:
            raise CatalogError(
                f"views.yaml column_terms: no English for {text!r} (column header {header_vi!r})"
            )
        return terms[text]

    return " / ".join(" - ".join(part(p) for p in level.split(" - ")) for level in header_vi.split(" / "))


def all_forms(root: Path = SCHEMAS) -> list[Form]:
    """Every form of every regime (schemas/forms/<regime>/*.yaml)."""
    return [form(p.parent.name, p.stem, root) for p in sorted((root / "forms").glob("*/*.yaml"))]


def dictionary_rows(root: Path = SCHEMAS) -> list[tuple]:
    """One row per view (column_name NULL) and per view column (DICTIONARY_COLUMNS)."""
    rows: list[tuple] = []
    for v in views(root):
        rows.append((v.name, None, "VIEW", None, _flat(v.meaning_vi), _flat(v.meaning_en)))
        for c in v.columns:
            vi, en = c.meaning_vi, c.meaning_en
            if c.source:
                entity, name = c.source.split(".", 1)
                path = source(entity, root).json_path
                how_vi, how_en = ("suy ra từ", "derived from") if c.derived else ("từ", "from")
                vi, en = f"{vi} ({how_vi} {path}.{name})", f"{en} ({how_en} {path}.{name})"
            rows.append((v.name, c.name, c.type, c.code_list, vi, en))
    return rows


def _flat(text: str) -> str:
    return " ".join(text.split())


def support_tables(root: Path = SCHEMAS) -> tuple[tuple[str, str], ...]:
    """(name, sql) of the support tables of views.yaml: figures views read, computed once per run."""
    return tuple((t.name, t.sql) for t in views_file(root).tables)
