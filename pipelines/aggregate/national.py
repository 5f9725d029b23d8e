"""The national roll-up: every province's partition read-only, their cells unioned, and the
ministry (`bo`/`BO`) rows as the sum of the Sở rows (pipelines/sql/aggregate/national.sql)."""

from __future__ import annotations

from pathlib import Path

from pipelines import warehouse


def national_rollup(partitions: dict[str, Path], target: Path, school_year: str, period: str,
                    out: Path | None = None) -> dict[str, object]:  # fmt: skip
    """Read every province partition read-only (DuckDB ATTACH), union their cells of the period into
    TARGET's `cells` and add the ministry (`bo`/`BO`) rows as the sum of the Sở rows; writes
    OUT/cells.parquet and cells.csv (each row with its province; none on the ministry's). Returns
    counts by province."""
    target.unlink(missing_ok=True)
    facts: dict[str, object] = {}
    with warehouse.connect(target) as con:
        con.execute(warehouse.sql("aggregate/national", "create_national"))
        for province, path in sorted(partitions.items()):
            con.execute(warehouse.sql("aggregate/national", "attach_partition"), [str(path)])
            try:
                con.execute(
                    warehouse.sql("aggregate/national", "collect_partition"),
                    {"province": province, "year": school_year, "period": period},
                )
            finally:
                con.execute(warehouse.sql("aggregate/national", "detach_partition"))
        con.execute(warehouse.sql("aggregate/national", "add_ministry"))
        con.execute(warehouse.sql("aggregate/national", "store_cells"))
        for province, schools, cells in con.execute(
            warehouse.sql("aggregate/national", "per_province")
        ).fetchall():
            facts[f"schools_{province}"] = schools
            facts[f"cells_{province}"] = cells
        facts["cells_bo"] = warehouse.scalar(con, warehouse.sql("aggregate/national", "count_ministry"))
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            con.execute(warehouse.sql("aggregate/national", "write_parquet"), [str(out / "cells.parquet")])
            con.execute(warehouse.sql("aggregate/national", "write_csv"), [str(out / "cells.csv")])
    return facts
