"""The analysts' contract: stable, documented views over the warehouse and every release.

`schemas/views.yaml` declares each view (name, meaning, SQL, and its columns with type, meaning,
code list and source field). `create_views(con)` loads the form catalogue into small tables
(`catalog_forms`, `catalog_rows`, `catalog_columns`, `catalog_fields`, declared in
pipelines/sql/analyst/views.sql), creates every view with its declared column types, and writes
the table `data_dictionary`. `render_dictionary()` gives
docs/dictionary.md from the same declarations.
"""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.catalog.views import View, all_forms, column_label_en, dictionary_rows, support_tables, views

DICTIONARY_TABLE = "data_dictionary"
CATALOGUE_TABLES = ("catalog_forms", "catalog_rows", "catalog_columns", "catalog_fields")
DICTIONARY_COLUMNS = ("view_name", "column_name", "data_type", "codelist", "meaning_vi", "meaning_en")


# --- the catalogue as tables ----------------------------------------------------------------------


def load_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write catalog_forms, catalog_rows, catalog_columns and catalog_fields from schemas/."""
    forms = all_forms()
    con.execute(warehouse.sql("analyst/views", "catalog_forms"))
    warehouse.insert_rows(con, "catalog_forms", [(f.regime, f.form, f.code_printed, f.period, f.education_level,
                                                  f.status, f.title_vi, f.title_en, f.base_form) for f in forms])  # fmt: skip
    con.execute(warehouse.sql("analyst/views", "catalog_rows"))
    warehouse.insert_rows(con, "catalog_rows", [
        (f.regime, f.form, r.code, r.sheet, f.sheet_of(r.sheet).column_set, r.tt, r.label_vi, r.label_en, r.unit,
         r.entity) for f in forms for r in f.cell_rows])  # fmt: skip
    con.execute(warehouse.sql("analyst/views", "catalog_columns"))
    warehouse.insert_rows(con, "catalog_columns", [
        (f.regime, f.form, cs.name, c.key, c.excel_col, c.number, c.header_vi, column_label_en(c.header_vi))
        for f in forms for cs in f.column_sets.values() for c in cs.columns])  # fmt: skip
    con.execute(warehouse.sql("analyst/views", "catalog_fields"))
    warehouse.insert_rows(con, "catalog_fields", [
        (s.entity, s.json_path, f.name, f.type, f.codelist, f.required, f.pii)
        for s in catalog.sources() for f in s.fields])  # fmt: skip


# --- the views and the dictionary -----------------------------------------------------------------


def view_sql(view: View) -> str:
    """The view's SQL with every column cast to its declared type (the contract holds whatever the
    internal tables' types become)."""
    cols = ",\n       ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in view.columns)
    return f"SELECT {cols}\nFROM (\n{view.sql.strip()}\n) AS v"


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """The catalogue tables, the support tables, every contract view and the data_dictionary table,
    on this database's own tables (a run's warehouse or a release)."""
    load_catalogue(con)
    # Generated from schemas/views.yaml, where each support table's and view's SQL is declared.
    for name, sql in support_tables():
        con.execute(f"CREATE OR REPLACE TABLE {warehouse.ident(name)} AS\n{sql}")
    for v in views():
        con.execute(f"CREATE OR REPLACE VIEW {warehouse.ident(v.name)} AS\n{view_sql(v)}")
    con.execute(warehouse.sql("analyst/views", "data_dictionary"))
    warehouse.insert_rows(con, DICTIONARY_TABLE, dictionary_rows())
