"""Form relations on the cells ("37 = 38 + 39", "T = CL + TT"): every relation of the catalogue
applied to concrete cells and evaluated on every unit; violations are stored, never silent."""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import cell_grid
from pipelines.aggregate.context import RunContext


def relation_instances(form: catalog.Form) -> tuple[list[tuple], list[tuple]]:
    """Every relation applied to concrete cells: one instance per column of a row relation
    ("r37 = r38 + r39" in each column) and per row of a column relation ("T = CL + TT" on each row).

    Returns (instances, terms): instances are (id, relation id, check, basis, op, anchor row,
    anchor column); terms are (instance id, side, row, column). An instance with a term the form
    does not print ('#') is void and left out.
    """
    printed = set(cell_grid(form))
    instances: list[tuple] = []
    terms: list[tuple] = []

    def add(rid: str, rel: catalog.Relation, anchor: tuple[int, str | None], cells: list[tuple]) -> None:
        if all((row, col) in printed for _, row, col in cells):
            n = len(instances)
            instances.append((n, rid, rel.check, rel.basis, rel.op, *anchor))
            terms.extend((n, side, row, col) for side, row, col in cells)

    for rid, _, rel, row, set_name in catalog.relations_of(form):
        if row is not None:  # in every printed column of its row
            for col in form.columns_for(row):
                cells = [("lhs", int(t[1:]), col.key) for t in rel.lhs] + [
                    ("rhs", int(t[1:]), col.key) for t in rel.rhs
                ]
                add(rid, rel, (int(rel.lhs[0][1:]), col.key), cells)
            continue
        for r in form.cell_rows:  # on every row of the sheets using its column set
            if form.sheet_of(r.sheet).column_set == set_name:
                cells = [("lhs", r.code, t) for t in rel.lhs] + [("rhs", r.code, t) for t in rel.rhs]
                add(rid, rel, (r.code, None), cells)
    return instances, terms


def check_relations(
    con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext, since: str | None = None
) -> int:
    """One form's relations (check_forms_relations of it); return its violation count."""
    return check_forms_relations(con, [form], ctx, since)[form.form]


def check_forms_relations(
    con: duckdb.DuckDBPyConnection,
    forms: tuple[catalog.Form, ...] | list[catalog.Form],
    ctx: RunContext,
    since: str | None = None,
) -> dict[str, int]:
    """Evaluate every relation instance of every form on every unit's cells, all forms in one
    statement; store the violations and return their count per form.

    Cells are sparse (absent = 0), so only instances with a non-zero term need evaluating: an
    instance whose cells are all zero holds for =, <= and >= alike. since (a re-run, see
    entities.touched_units): only the units in _touched are evaluated; the other units' violations,
    on unchanged cells, are carried over from the run `since` under this run's id.
    """
    instances: list[tuple] = []
    terms: list[tuple] = []
    for form in forms:
        first = len(instances)
        form_instances, form_terms = relation_instances(form)
        instances += [(form.form, first + n, *rest) for n, *rest in form_instances]
        terms += [(form.form, first + n, *rest) for n, *rest in form_terms]
    con.execute(warehouse.sql("aggregate/relations", "create_instances"))
    warehouse.insert_rows(con, "_instances", instances)
    con.execute(warehouse.sql("aggregate/relations", "create_terms"))
    warehouse.insert_rows(con, "_terms", terms)
    con.execute(warehouse.sql("aggregate/rerun", "ensure_touched"))
    names = [f.form for f in forms]
    key = {"run_id": ctx.run_id, "school_year": ctx.school_year, "period": ctx.period}
    con.execute(
        warehouse.sql("aggregate/relations", "delete_violations"), {"run_id": ctx.run_id, "forms": names}
    )
    con.execute(
        warehouse.sql("aggregate/relations", "insert_violations"), {**key, "touched": since is not None}
    )
    if since is not None:
        con.execute(
            warehouse.sql("aggregate/relations", "carry_violations"), {**key, "since": since, "forms": names}
        )
    counts = dict(
        con.execute(
            warehouse.sql("aggregate/relations", "count_violations"), {"run_id": ctx.run_id, "forms": names}
        ).fetchall()
    )
    return {name: counts.get(name, 0) for name in names}
