"""The analyst's side: small read-only queries the notebooks (notebooks/*.py) build on, each returning a
pandas DataFrame from a DuckDB connection, and a helper that saves a chart as a reproducible PNG.

Every query reads the warehouse as the pipeline leaves it (or a release); nothing here writes to
it. The figures are those of `cells` / OUT/cells.csv, so a notebook's key figure can be checked
against the run's outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pandas and matplotlib load with the notebooks, not with the pipeline
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PRIMARY = "02-TH-DN"
PRIMARY_PUPILS = (37, "T.all")  # 02-TH-DN row 37 "Tổng quy mô" (all primary pupils), all pupils
GRADE_ROWS = {40: 1, 41: 2, 42: 3, 43: 4, 44: 5}  # 02-TH-DN rows 40-44: pupils of grades 1-5


def connect(warehouse: Path | str) -> duckdb.DuckDBPyConnection:
    """The warehouse (or a release.duckdb), read-only: analysts never write to it."""
    path = Path(warehouse)
    if not path.is_file():
        raise FileNotFoundError(f"không có kho dữ liệu / no warehouse at {path} (run `edustat demo`)")
    return duckdb.connect(str(path), read_only=True)


def school_years(con: duckdb.DuckDBPyConnection, period: str = "DN") -> list[str]:
    """The school years of a period that have cells, oldest first."""
    rows = con.execute(
        "SELECT DISTINCT school_year FROM cells WHERE period = ? ORDER BY school_year", [period]
    ).fetchall()
    return [r[0] for r in rows]


def boundaries_of(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> str:
    """The boundary version the period was aggregated on (its last run's)."""
    row = con.execute(
        "SELECT boundaries FROM aggregate_runs WHERE school_year = ? AND period = ? "
        "ORDER BY aggregated_at DESC LIMIT 1",
        [school_year, period],
    ).fetchone()
    if row is None:
        raise ValueError(f"không có kỳ / no period {school_year} {period} in the warehouse")
    return row[0]


def cell_value(con: duckdb.DuckDBPyConnection, school_year: str, form: str, level: str, unit_code: str,
               row_code: int, col_key: str, period: str = "DN") -> int:  # fmt: skip
    """One printed cell of one unit (an absent cell is 0: cells are sparse)."""
    row = con.execute(
        "SELECT sum(value) FROM cells WHERE school_year = ? AND period = ? AND form = ? AND level = ? "
        "AND unit_code = ? AND row_code = ? AND col_key = ? AND boundaries = ?",
        [
            school_year,
            period,
            form,
            level,
            unit_code,
            row_code,
            col_key,
            boundaries_of(con, school_year, period),
        ],
    ).fetchone()
    return int(row[0] or 0)


def so_code(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> str:
    """The Sở of the period's cells (the demo warehouse holds one province)."""
    row = con.execute(
        "SELECT min(unit_code) FROM cells WHERE school_year = ? AND period = ? AND level = 'so'",
        [school_year, period],
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"không có số liệu cấp Sở / no Sở cells for {school_year} {period}")
    return row[0]


def enrolment_by_phong_grade_sex(con: duckdb.DuckDBPyConnection, school_year: str,
                                 period: str = "DN") -> pd.DataFrame:  # fmt: skip
    """Primary pupils by Phòng, grade (1-5) and sex, from 02-TH-DN rows 40-44 (columns T.all and
    T.female; boys = all − girls): phong_code, phong_name, grade, pupils, female, male."""
    rows = ", ".join(f"({r}, {g})" for r, g in GRADE_ROWS.items())
    return con.execute(
        f"""
        WITH grades(row_code, grade) AS (VALUES {rows}),
        phong_cells AS (
            SELECT unit_code, row_code, col_key, value FROM cells
            WHERE school_year = $year AND period = $period AND form = '{PRIMARY}' AND level = 'phong'
              AND boundaries = $boundaries AND col_key IN ('T.all', 'T.female')
        )
        SELECT u.unit_code AS phong_code, u.name_vi AS phong_name, g.grade,
               coalesce(sum(c.value) FILTER (c.col_key = 'T.all'), 0)::BIGINT AS pupils,
               coalesce(sum(c.value) FILTER (c.col_key = 'T.female'), 0)::BIGINT AS female,
               (coalesce(sum(c.value) FILTER (c.col_key = 'T.all'), 0)
                - coalesce(sum(c.value) FILTER (c.col_key = 'T.female'), 0))::BIGINT AS male
        FROM units u CROSS JOIN grades g
        LEFT JOIN phong_cells c ON c.unit_code = u.unit_code AND c.row_code = g.row_code
        WHERE u.level = 'phong'
        GROUP BY u.unit_code, u.name_vi, g.grade
        ORDER BY length(phong_code), phong_code, g.grade
        """,
        {"year": school_year, "period": period, "boundaries": boundaries_of(con, school_year, period)},
    ).df()


def indicator_change(con: duckdb.DuckDBPyConnection, school_year: str, previous_year: str,
                     level: str = "so", period: str = "DN") -> pd.DataFrame:  # fmt: skip
    """Every indicator of the units of a level in two school years, on this year's boundary version:
    indicator_id, name_vi, name_en, unit_code, previous, current, change, change_pct (None when the
    previous value is missing or 0)."""
    return con.execute(
        """
        WITH i AS (
            SELECT school_year, indicator_id, name_vi, name_en, unit_code, value FROM indicators
            WHERE period = $period AND level = $level AND boundaries = $boundaries
              AND school_year IN ($year, $previous)
        )
        SELECT cur.indicator_id, cur.name_vi, cur.name_en, cur.unit_code,
               prev.value AS previous, cur.value AS current,
               round(cur.value - prev.value, 2) AS change,
               CASE WHEN prev.value <> 0 THEN round(100 * (cur.value - prev.value) / prev.value, 1) END
                   AS change_pct
        FROM (SELECT * FROM i WHERE school_year = $year) cur
        LEFT JOIN (SELECT * FROM i WHERE school_year = $previous) prev USING (indicator_id, unit_code)
        ORDER BY cur.unit_code, cur.indicator_id
        """,
        {
            "year": school_year,
            "previous": previous_year,
            "period": period,
            "level": level,
            "boundaries": boundaries_of(con, school_year, period),
        },  # fmt: skip
    ).df()


def submissions_per_day(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> pd.DataFrame:
    """The reporting window day by day: files arrived (every version), schools whose first file
    arrived that day, schools received so far, their share of the schools expected by the registry,
    and the school deadline: day, files, new_schools, schools_received, expected, share_received,
    deadline."""
    return con.execute(
        """
        WITH firsts AS (
            SELECT school_code, min(arrived_at) AS first_at FROM submissions
            WHERE school_year = $year AND period = $period GROUP BY school_code
        ),
        days AS (
            SELECT CAST(arrived_at AS DATE) AS day, count(*) AS files FROM submissions
            WHERE school_year = $year AND period = $period GROUP BY day
        ),
        new AS (SELECT CAST(first_at AS DATE) AS day, count(*) AS new_schools FROM firsts GROUP BY day),
        expected AS (
            SELECT count(*) AS expected, max(deadline) AS deadline FROM completeness_schools
            WHERE school_year = $year AND period = $period
        )
        SELECT d.day, d.files, coalesce(n.new_schools, 0) AS new_schools,
               sum(coalesce(n.new_schools, 0)) OVER (ORDER BY d.day)::BIGINT AS schools_received,
               e.expected, round(100.0 * schools_received / e.expected, 1) AS share_received, e.deadline
        FROM days d LEFT JOIN new n USING (day) CROSS JOIN expected e
        ORDER BY d.day
        """,
        {"year": school_year, "period": period},
    ).df()


def problems_per_run(con: duckdb.DuckDBPyConnection, period: str = "DN") -> pd.DataFrame:
    """Problems of every run of the period, by rule and severity: validation problems and files
    rejected at ingest (rule = the rejection reason): run_id, school_year, rule_id, severity,
    problems, schools."""
    return con.execute(
        """
        WITH p AS (
            SELECT run_id, school_year, rule_id, severity, school_code FROM validation_results
            WHERE period = $period
            UNION ALL
            SELECT f.run_id, r.school_year, f.reason, 'error', f.school_code FROM files f
            JOIN aggregate_runs r USING (run_id)
            WHERE f.status = 'rejected' AND f.period = $period
        )
        SELECT run_id, school_year, rule_id, severity, count(*) AS problems,
               count(DISTINCT school_code) AS schools
        FROM p GROUP BY ALL
        ORDER BY school_year, run_id, severity, problems DESC, rule_id
        """,
        {"period": period},
    ).df()


def ranking(con: duckdb.DuckDBPyConnection, indicator_id: str, school_year: str, level: str = "phong",
            period: str = "DN") -> pd.DataFrame:  # fmt: skip
    """The units of a level ranked on one indicator, highest first (ties share a rank): rank,
    unit_code, unit_name, value, numerator, denominator, vs_so (value − the Sở's value)."""
    return con.execute(
        """
        WITH i AS (
            SELECT level, unit_code, value, numerator, denominator FROM indicators
            WHERE school_year = $year AND period = $period AND indicator_id = $indicator
              AND boundaries = $boundaries AND value IS NOT NULL
        )
        SELECT rank() OVER (ORDER BY i.value DESC) AS rank, i.unit_code, u.name_vi AS unit_name, i.value,
               i.numerator, i.denominator,
               round(i.value - (SELECT min(value) FROM i WHERE level = 'so'), 2) AS vs_so
        FROM i LEFT JOIN units u ON u.level = i.level AND u.unit_code = i.unit_code
        WHERE i.level = $level
        ORDER BY rank, i.unit_code
        """,
        {
            "year": school_year,
            "period": period,
            "indicator": indicator_id,
            "level": level,
            "boundaries": boundaries_of(con, school_year, period),
        },  # fmt: skip
    ).df()


def indicator_name(con: duckdb.DuckDBPyConnection, indicator_id: str) -> tuple[str, str]:
    """(name_vi, name_en) of an indicator."""
    row = con.execute(
        "SELECT any_value(name_vi), any_value(name_en) FROM indicators WHERE indicator_id = ?", [indicator_id]
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"không có chỉ tiêu / no indicator {indicator_id!r}")
    return row[0], row[1]


def key_figure(name_vi: str, name_en: str, value: float | int) -> str:
    """The one line a notebook prints for its key figure (the tests read it back)."""
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    line = f"Số liệu chính / key figure: {name_vi} / {name_en} = {text}"
    print(line)
    return line


def figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Axes]:
    """A new chart of a fixed size on the Agg backend (no display needed, the same pixels on every
    machine); the notebooks show the saved PNG itself."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def save_chart(fig: Figure, folder: Path | str, name: str) -> Path:
    """Save a figure as folder/<name>.png, the same bytes for the same figure: fixed DPI, no
    software stamp (PNG carries no date), then close it."""
    import matplotlib.pyplot as plt

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.png"
    fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path
