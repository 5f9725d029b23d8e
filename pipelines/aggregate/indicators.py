"""Indicators per unit from the period's cells (schemas/indicators/*.yaml), each value with its
numerator and denominator: ratios of cells, rates over population, cohort rates, parity indices."""

from __future__ import annotations

from dataclasses import replace

import duckdb

from pipelines import catalog, settings, warehouse
from pipelines.aggregate.context import RunContext

# numerator_rate / denominator_rate: the two rates an index of rates divides (GPI: GER female, GER male).
INDICATOR_COLUMNS = ("school_year", "period", "form", "indicator_id", "name_vi", "name_en", "status", "level",
                     "unit_code", "numerator", "denominator", "value", "numerator_rate",
                     "denominator_rate", "boundaries")  # fmt: skip


def _earlier(i: catalog.Indicator, ctx: RunContext) -> tuple[str | None, str | None, str | None]:
    """(form, school year, period) whose cells give a cohort rate's denominator, else Nones."""
    if not i.denominator_earlier:
        return None, None, None
    form, period, years_back = i.denominator_earlier
    start = int(ctx.start_year) - years_back
    # The earlier year may have been reported under another regime whose form borrows this grid.
    ids = {form} | {f.form for regime in settings.REGIMES for f in catalog.forms_for(regime, period)
                    if f.base_form == form}  # fmt: skip
    return ",".join(sorted(ids)), f"{start}-{start + 1}", period


def earlier_periods(ctx: RunContext, forms: tuple[catalog.Form, ...] | list[catalog.Form]) -> list[str]:
    """The earlier periods ('year|period') whose cells the forms' cohort rates divide by."""
    run_form = {f.base_form or f.form for f in forms}
    found = {
        _earlier(i, ctx)[1:] for i in catalog.indicators() if i.form in run_form and i.denominator_earlier
    }
    return sorted(f"{year}|{period}" for year, period in found)


def compute_indicators(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, forms: tuple[catalog.Form, ...], since: str | None = None
) -> int:
    """Indicators per unit from the period's cells; each value keeps its numerator and denominator.

    A unit gets the indicators of every form it reports; absent cells are zero, and a ratio over
    a zero denominator is NULL (not computable), never 0. Rates over population go to the Phòng
    and Sở that report the form and have population rows for the start year (table `population`,
    see load_population); a gender parity index divides the unit's female and male rates.
    since (a re-run, see entities.touched_units): only the units in _touched are computed again; the
    others' indicators, on unchanged cells and inputs, stay.
    """
    # Indicators are declared on TT 24 form ids; a later regime's form borrowing that grid
    # (base_form) feeds the same indicators under its own id.
    run_form = {f.base_form or f.form: f.form for f in forms}
    chosen = [replace(i, form=run_form[i.form]) for i in catalog.indicators() if i.form in run_form]
    con.execute(warehouse.sql("aggregate/indicators", "create_indicators"))
    warehouse.insert_rows(
        con,
        "_indicators",
        [(i.id, i.form, i.name_vi, i.name_en, i.status, i.kind, float(i.scale),
          *(i.population_ages or (None, None)), i.population_sex, *(i.gpi or (None, None)),
          *_earlier(i, ctx)) for i in chosen],
    )  # fmt: skip
    con.execute(warehouse.sql("aggregate/indicators", "create_indicator_cells"))
    warehouse.insert_rows(
        con,
        "_indicator_cells",
        [(i.id, side, row, col) for i in chosen
         for side, cells in (("num", i.numerator), ("den", i.denominator), ("minus", i.minus)) for row, col in cells],
    )  # fmt: skip
    # The population of the start year (none when the run was given no population file).
    con.execute(warehouse.sql("aggregate/indicators", "create_population"), [int(ctx.start_year)])
    key = [ctx.school_year, ctx.period]
    touched = since is not None
    con.execute(warehouse.sql("aggregate/rerun", "ensure_touched"))
    con.execute(warehouse.sql("aggregate/indicators", "delete_indicators"), [*key, touched])
    # On every boundary version: the school cells, and the Phòng, Sở and Bộ cells re-aggregated on it;
    # then the parity indices of the rates just computed on it.
    for version in settings.BOUNDARIES:
        values = {
            "school_year": ctx.school_year,
            "period": ctx.period,
            "version": version,
            "touched": touched,
        }
        con.execute(warehouse.sql("aggregate/indicators", "insert_indicators"), values)
        con.execute(warehouse.sql("aggregate/indicators", "insert_parity_indices"), values)
    return warehouse.scalar(con, warehouse.sql("aggregate/indicators", "count_indicators"), key)
