"""The national roll-up: every province's partition read-only, their cells unioned, and the
ministry (`bo`/`BO`) rows as the sum of the Sở rows."""

from __future__ import annotations

from pathlib import Path

from pipelines import warehouse


def national_rollup(partitions: dict[str, Path], target: Path, school_year: str, period: str,
                    out: Path | None = None) -> dict[str, object]:  # fmt: skip
    """Read every province partition read-only (DuckDB ATTACH), union their cells of the period into
    TARGET's `cells` and add the ministry (`bo`/`BO`) rows as the sum of the Sở rows; writes
    OUT/cells.parquet and cells.csv. Returns counts by province."""
    target.unlink(missing_ok=True)
    facts: dict[str, object] = {}
    with warehouse.connect(target) as con:
        selects = []
        for i, (province, path) in enumerate(sorted(partitions.items())):
            con.execute(f"ATTACH '{path}' AS p{i} (READ_ONLY)")
            selects.append(f"SELECT '{province}' AS province, * FROM p{i}.cells "
                           f"WHERE school_year = $year AND period = $period")  # fmt: skip
        con.execute(f"CREATE TABLE cells AS {' UNION ALL BY NAME '.join(selects)}",
                    {"year": school_year, "period": period})  # fmt: skip
        for i in range(len(partitions)):
            con.execute(f"DETACH p{i}")
        con.execute(
            """INSERT INTO cells BY NAME
               SELECT NULL AS province, school_year, period, regime, form, 'bo' AS level, 'BO' AS unit_code,
                      row_code, col_key, sum(value)::BIGINT AS value, boundaries
               FROM cells WHERE level = 'so' GROUP BY ALL"""
        )
        for province, schools, cells in con.execute(
            """SELECT province, count(DISTINCT unit_code) FILTER (WHERE level = 'school'), count(*)
               FROM cells WHERE province IS NOT NULL GROUP BY province ORDER BY province"""
        ).fetchall():
            facts[f"schools_{province}"] = schools
            facts[f"cells_{province}"] = cells
        facts["cells_bo"] = warehouse.scalar(con, "SELECT count(*) FROM cells WHERE level = 'bo'")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT * FROM cells ORDER BY ALL) TO '{out / 'cells.parquet'}' (FORMAT parquet)"
            )
            con.execute(f"COPY (SELECT * FROM cells ORDER BY ALL) TO '{out / 'cells.csv'}' (HEADER)")
    return facts


