"""The form compiler against the definition of a cell, for every form of the catalogue.

A cell is measure(entity WHERE scope AND row.filter AND column.filter), per school in the form's
school scope (the school's attributes counted over its records in their scope). Here the typed
record tables (made by the aggregate step's own scripts, empty) are filled with drawn records: twelve
schools, 240 records per entity, each column drawn from the codes and numbers of the filters that name
it, a few others and NULL. Each form's compiled cells must equal the cells counted record by record
(each record's measure added to every cell whose row and column filters it meets): the compiler's
cubes, UNPIVOTs and column sums must change nothing, whatever a later change to them.
"""

from __future__ import annotations

import functools
import random
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from pipelines import aggregate, catalog, settings, warehouse
from pipelines.aggregate import compiler

SCHOOLS = [f"666432{i:02d}" for i in range(12)]
RECORDS = 240
FORMS = [
    f for regime in ("tt24", "tt25") for period in ("DN", "CN") for f in catalog.forms_for(regime, period)
]


def _texts(form: catalog.Form) -> list[str]:
    texts = [*form.scope.values(), *(a.filter for a in form.school_attributes)]
    texts += [r.filter for r in form.cell_rows]
    texts += [c.filter for cs in form.column_sets.values() for c in cs.columns]
    return texts


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """An in-memory warehouse with drawn typed records (seeded: the same records on every run)."""
    s = settings.resolve("2024-2025", "DN", Path("registry"), Path("inbox"))
    ctx = aggregate.RunContext("test-compiler", s.school_year, s.start_year, s.period, s.as_of, s.boundaries)
    texts = [t for f in FORMS for t in _texts(f)]
    draw = random.Random(17)

    @functools.cache
    def pools(name: str) -> tuple[list[str], list[int]]:
        """The codes and numbers of the filters that name the column (a few others besides)."""
        near = [t for t in texts if re.search(rf"\b{name}\b", t)] or texts
        codes = sorted({m for t in near for m in re.findall(r"'([^']*)'", t)} | {"zz"})
        numbers = sorted({int(m) for t in near for m in re.findall(r"\b\d+\b", t)} | {0, 1, 2, 7})
        return codes, numbers

    def value(name: str, kind: str):
        if draw.random() < 0.1:
            return None
        codes, numbers = pools(name)
        if kind == "BOOLEAN":
            return draw.random() < 0.5
        if kind in ("INTEGER", "BIGINT", "SMALLINT", "HUGEINT", "UBIGINT"):
            return draw.choice(numbers)
        if kind == "DOUBLE":
            return float(draw.choice(numbers))
        if kind == "VARCHAR":
            return draw.choice(codes)
        if kind == "DATE":
            return date(2024, draw.randint(1, 12), 1)
        return None

    with warehouse.connect(":memory:") as c:
        warehouse.create_staging_tables(c)
        aggregate.build_entity_tables(c, ctx)
        for table in catalog.FORM_ENTITIES:
            cols = c.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
                "ORDER BY column_index",
                [table],
            ).fetchall()
            n = len(SCHOOLS) if table == "school" else RECORDS
            rows = []
            for i in range(n):
                school = SCHOOLS[i] if table == "school" else draw.choice(SCHOOLS)
                rows.append(
                    tuple(school if name == "school_code" else value(name, kind) for name, kind in cols)
                )
            warehouse.insert_rows(c, table, rows)
        yield c


def _by_definition(con, form: catalog.Form) -> dict[tuple[str, int, str], int]:
    """Every non-zero cell of the form, counted record by record in Python: each record in scope adds
    its measure to every cell whose row filter and column filter it meets (SQL only evaluates the
    filters, record by record)."""
    attrs = "".join(
        f", (SELECT count(*) FROM {a.entity} e WHERE e.school_code = s.school_code "
        f"AND ({form.scope.get(a.entity, 'TRUE')}) AND ({a.filter})) AS {a.name}"
        for a in form.school_attributes
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _schools AS SELECT s.*{attrs} FROM school s")
    cells: dict[tuple[str, int, str], int] = defaultdict(int)
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    for (entity, set_name), rows in groups.items():
        columns = form.column_sets[set_name].columns
        measures = sorted({r.measure for r in rows})
        values = [f"coalesce({m[4:-1]}, 0)" if m.startswith("sum(") else "1" for m in measures]
        tests = [f"coalesce({r.filter}, FALSE)" for r in rows] + [
            f"coalesce({c.filter}, FALSE)" for c in columns
        ]
        source = "_schools" if entity == compiler.SCHOOL else entity
        records = con.execute(
            f"SELECT school_code, {', '.join(values + tests)} FROM {source} "
            f"WHERE school_code IN (SELECT school_code FROM _schools WHERE {form.scope['school']}) "
            f"AND ({form.scope.get(entity, 'TRUE')})"
        ).fetchall()
        for school, *found in records:
            measure = dict(zip(measures, found[: len(measures)], strict=True))
            meets = found[len(measures) :]
            for row, row_met in zip(rows, meets[: len(rows)], strict=True):
                for col, col_met in zip(columns, meets[len(rows) :], strict=True):
                    if row_met and col_met:
                        cells[(school, row.code, col.key)] += measure[row.measure]
    return {k: v for k, v in cells.items() if v}


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f"{f.regime}-{f.form}")
def test_compiled_cells_equal_the_definition_record_by_record(con, form):
    compiled = {
        (school, row, col): value
        for school, row, col, value in con.execute(compiler.compile_form(form)).fetchall()
        if value
    }
    expected = _by_definition(con, form)
    assert expected, "the drawn records fill no cell of the form: the test would prove nothing"
    assert compiled == expected
