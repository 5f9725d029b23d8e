"""The population file (docs/input-contract.md, "Population"): population by Phòng or Sở, year,
single age and sex, the denominators of the enrolment rates."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import catalog, warehouse

# The columns of a population file (docs/input-contract.md, "Population") and of the `population` table.
POPULATION_COLUMNS = ("level", "unit_code", "year", "age", "sex", "population")
POPULATION_LEVELS = ("phong", "so")
POPULATION_SEXES = {"01": "male", "02": "female"}  # DM_GIOI_TINH


class PopulationError(ValueError):
    """A population file that cannot be read; the message is in Vietnamese and English."""


def read_population(path: Path) -> list[tuple[str, str, int, int, str, int]]:
    """The rows of a population CSV, checked: level phong|so, year, age 0-25, sex 01|02, population ≥ 0.

    Refuses the whole file on the first bad row, naming the line, the column and the value.
    """
    import csv

    path = Path(path)
    if not path.is_file():
        raise PopulationError(f"không có tệp dân số / population file not found: {path}")
    lo, hi = catalog.POPULATION_AGES
    rows: dict[tuple[str, str, int, int, str], int] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in POPULATION_COLUMNS if c not in header]
        if missing:
            raise PopulationError(f"{path.name}: thiếu cột / missing columns {', '.join(missing)} "
                                  f"(cần / expected {', '.join(POPULATION_COLUMNS)})")  # fmt: skip
        reader.fieldnames = header
        for line, raw in enumerate(reader, start=2):
            rec = {k: (raw.get(k) or "").strip() for k in POPULATION_COLUMNS}

            def bad(
                column: str, vi: str, en: str, rec: dict[str, str] = rec, line: int = line
            ) -> PopulationError:
                return PopulationError(f"{path.name} dòng / line {line}: cột / column {column} = {rec[column]!r}: "
                                       f"{vi} / {en}")  # fmt: skip

            if rec["level"] not in POPULATION_LEVELS:
                raise bad("level", "cấp đơn vị không hợp lệ (phong hoặc so)", "unknown level (phong or so)")
            if not rec["unit_code"]:
                raise bad("unit_code", "thiếu mã đơn vị", "missing unit code")
            numbers = {}
            for column in ("year", "age", "population"):
                if not rec[column].isdigit():
                    raise bad(column, "không phải số nguyên không âm", "not a non-negative whole number")
                numbers[column] = int(rec[column])
            if not 1900 <= numbers["year"] <= 2200:
                raise bad("year", "năm không hợp lệ", "not a calendar year")
            if not lo <= numbers["age"] <= hi:
                raise bad("age", f"tuổi phải từ {lo} đến {hi}", f"age must be {lo} to {hi}")
            sex = rec["sex"].zfill(2) if rec["sex"].isdigit() else rec["sex"]
            if sex not in POPULATION_SEXES:
                raise bad(
                    "sex", "giới tính phải là 01 (nam) hoặc 02 (nữ)", "sex must be 01 (male) or 02 (female)"
                )
            key = (rec["level"], rec["unit_code"], numbers["year"], numbers["age"], sex)
            if key in rows:
                raise bad("unit_code", "dòng trùng (cấp, đơn vị, năm, tuổi, giới tính)",
                          "duplicate (level, unit, year, age, sex)")  # fmt: skip
            rows[key] = numbers["population"]
    return [(*key, n) for key, n in rows.items()]


def load_population(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Replace the warehouse's `population` rows with the file's; no file: no rows (and no rates over
    population). Returns the number of rows."""
    con.execute(warehouse.sql("ingest/population", "clear"))
    if path is None:
        return 0
    rows = read_population(path)
    warehouse.insert_rows(con, "population", rows)
    return len(rows)
