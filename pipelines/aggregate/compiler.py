"""The form compiler: one generic piece of code that turns the forms of a period into SQL.

A cell is measure(entity WHERE scope AND row.filter AND column.filter). The compiler reads each
entity once for every form of the period (`shared_cube_sql`): it groups the records by school and
the union of every column every form reads of that entity (column dimensions, the attributes row
filters, scopes and school attributes test) and keeps the measures (record count, sums) of each
group. Each form's cells are then cut from those shared cubes (`compile_forms`): per (form, entity,
column set) the scope and row filters run on the shared cube's groups, not on the records, into a
small cube per school and column dimensions; the columns are read off it. Counts and sums are
additive, so a cell read off the shared cube equals the cell counted over the records.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import duckdb

from pipelines import catalog, warehouse

SCHOOL = "school"  # the entity whose records are the schools (with each form's school attributes)
COUNT = "m_count"


def _measure(row: catalog.Row) -> tuple[str, str]:
    """(name, aggregate over records) of a row's measure: count(*) or sum(field)."""
    if row.measure == "count":
        return COUNT, "count(*)"
    m = re.fullmatch(r"sum\((\w+)\)", row.measure)
    if not m:
        raise catalog.CatalogError(f"row {row.code}: unknown measure {row.measure!r}")
    return f"m_{m.group(1)}", f"sum(coalesce({m.group(1)}, 0))"


def referenced(columns: list[str], predicates: list[str]) -> list[str]:
    """The columns (of an entity table) that some predicate names."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(predicates)))
    return [c for c in columns if c in words]


def shared_table(entity: str) -> str:
    """The temporary table holding an entity's shared cube."""
    return f"_shared_{entity}"


@dataclass(frozen=True)
class SharedCube:
    """What the period's forms read of one entity: the columns grouped by, the measures kept."""

    entity: str
    keys: tuple[str, ...]  # school_code first
    measures: tuple[tuple[str, str], ...]  # (name, aggregate over records)


def _groups(form: catalog.Form) -> dict[tuple[str, str], list[catalog.Row]]:
    """The form's cell rows by (entity, column set): one small cube each."""
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    return groups


def shared_cubes(forms: tuple[catalog.Form, ...] | list[catalog.Form],
                 columns: dict[str, list[str]]) -> list[SharedCube]:  # fmt: skip
    """The shared cube of every entity (but the school) that some form of the period reads."""
    texts: dict[str, list[str]] = defaultdict(list)
    measures: dict[str, dict[str, str]] = defaultdict(dict)
    for form in forms:
        for (entity, set_name), rows in _groups(form).items():
            if entity == SCHOOL:
                continue
            cset = form.column_sets[set_name]
            texts[entity] += [form.scope.get(entity, "TRUE"), *cset.dims, *(c.filter for c in cset.columns)]
            texts[entity] += [r.filter for r in rows]
            measures[entity].update(_measure(r) for r in rows)
        for attr in form.school_attributes:
            texts[attr.entity] += [form.scope.get(attr.entity, "TRUE"), attr.filter]
            measures[attr.entity][COUNT] = "count(*)"
    cubes = []
    for entity in sorted(texts):
        keys = [c for c in referenced(columns[entity], texts[entity]) if c != "school_code"]
        cubes.append(SharedCube(entity, ("school_code", *keys), tuple(sorted(measures[entity].items()))))
    return cubes


def shared_cube_sql(cube: SharedCube) -> str:
    """One pass over the entity's records: the measures of each group of equal keys."""
    aggs = ", ".join(f"{agg} AS {name}" for name, agg in cube.measures)
    return (
        f"CREATE OR REPLACE TEMP TABLE {shared_table(cube.entity)} AS\n"
        f"SELECT {', '.join(cube.keys)}, {aggs} FROM {cube.entity} GROUP BY ALL"
    )


def _school_source(form: catalog.Form) -> str:
    """The school table with the per-school attributes the form needs (class counts …), the
    attributes summed off the shared cubes."""
    joins, cols = [], []
    for i, attr in enumerate(form.school_attributes):
        scope = form.scope.get(attr.entity, "TRUE")
        joins.append(
            f"LEFT JOIN (SELECT school_code, sum({COUNT}) AS n FROM {shared_table(attr.entity)} "
            f"WHERE ({scope}) AND ({attr.filter}) GROUP BY school_code) a{i} USING (school_code)"
        )
        cols.append(f"coalesce(a{i}.n, 0) AS {attr.name}")
    select = ", ".join(["s.*", *cols])
    return f"SELECT {select} FROM school s {' '.join(joins)}"


