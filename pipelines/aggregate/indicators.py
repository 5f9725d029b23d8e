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


def compute_indicators(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, forms: tuple[catalog.Form, ...]
) -> int:
    """Indicators per unit from the period's cells; each value keeps its numerator and denominator.

    A unit gets the indicators of every form it reports; absent cells are zero, and a ratio over
    a zero denominator is NULL (not computable), never 0. Rates over population go to the Phòng
    and Sở that report the form and have population rows for the start year (table `population`,
    see load_population); a gender parity index divides the unit's female and male rates.
    """
    # Indicators are declared on TT 24 form ids; a later regime's form borrowing that grid
    # (base_form) feeds the same indicators under its own id.
    run_form = {f.base_form or f.form: f.form for f in forms}
    chosen = [replace(i, form=run_form[i.form]) for i in catalog.indicators() if i.form in run_form]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _indicators (indicator_id VARCHAR, form VARCHAR, name_vi VARCHAR, "
        "name_en VARCHAR, status VARCHAR, kind VARCHAR, scale DOUBLE, age_from INTEGER, age_to INTEGER, "
        "pop_sex VARCHAR, gpi_female VARCHAR, gpi_male VARCHAR, den_form VARCHAR, den_year VARCHAR, den_period VARCHAR)"
    )
    warehouse.insert_rows(
        con,
        "_indicators",
        [(i.id, i.form, i.name_vi, i.name_en, i.status, i.kind, float(i.scale),
          *(i.population_ages or (None, None)), i.population_sex, *(i.gpi or (None, None)),
          *_earlier(i, ctx)) for i in chosen],
    )  # fmt: skip
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _indicator_cells (indicator_id VARCHAR, side VARCHAR, row_code INTEGER, col_key VARCHAR)"
    )
    warehouse.insert_rows(
        con,
        "_indicator_cells",
        [(i.id, side, row, col) for i in chosen
         for side, cells in (("num", i.numerator), ("den", i.denominator), ("minus", i.minus)) for row, col in cells],
    )  # fmt: skip
    # The population of the start year (none when the run was given no population file).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _population AS "
        "SELECT level, unit_code, age, sex, population FROM population WHERE year = ?",
        [int(ctx.start_year)],
    )
    con.execute("DELETE FROM indicators WHERE school_year = ? AND period = ?", [ctx.school_year, ctx.period])
    into = f"INSERT INTO indicators ({', '.join(INDICATOR_COLUMNS)})"
    head = f"'{ctx.school_year}', '{ctx.period}', i.form, i.indicator_id, i.name_vi, i.name_en, i.status"
    # On every boundary version: the school cells, and the Phòng, Sở and Bộ cells re-aggregated on it.
    for version in settings.BOUNDARIES:
        _insert_indicators(con, ctx, version, into, head)


