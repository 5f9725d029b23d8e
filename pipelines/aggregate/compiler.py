"""The form compiler: one generic piece of code that turns the forms of a period into SQL.

A cell is measure(entity WHERE scope AND row.filter AND column.filter). Per (form, entity, column
set) one aggregation reads the entity's records in the form's scope (the scope is pushed into the
scan, so each record is read by the forms that count it) into a small cube per school and column
dimensions, one sum per row (`sum(CASE WHEN row.filter THEN measure END)`). The columns are then read
off that cube: each cube row goes to every column whose filter its dimensions meet (a column filter
names only dimensions) and each column sums its cube rows, every row at once (`sum(COLUMNS(*))`), so
a column costs one CASE on the cube, not one per row. Counts and sums are additive, so a cell read
off the cube equals the cell counted over the records.

Issue 17 first grouped each entity once for every form of the period (a shared cube by school and
the union of every column any form reads) and cut each form from it: for the learners that cube had
221,048 groups for 406,668 records, so building it cost more than the forms' cuts saved (the cut reads
the scoped records directly in about the same time as the cube's groups). Each form's cells are
a statement of its own (cells.py).
"""

from __future__ import annotations

import re
from collections import defaultdict

import duckdb

from pipelines import catalog, warehouse

SCHOOL = "school"  # the entity whose records are the schools (with each form's school attributes)


def _measure(row: catalog.Row) -> str:
    """The row's measure over the records meeting its filter: NULL where no record meets it, so
    that only cells with records travel further (count_if of the filter: about a quarter less CPU
    than the count of a CASE, and a NULL filter counts no record either way)."""
    if row.measure == "count":
        return f"nullif(count_if({row.filter}), 0)"
    m = re.fullmatch(r"sum\((\w+)\)", row.measure)
    if not m:
        raise catalog.CatalogError(f"row {row.code}: unknown measure {row.measure!r}")
    return f"sum(CASE WHEN {row.filter} THEN coalesce({m.group(1)}, 0) END)"


def referenced(columns: list[str], predicates: list[str]) -> list[str]:
    """The columns (of an entity table) that some predicate names."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(predicates)))
    return [c for c in columns if c in words]


def _groups(form: catalog.Form) -> dict[tuple[str, str], list[catalog.Row]]:
    """The form's cell rows by (entity, column set): one small cube each."""
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    return groups


def _school_source(form: catalog.Form) -> str:
    """The school table with the per-school attributes the form needs (class counts …): one
    aggregation per entity the attributes count, over its records in the form's scope."""
    by_entity: dict[str, list[catalog.SchoolAttribute]] = defaultdict(list)
    for attr in form.school_attributes:
        by_entity[attr.entity].append(attr)
    joins, cols = [], []
    for i, (entity, attrs) in enumerate(by_entity.items()):
        counts = ", ".join(f"count(*) FILTER (WHERE {a.filter}) AS {a.name}" for a in attrs)
        joins.append(
            f"LEFT JOIN (SELECT school_code, {counts} FROM {entity} WHERE ({form.scope.get(entity, 'TRUE')}) "
            f"GROUP BY school_code) a{i} USING (school_code)"
        )
        cols += [f"coalesce(a{i}.{a.name}, 0) AS {a.name}" for a in attrs]
    return f"SELECT {', '.join(['s.*', *cols])} FROM school s {' '.join(joins)}"


def _form_ctes(form: catalog.Form, index: int) -> tuple[list[str], list[str]]:
    """(CTEs, final selects) of one form's cells, read off its records."""
    p = f"f{index}_"
    ctes = [
        f"{p}schools AS MATERIALIZED ({_school_source(form)})",
        f"{p}scoped AS MATERIALIZED (SELECT school_code FROM {p}schools WHERE {form.scope['school']})",
    ]
    selects = []
    for n, ((entity, set_name), rows) in enumerate(_groups(form).items()):
        cset = form.column_sets[set_name]
        source = f"{p}schools" if entity == SCHOOL else entity  # the school: with its attributes
        # No ELSE: a row no record meets sums to NULL, and UNPIVOT drops NULLs, so only
        # cells with records travel further (the work then scales with non-zero cells).
        sums = ",\n    ".join(f'{_measure(r)} AS "{r.code}"' for r in rows)
        ctes.append(
            f"{p}cube{n} AS (\n  SELECT school_code, {', '.join(cset.dims)},\n    {sums}\n  FROM {source}\n"
            f"  WHERE school_code IN (SELECT school_code FROM {p}scoped) AND ({form.scope.get(entity, 'TRUE')})"
            "\n  GROUP BY ALL)"
        )
        # The columns through the cube's rows: each cube row (a school and one value of the column
        # dimensions) goes to every column whose filter its dimensions meet (a column filter names only
        # dimensions), and each column's rows are summed, all row codes at once (COLUMNS(*)).
        keys = ", ".join(f"CASE WHEN {c.filter} THEN '{c.key}' END" for c in cset.columns)
        exclude = ", ".join(["school_code", "col_key", *cset.dims])
        ctes.append(
            f"{p}cols{n} AS (SELECT school_code, col_key, sum(COLUMNS(* EXCLUDE ({exclude}))) "
            f"FROM (SELECT *, unnest([{keys}]) AS col_key FROM {p}cube{n}) WHERE col_key IS NOT NULL GROUP BY ALL)"
        )
        selects.append(
            f"SELECT {index} AS form_index, school_code, CAST(row_code AS INTEGER) AS row_code, col_key, value "
            f"FROM (UNPIVOT {p}cols{n} ON COLUMNS(* EXCLUDE (school_code, col_key)) INTO NAME row_code VALUE value)"
        )
    return ctes, selects


def compile_forms(forms: tuple[catalog.Form, ...] | list[catalog.Form], first_index: int = 0) -> str:
    """One SQL statement yielding (form_index, school_code, row_code, col_key, value) for every form
    (form_index: first_index + its position in `forms`) and every school in its scope, read off the
    typed entity tables. Every column of a row's column set is yielded; the form's grid (cell_grid)
    keeps the cells the form prints."""
    ctes: list[str] = []
    selects: list[str] = []
    for index, form in enumerate(forms, start=first_index):
        c, s = _form_ctes(form, index)
        ctes += c
        selects += s
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)


def scope_check(forms: tuple[catalog.Form, ...] | list[catalog.Form]) -> str:
    """One statement yielding one row: per form (column fN, N its position), whether a school of the
    table `school` (on a re-run the rebuilt schools') is in the form's scope. A scope naming one of the
    form's school attributes (computed per form) is taken as met: TRUE, the form is computed."""
    checks = []
    for n, form in enumerate(forms):
        scope = form.scope.get(SCHOOL, "TRUE")
        names = {a.name for a in form.school_attributes}
        met = (
            "TRUE"
            if names & set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", scope))
            else f"coalesce(bool_or({scope}), FALSE)"
        )
        checks.append(f"{met} AS f{n}")
    return f"SELECT {', '.join(checks)} FROM {SCHOOL}"


def compile_form(form: catalog.Form) -> str:
    """One form alone: (school_code, row_code, col_key, value)."""
    return f"SELECT school_code, row_code, col_key, value FROM ({compile_forms([form])})"


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
