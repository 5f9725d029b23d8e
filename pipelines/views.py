"""The analysts' contract: stable, documented views over the warehouse and every release.

`schemas/views.yaml` declares each view (name, meaning, SQL, and its columns with type, meaning,
code list and source field). `create_views(con)` loads the form catalogue into small tables
(`catalog_forms`, `catalog_rows`, `catalog_columns`, `catalog_fields`), creates every view with
its declared column types, and writes the table `data_dictionary`. `render_dictionary()` gives
docs/dictionary.md from the same declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from pipelines import catalog, warehouse

VIEWS_FILE = catalog.SCHEMAS / "views.yaml"
DICTIONARY_TABLE = "data_dictionary"
CATALOGUE_TABLES = ("catalog_forms", "catalog_rows", "catalog_columns", "catalog_fields")
DICTIONARY_COLUMNS = ("view_name", "column_name", "data_type", "codelist", "meaning_vi", "meaning_en")
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
    def source_field(self) -> catalog.Field | None:
        if not self.source:
            return None
        entity, name = self.source.split(".", 1)
        return catalog.source(entity).field(name)

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
    return catalog._load_yaml(VIEWS_FILE)


@cache
def views() -> tuple[View, ...]:
    """The contract views of schemas/views.yaml, checked (names, types, sources, code lists)."""
    out = []
    for i, raw in enumerate(_spec()["views"]):
        raw = dict(raw)
        where = f"views.yaml view {raw.get('name', i)}"
        cols = []
        for c in raw.pop("columns"):
            col = catalog._build(ViewColumn, c, f"{where} column {c.get('name')}")
            if not _NAME.fullmatch(col.name) or col.type not in TYPES:
                raise catalog.CatalogError(
                    f"{where}: column {col.name!r} type {col.type!r} (one of {sorted(TYPES)})"
                )
            if col.source:
                try:
                    field = col.source_field
                except (KeyError, ValueError, FileNotFoundError) as exc:
                    raise catalog.CatalogError(
                        f"{where}: column {col.name}: unknown source {col.source!r}"
                    ) from exc
                # A personal field reaches a view only transformed (a keyed hash, a year), never as sent.
                if field.pii and not col.derived:
                    raise catalog.CatalogError(
                        f"{where}: column {col.name} shows the personal field {col.source}"
                    )
            if col.codelist:
                catalog.codelist(col.codelist)
            cols.append(col)
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise catalog.CatalogError(f"{where}: duplicate column names")
        view = catalog._build(View, {**raw, "columns": tuple(cols)}, where)
        if not _NAME.fullmatch(view.name):
            raise catalog.CatalogError(f"{where}: bad view name")
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
            raise catalog.CatalogError(
                f"views.yaml column_terms: no English for {text!r} (column header {header_vi!r})"
            )
        return terms[text]

    return " / ".join(" - ".join(part(p) for p in level.split(" - ")) for level in header_vi.split(" / "))


# --- the catalogue as tables ----------------------------------------------------------------------


def all_forms() -> list[catalog.Form]:
    """Every form of every regime (schemas/forms/<regime>/*.yaml)."""
    return [catalog.form(p.parent.name, p.stem) for p in sorted((catalog.SCHEMAS / "forms").glob("*/*.yaml"))]


def load_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write catalog_forms, catalog_rows, catalog_columns and catalog_fields from schemas/."""
    forms = all_forms()
    con.execute("CREATE OR REPLACE TABLE catalog_forms (regime VARCHAR, form VARCHAR, code_printed VARCHAR, "
                "period VARCHAR, education_level VARCHAR, status VARCHAR, title_vi VARCHAR, title_en VARCHAR, "
                "base_form VARCHAR)")  # fmt: skip
    warehouse.insert_rows(con, "catalog_forms", [(f.regime, f.form, f.code_printed, f.period, f.education_level,
                                                  f.status, f.title_vi, f.title_en, f.base_form) for f in forms])  # fmt: skip
    con.execute("CREATE OR REPLACE TABLE catalog_rows (regime VARCHAR, form VARCHAR, row_code INTEGER, "
                "sheet VARCHAR, column_set VARCHAR, tt VARCHAR, label_vi VARCHAR, label_en VARCHAR, unit VARCHAR, "
                "entity VARCHAR)")  # fmt: skip
    warehouse.insert_rows(con, "catalog_rows", [
        (f.regime, f.form, r.code, r.sheet, f.sheet_of(r.sheet).column_set, r.tt, r.label_vi, r.label_en, r.unit,
         r.entity) for f in forms for r in f.cell_rows])  # fmt: skip
    con.execute("CREATE OR REPLACE TABLE catalog_columns (regime VARCHAR, form VARCHAR, column_set VARCHAR, "
                "col_key VARCHAR, excel_col VARCHAR, number INTEGER, label_vi VARCHAR, label_en VARCHAR)")  # fmt: skip
    warehouse.insert_rows(con, "catalog_columns", [
        (f.regime, f.form, cs.name, c.key, c.excel_col, c.number, c.header_vi, column_label_en(c.header_vi))
        for f in forms for cs in f.column_sets.values() for c in cs.columns])  # fmt: skip
    con.execute("CREATE OR REPLACE TABLE catalog_fields (entity VARCHAR, json_path VARCHAR, field VARCHAR, "
                "type VARCHAR, codelist VARCHAR, required BOOLEAN, pii VARCHAR)")  # fmt: skip
    warehouse.insert_rows(con, "catalog_fields", [
        (s.entity, s.json_path, f.name, f.type, f.codelist, f.required, f.pii)
        for s in catalog.sources() for f in s.fields])  # fmt: skip


# --- the views and the dictionary -----------------------------------------------------------------


def view_sql(view: View) -> str:
    """The view's SQL with every column cast to its declared type (the contract holds whatever the
    internal tables' types become)."""
    cols = ",\n       ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in view.columns)
    return f"SELECT {cols}\nFROM (\n{view.sql.strip()}\n) AS v"


def dictionary_rows() -> list[tuple]:
    """One row per view (column_name NULL) and per view column (DICTIONARY_COLUMNS)."""
    rows: list[tuple] = []
    for v in views():
        rows.append((v.name, None, "VIEW", None, _flat(v.meaning_vi), _flat(v.meaning_en)))
        for c in v.columns:
            vi, en = c.meaning_vi, c.meaning_en
            if c.source:
                entity, name = c.source.split(".", 1)
                path = catalog.source(entity).json_path
                how_vi, how_en = ("suy ra từ", "derived from") if c.derived else ("từ", "from")
                vi, en = f"{vi} ({how_vi} {path}.{name})", f"{en} ({how_en} {path}.{name})"
            rows.append((v.name, c.name, c.type, c.code_list, vi, en))
    return rows


def _flat(text: str) -> str:
    return " ".join(text.split())


def support_tables() -> tuple[tuple[str, str], ...]:
    """(name, sql) of the support tables of views.yaml: figures views read, computed once per run."""
    return tuple((t["name"], t["sql"]) for t in _spec().get("tables", ()))


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """The catalogue tables, the support tables, every contract view and the data_dictionary table,
    on this database's own tables (a run's warehouse or a release)."""
    load_catalogue(con)
    for name, sql in support_tables():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS\n{sql}")
    for v in views():
        con.execute(f"CREATE OR REPLACE VIEW {v.name} AS\n{view_sql(v)}")
    con.execute(f"CREATE OR REPLACE TABLE {DICTIONARY_TABLE} (view_name VARCHAR, column_name VARCHAR, "
                "data_type VARCHAR, codelist VARCHAR, meaning_vi VARCHAR, meaning_en VARCHAR)")  # fmt: skip
    warehouse.insert_rows(con, DICTIONARY_TABLE, dictionary_rows())


# --- docs/dictionary.md ---------------------------------------------------------------------------

DICTIONARY_DOC = "dictionary.md"
_DOC_HEADS = ("Cột / Column", "Kiểu / Type", "Danh mục / Code list", "Nguồn / Source", "Ý nghĩa", "Meaning")


def render_dictionary(schemas: str = "../schemas") -> str:
    """docs/dictionary.md: every contract view and column with its type, code list, source field
    and meaning in Vietnamese and English, from schemas/views.yaml (code lists link to their CSV
    under `schemas`, relative to the page)."""
    from pipelines.quality import codelist_link

    def esc(text: str) -> str:
        return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").split())

    all_views = views()
    lines = [
        "# Từ điển dữ liệu / Data dictionary",
        "",
        "<!-- Generated by `edustat rules` from schemas/views.yaml, schemas/sources/*.yaml and",
        "     schemas/codelists/. Do not edit by hand: run `edustat rules` after changing them. -->",
        "",
        "Các view dưới đây là giao diện ổn định cho người phân tích: có trong kho dữ liệu sau mỗi lượt "
        "chạy (cuối bước tổng hợp) và trong mọi bản phát hành (`release.duckdb`). Bảng nội bộ có thể "
        "thay đổi; tên, cột và kiểu của các view này thì không (`tests/test_views.py` kiểm tra). Cùng "
        "nội dung có trong bảng `data_dictionary` (mỗi view một dòng với `column_name` trống, mỗi cột "
        'một dòng). Truy vấn không cần Python: `edustat query "SELECT …"`.',
        "",
        "The views below are the stable interface for analysts: in the warehouse after every run (at "
        "the end of the aggregate step) and in every release (`release.duckdb`). Internal tables may "
        "change; these views' names, columns and types do not (`tests/test_views.py` checks them). The "
        "same content is the table `data_dictionary` (one row per view with `column_name` NULL, one row "
        'per column). Query them without Python: `edustat query "SELECT …"`.',
        "",
        "Học sinh và cán bộ đã bút danh hóa: không có họ tên, mã định danh cá nhân hay ngày sinh; "
        "`learner_key` và `staff_key` là mã băm có khóa. / Learners and staff are pseudonymised: no "
        "names, personal identifiers or birth dates; `learner_key` and `staff_key` are keyed hashes.",
        "",
        "Các view đọc thêm các bảng danh mục biểu, nạp từ `schemas/` cùng lúc: `catalog_forms` (biểu), "
        "`catalog_rows` (dòng), `catalog_columns` (cột), `catalog_fields` (trường dữ liệu nguồn). / The "
        "views also read the catalogue tables, loaded from `schemas/` at the same time: `catalog_forms`, "
        "`catalog_rows`, `catalog_columns`, `catalog_fields` (the source fields, with their `pii` marks).",
        "",
        f"{len(all_views)} view, {sum(len(v.columns) for v in all_views)} cột / columns: "
        + ", ".join(f"[`{v.name}`](#{v.name})" for v in all_views)
        + ".",
    ]
    for v in all_views:
        lines += ["", f'<a id="{v.name}"></a>', "", f"## `{v.name}`", "", esc(v.meaning_vi), "",
                  esc(v.meaning_en), "", "| " + " | ".join(_DOC_HEADS) + " |", "|" + "---|" * len(_DOC_HEADS)]  # fmt: skip
        for c in v.columns:
            cl = codelist_link(c.code_list, schemas)
            source = ""
            if c.source:
                entity, name = c.source.split(".", 1)
                how = "suy ra từ / derived from " if c.derived else ""
                source = f"{how}`{catalog.source(entity).json_path}.{name}`"
            cells = [f"`{c.name}`", c.type, cl, source, esc(c.meaning_vi), esc(c.meaning_en)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_dictionary(folder: Path) -> Path:
    """folder/dictionary.md (code lists linked relative to folder)."""
    from pipelines.quality import _link

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DICTIONARY_DOC
    path.write_text(render_dictionary(_link(catalog.SCHEMAS, folder)), encoding="utf-8")
    return path