def _insert_indicators(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, version: str, into: str, head: str
) -> None:
    """The indicators of the period's units on one boundary version (see compute_indicators)."""

    def on_version(year: str, period: str) -> str:
        return (f"SELECT form, level, unit_code, row_code, col_key, value FROM cells WHERE school_year = '{year}' "
                f"AND period = '{period}' AND level = 'school' UNION ALL SELECT form, level, unit_code, row_code, "
                f"col_key, value FROM unit_cells_on('{version}', '{year}', '{period}')")  # fmt: skip

    # Cohort rates read the earlier years' cells on the same version.
    pairs = con.execute(
        "SELECT DISTINCT den_year, den_period FROM _indicators WHERE kind = 'cohort' AND den_year IS NOT NULL ORDER BY ALL"
    ).fetchall()
    earlier = " UNION ALL ".join(
        f"SELECT '{year}' AS school_year, '{period}' AS period, * FROM ({on_version(year, period)})"
        for year, period in pairs
    ) or ("SELECT NULL::VARCHAR AS school_year, NULL::VARCHAR AS period, NULL::VARCHAR AS form, NULL::VARCHAR AS level, "
          "NULL::VARCHAR AS unit_code, NULL::INTEGER AS row_code, NULL::VARCHAR AS col_key, NULL::BIGINT AS value "
          "WHERE FALSE")  # fmt: skip
    con.execute(
        f"""
        {into}
        WITH c AS ({on_version(ctx.school_year, ctx.period)}),
        units AS (SELECT DISTINCT form, level, unit_code FROM c),
        sides AS (
            SELECT i.indicator_id, u.level, u.unit_code,
                   coalesce(sum(CASE WHEN ic.side = 'num' THEN c.value END), 0)
                   - coalesce(sum(CASE WHEN ic.side = 'minus' THEN c.value END), 0) AS num,
                   coalesce(sum(CASE WHEN ic.side = 'den' THEN c.value END), 0) AS den
            FROM _indicators i JOIN units u USING (form)
            JOIN _indicator_cells ic USING (indicator_id)
            LEFT JOIN c ON c.form = i.form AND c.level = u.level AND c.unit_code = u.unit_code
                AND c.row_code = ic.row_code AND c.col_key = ic.col_key
            GROUP BY ALL
        ),
        -- Cohort rates: the denominator cells of the same unit in an earlier year's form.
        cohort AS (
            SELECT i.indicator_id, e.level, e.unit_code, sum(e.value) AS den
            FROM _indicators i JOIN _indicator_cells ic USING (indicator_id)
            JOIN ({earlier}) e ON list_contains(string_split(i.den_form, ','), e.form)
                AND e.school_year = i.den_year AND e.period = i.den_period
                AND e.row_code = ic.row_code AND e.col_key = ic.col_key
            WHERE i.kind = 'cohort' AND ic.side = 'den'
            GROUP BY ALL
        ),
        pop_units AS (SELECT DISTINCT level, unit_code FROM _population),
        pop AS (
            SELECT i.indicator_id, pu.level, pu.unit_code, coalesce(sum(p.population), 0) AS den
            FROM _indicators i CROSS JOIN pop_units pu
            LEFT JOIN _population p ON p.level = pu.level AND p.unit_code = pu.unit_code
                AND p.age BETWEEN i.age_from AND i.age_to
                AND (i.pop_sex = 'all' OR p.sex = CASE i.pop_sex WHEN 'female' THEN '02' ELSE '01' END)
            WHERE i.kind = 'population'
            GROUP BY ALL
        )
        SELECT {head}, s.level, s.unit_code, s.num, CASE WHEN i.kind = 'ratio' THEN s.den END,
               CASE WHEN i.kind = 'count' THEN s.num WHEN s.den > 0 THEN round(s.num * i.scale / s.den, 2) END,
               NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id)
        WHERE i.kind IN ('count', 'ratio')
        UNION ALL
        SELECT {head}, s.level, s.unit_code, s.num, p.den,
               CASE WHEN p.den > 0 THEN round(s.num * i.scale / p.den, 2) END, NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id) JOIN pop p USING (indicator_id, level, unit_code)
        UNION ALL
        -- Without the earlier year in the warehouse the denominator is unknown: no value, not 0.
        SELECT {head}, s.level, s.unit_code, s.num, coalesce(h.den, 0),
               CASE WHEN h.den > 0 THEN round(s.num * i.scale / h.den, 2) END, NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id)
        LEFT JOIN cohort h USING (indicator_id, level, unit_code)
        WHERE i.kind = 'cohort'
        """
    )
    # Gender parity index from the female and male rates just computed (both rounded as stored);
    # above 1 the UNESCO adjusted index 2 − 1/GPI keeps it within 0-2 and symmetric around 1.
    con.execute(
        f"""
        {into}
        WITH r AS (SELECT indicator_id, level, unit_code, value FROM indicators
                   WHERE school_year = '{ctx.school_year}' AND period = '{ctx.period}' AND boundaries = '{version}'),
        g AS (
            SELECT i.*, f.level, f.unit_code, f.value AS f, m.value AS m
            FROM _indicators i
            JOIN r f ON f.indicator_id = i.gpi_female
            JOIN r m ON m.indicator_id = i.gpi_male AND m.level = f.level AND m.unit_code = f.unit_code
            WHERE i.kind = 'gpi'
        )
        SELECT {head}, level, unit_code, NULL, NULL,
               CASE WHEN f IS NOT NULL AND m > 0 THEN round(CASE WHEN f > m THEN 2 - m / f ELSE f / m END, 2) END,
               f, m, '{version}'
        FROM g i
        """
    )
    return warehouse.scalar(
        con,
        "SELECT count(*) FROM indicators WHERE school_year = ? AND period = ?",
        [ctx.school_year, ctx.period],
    )