def _form_ctes(form: catalog.Form, index: int, columns: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """(CTEs, final selects) of one form's cells, read off the shared cubes."""
    p = f"f{index}_"
    ctes = [
        f"{p}schools AS MATERIALIZED ({_school_source(form)})",
        f"{p}scoped AS MATERIALIZED (SELECT school_code FROM {p}schools WHERE {form.scope['school']})",
    ]
    selects = []
    for n, ((entity, set_name), rows) in enumerate(_groups(form).items()):
        cset = form.column_sets[set_name]
        dims = list(cset.dims)
        scope = form.scope.get(entity, "TRUE")
        measures = dict(_measure(r) for r in rows)
        if entity == SCHOOL:  # one record per school: its own small base, as any entity had
            attrs = [c for c in referenced(columns[entity], [r.filter for r in rows]) if c not in dims]
            keys = ", ".join(["school_code", *dims, *attrs])
            aggs = ", ".join(f"{agg} AS {name}" for name, agg in measures.items())
            source = f"{p}base{n}"
            ctes.append(
                f"{source} AS (SELECT {keys}, {aggs} FROM {p}schools\n"
                f"  WHERE school_code IN (SELECT school_code FROM {p}scoped) AND ({scope}) GROUP BY ALL)"
            )
            where = "TRUE"
        else:
            source, where = shared_table(entity), f"({scope})"
        # No ELSE: a row no record meets sums to NULL, and UNPIVOT drops NULLs, so only
        # cells with records travel further (the work then scales with non-zero cells).
        sums = ",\n    ".join(
            f'sum(CASE WHEN {r.filter} THEN {_measure(r)[0]} END) AS "{r.code}"' for r in rows
        )
        ctes.append(
            f"{p}cube{n} AS (\n  SELECT school_code, {', '.join(dims)},\n    {sums}\n  FROM {source}\n"
            f"  WHERE school_code IN (SELECT school_code FROM {p}scoped) AND {where} GROUP BY ALL)"
        )
        codes = ", ".join(f'"{r.code}"' for r in rows)
        ctes.append(f"{p}long{n} AS (UNPIVOT {p}cube{n} ON {codes} INTO NAME row_code VALUE value)")
        # One pass over the long cube reads every column off it.
        col_sums = ", ".join(f'sum(CASE WHEN {c.filter} THEN value END) AS "{c.key}"' for c in cset.columns)
        col_keys = ", ".join(f'"{c.key}"' for c in cset.columns)
        ctes.append(f"{p}wide{n} AS (SELECT school_code, row_code, {col_sums} FROM {p}long{n} GROUP BY ALL)")
        selects.append(
            f"SELECT {index} AS form_index, school_code, CAST(row_code AS INTEGER) AS row_code, col_key, value "
            f"FROM (UNPIVOT {p}wide{n} ON {col_keys} INTO NAME col_key VALUE value)"
        )
    return ctes, selects


def compile_forms(forms: tuple[catalog.Form, ...] | list[catalog.Form], columns: dict[str, list[str]],
                  first_index: int = 0) -> str:  # fmt: skip
    """One SQL statement yielding (form_index, school_code, row_code, col_key, value) for every form
    (form_index: first_index + its position in `forms`) and every school in its scope, read off the
    shared cubes (shared_cube_sql, made first). `columns` names the columns of each entity table (and
    of the school table with its attributes). Every column of a row's column set is yielded; the
    form's grid (cell_grid) keeps the cells the form prints."""
    ctes: list[str] = []
    selects: list[str] = []
    for index, form in enumerate(forms, start=first_index):
        c, s = _form_ctes(form, index, columns)
        ctes += c
        selects += s
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)


def compile_form(form: catalog.Form, columns: dict[str, list[str]]) -> str:
    """One form alone (its shared cubes made first): (school_code, row_code, col_key, value)."""
    return f"SELECT school_code, row_code, col_key, value FROM ({compile_forms([form], columns)})"


def entity_columns(con: duckdb.DuckDBPyConnection,
                   forms: catalog.Form | tuple[catalog.Form, ...] | list[catalog.Form]) -> dict[str, list[str]]:  # fmt: skip
    """Columns of each typed entity table; the school table also has the forms' school attributes."""
    found: dict[str, list[str]] = defaultdict(list)
    query = warehouse.sql("aggregate/compiler", "entity_columns")
    for table, column in con.execute(query, [list(catalog.FORM_ENTITIES)]).fetchall():
        found[table].append(column)
    forms = [forms] if isinstance(forms, catalog.Form) else forms
    found[SCHOOL] += list(dict.fromkeys(a.name for f in forms for a in f.school_attributes))
    return dict(found)


def cell_grid(form: catalog.Form) -> list[tuple[int, str]]:
    """Every (row_code, col_key) the form prints a number in."""
    return [
        (r.code, c.key) for r in form.cell_rows for c in form.columns_for(r) if c.key not in r.not_applicable
    ]
