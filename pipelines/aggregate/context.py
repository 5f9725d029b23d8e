"""What every aggregation step is told about the run, and the columns of its cells."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The columns of the `cells` table and of cells.csv / cells.parquet (the tidy-output contract).
CELLS_COLUMNS = (
    "school_year",
    "period",
    "regime",
    "form",
    "level",
    "unit_code",
    "row_code",
    "col_key",
    "value",
    "boundaries",  # the boundary version the Phòng and Sở rows are on (settings.BOUNDARIES)
)
# Code lists the entity SQL joins to.
SQL_CODELISTS = (
    "education_level_group",
    "class_session",
    "room_type",
    "very_small_ethnic_group",
    "qualification",
    "centre_type",
)


@dataclass(frozen=True)
class RunContext:
    run_id: str
    school_year: str  # "2024-2025"
    start_year: int
    period: str
    as_of: date
    boundaries: str = "2024"
    approved_only: bool = False  # Phòng and Sở from approved schools only (edustat run --approved-only)
