"""The analysts' contract as declared in schemas/views.yaml: views, their columns and meanings, the
support tables they read, and the English terms of form column heads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipelines.catalog.codelists import codelist
from pipelines.catalog.forms import Form, form
from pipelines.catalog.loader import SCHEMAS, CatalogError, build, load_yaml
from pipelines.catalog.sources import Field, source

VIEWS_FILE = SCHEMAS / "views.yaml"
TYPES = {"VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP"}
_NAME = re.compile(r"[a-z][a-z0-9_]*")


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


@cache
def _spec() -> dict:
    return load_yaml(VIEWS_FILE)


@cache
def views() -> tuple[View, ...]:
    """The contract views of schemas/views.yaml, checked (names, types, sources, code lists)."""
    out = []
    for i, raw in enumerate(_spec()["views"]):
        raw = dict(raw)
        where = f"views.yaml view {raw.get('name', i)}"
        cols = []
        for c in raw.pop("columns"):
            col = build(ViewColumn, c, f"{where} column {c.get('name')}")
            if not _NAME.fullmatch(col.name) or col.type not in TYPES:
                raise CatalogError(f"{where}: column {col.name!r} type {col.type!r} (one of {sorted(TYPES)})")
            if col.source:
                try:
                    field = col.source_field
                except (KeyError, ValueError, FileNotFoundError) as exc:
                    raise CatalogError(f"{where}: column {col.name}: unknown source {col.source!r}") from exc
                # A personal field reaches a view only transformed (a keyed hash, a year), never as sent.
                if field.pii and not col.derived:
                    raise CatalogError(f"{where}: column {col.name} shows the personal field {col.source}")
            if col.codelist:
                codelist(col.codelist)
            cols.append(col)
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise CatalogError(f"{where}: duplicate column names")
        view = build(View, {**raw, "columns": tuple(cols)}, where)
        if not _NAME.fullmatch(view.name):
            raise CatalogError(f"{where}: bad view name")
        out.append(view)
    return tuple(out)


def column_terms() -> dict[str, str]:
    return dict(_spec()["column_terms"])


def column_label_en(header_vi: str) -> str:
    """English label of a form column header: each part ("Công lập / Dân tộc thiểu số - Nữ") translated."""
    terms = column_terms()

    def part(text: str) -> str:
        text = text.strip()
        if text not in terms:
            raise CatalogError(
                f"views.yaml column_terms: no English for {text!r} (column header {header_vi!r})"
            )
        return terms[text]

    return " / ".join(" - ".join(part(p) for p in level.split(" - ")) for level in header_vi.split(" / "))


def all_forms() -> list[Form]:
    """Every form of every regime (schemas/forms/<regime>/*.yaml)."""
    return [form(p.parent.name, p.stem) for p in sorted((SCHEMAS / "forms").glob("*/*.yaml"))]


def dictionary_rows() -> list[tuple]:
    """One row per view (column_name NULL) and per view column (DICTIONARY_COLUMNS)."""
    rows: list[tuple] = []
    for v in views():
        rows.append((v.name, None, "VIEW", None, _flat(v.meaning_vi), _flat(v.meaning_en)))
        for c in v.columns:
            vi, en = c.meaning_vi, c.meaning_en
            if c.source:
                entity, name = c.source.split(".", 1)
                path = source(entity).json_path
                how_vi, how_en = ("suy ra từ", "derived from") if c.derived else ("từ", "from")
                vi, en = f"{vi} ({how_vi} {path}.{name})", f"{en} ({how_en} {path}.{name})"
            rows.append((v.name, c.name, c.type, c.code_list, vi, en))
    return rows


def _flat(text: str) -> str:
    return " ".join(text.split())


def support_tables() -> tuple[tuple[str, str], ...]:
    """(name, sql) of the support tables of views.yaml: figures views read, computed once per run."""
    return tuple((t["name"], t["sql"]) for t in _spec().get("tables", ()))
