"""The form compiler: one generic piece of code that turns any form of the catalogue into SQL.

A cell is measure(entity WHERE scope AND row.filter AND column.filter). For each (form, entity,
column set) the compiler makes one pass over the entity: it groups by school and the few column
dimensions (ownership, sex, ethnic minority, contract, construction) and aggregates every row
filter with SUM(CASE …) into a small cube; the columns are then read off the cube.
"""

from __future__ import annotations

import re
from collections import defaultdict

import duckdb

from pipelines import catalog, warehouse


def _measure(row: catalog.Row) -> tuple[str, str]:
    """(name, aggregate) of a row's measure over records: count(*) or sum(field)."""
    if row.measure == "count":
        return "m_count", "count(*)"
    m = re.fullmatch(r"sum\((\w+)\)", row.measure)
    if not m:
        raise catalog.CatalogError(f"row {row.code}: unknown measure {row.measure!r}")
    return f"m_{m.group(1)}", f"sum(coalesce({m.group(1)}, 0))"


def referenced(columns: list[str], predicates: list[str]) -> list[str]:
    """The columns (of an entity table) that some predicate names."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(predicates)))
    return [c for c in columns if c in words]


def _school_source(form: catalog.Form) -> str:
    """The school table with the per-school attributes the form needs (class counts …)."""
    joins, cols = [], []
    for i, attr in enumerate(form.school_attributes):
        scope = form.scope.get(attr.entity, "TRUE")
        joins.append(
            f"LEFT JOIN (SELECT school_code, count(*) AS n FROM {attr.entity} "
            f"WHERE ({scope}) AND ({attr.filter}) GROUP BY school_code) a{i} USING (school_code)"
        )
        cols.append(f"coalesce(a{i}.n, 0) AS {attr.name}")
    select = ", ".join(["s.*", *cols])
    return f"(SELECT {select} FROM school s {' '.join(joins)})"


def compile_form(form: catalog.Form, columns: dict[str, list[str]]) -> str:
    """One SQL statement yielding (school_code, row_code, col_key, value) for every school in scope.

    `columns` names the columns of each entity table (and of the school table with its
    attributes). For each (entity, column set) the records are first counted by school, column
    dimensions and the attributes the row filters read (a small cube); the row filters then run
    on that cube, not on every record. Every column of a row's column set is yielded; the
    form's grid (see _cell_grid) keeps the cells the form prints.
    """
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    school_source = _school_source(form)
    # Materialised once: the per-school attributes scan other entities (learners, classes).
    ctes = [
        f"schools AS MATERIALIZED ({school_source[1:-1]})",
        f"scoped AS MATERIALIZED (SELECT school_code FROM schools WHERE {form.scope['school']})",
    ]
    selects = []
    for n, ((entity, set_name), rows) in enumerate(groups.items()):
        cset = form.column_sets[set_name]
        dims = list(cset.dims)
        attrs = [c for c in referenced(columns[entity], [r.filter for r in rows]) if c not in dims]
        keys = ", ".join(["school_code", *dims, *attrs])
        measures = dict(_measure(r) for r in rows)
        aggs = ", ".join(f"{agg} AS {name}" for name, agg in measures.items())
        source = "schools" if entity == "school" else entity
        scope = form.scope.get(entity, "TRUE")
        ctes.append(
            f"base{n} AS (SELECT {keys}, {aggs} FROM {source}\n"
            f"  WHERE school_code IN (SELECT school_code FROM scoped) AND ({scope}) GROUP BY ALL)"
        )
        # No ELSE: a row no record meets sums to NULL, and UNPIVOT drops NULLs, so only
        # cells with records travel further (the work then scales with non-zero cells).
        sums = ",\n    ".join(
            f'sum(CASE WHEN {r.filter} THEN {_measure(r)[0]} END) AS "{r.code}"' for r in rows
        )
        ctes.append(
            f"cube{n} AS (\n  SELECT school_code, {', '.join(dims)},\n    {sums}\n  FROM base{n} GROUP BY ALL)"
        )
        codes = ", ".join(f'"{r.code}"' for r in rows)
        ctes.append(f"long{n} AS (UNPIVOT cube{n} ON {codes} INTO NAME row_code VALUE value)")
        # One pass over the long cube reads every column off it.
        col_sums = ", ".join(f'sum(CASE WHEN {c.filter} THEN value END) AS "{c.key}"' for c in cset.columns)
        col_keys = ", ".join(f'"{c.key}"' for c in cset.columns)
        ctes.append(f"wide{n} AS (SELECT school_code, row_code, {col_sums} FROM long{n} GROUP BY ALL)")
        selects.append(
            f"SELECT school_code, CAST(row_code AS INTEGER) AS row_code, col_key, value "
            f"FROM (UNPIVOT wide{n} ON {col_keys} INTO NAME col_key VALUE value)"
        )
    body = "\nUNION ALL\n".join(selects)
    return "WITH " + ",\n".join(ctes) + "\n" + body


def entity_columns(con: duckdb.DuckDBPyConnection, form: catalog.Form) -> dict[str, list[str]]:
    """Columns of each typed entity table; the school table also has the form's school attributes."""
    found: dict[str, list[str]] = defaultdict(list)
    query = warehouse.sql("aggregate/compiler", "entity_columns")
    for table, column in con.execute(query, [list(catalog.FORM_ENTITIES)]).fetchall():
        found[table].append(column)
    found["school"] += [a.name for a in form.school_attributes]
    return dict(found)


def cell_grid(form: catalog.Form) -> list[tuple[int, str]]:
    """Every (row_code, col_key) the form prints a number in."""
    return [
        (r.code, c.key) for r in form.cell_rows for c in form.columns_for(r) if c.key not in r.not_applicable
    ]
