"""The reporting deadlines of each level and period (schemas/deadlines.yaml).

`DeadlinesFile` is the model of the file (docs/schemas/deadlines.schema.json).
"""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field as SpecField
from pydantic import model_validator

from pipelines import settings
from pipelines.catalog.loader import SCHEMAS, Loc, Spec, cached, read_file, reference_problems

DEADLINES = SCHEMAS / "deadlines.yaml"
LEVELS = ("school", "phong", "so")  # who reports: a school, its Phòng, the Sở
Level = Literal[LEVELS]  # type: ignore[valid-type]
Period = Literal[tuple(settings.PERIODS)]  # type: ignore[valid-type]
Regime = Literal[tuple(settings.REGIMES)]  # type: ignore[valid-type]


class PeriodMonth(Spec):
    """The month a period's reports are due in."""

    month: Annotated[int, SpecField(ge=1, le=12)]
    year_offset: Annotated[int, SpecField(ge=0, le=1, description="0: of the start year, 1: of the end year")]
    source: str | None = None


class LevelDay(Spec):
    """The last day of the month a level may send its report (a shorter month ends it earlier)."""

    day: Annotated[int, SpecField(ge=1, le=31)]
    status: Literal["inferred"] | None = SpecField(None, description="inferred: edustat's default")
    source: str | None = None


class DeadlinesFile(Spec):
    """schemas/deadlines.yaml: by when each level must have sent its report."""

    periods: dict[Period, PeriodMonth]
    levels: dict[Level, LevelDay]
    regimes: dict[Regime, dict[Period, dict[Level, LevelDay]]] = SpecField(
        default_factory=dict, description="days that differ under a regime, by period and level"
    )

    @model_validator(mode="after")
    def _complete(self) -> DeadlinesFile:
        reference_problems(deadline_problems(self))
        return self


def deadline_problems(spec: DeadlinesFile) -> list[tuple[Loc, str]]:
    """Every period and level has a deadline, and every day exists in its period's month."""
    out: list[tuple[Loc, str]] = []
    out += [(("periods", p), f"missing key {p!r}") for p in settings.PERIODS if p not in spec.periods]
    out += [(("levels", lv), f"missing key {lv!r}") for lv in LEVELS if lv not in spec.levels]
    days: list[tuple[Loc, str, LevelDay]] = [
        (("levels", lv), p, d) for lv, d in spec.levels.items() for p in spec.periods
    ]
    days += [
        (("regimes", rg, p, lv), p, d)
        for rg, by_period in spec.regimes.items()
        for p, by_level in by_period.items()
        for lv, d in by_level.items()
    ]
    for loc, period, d in days:
        if period in spec.periods:
            month = spec.periods[period].month
            longest = calendar.monthrange(2024, month)[1]  # a leap year: 29 February is a day
            if d.day > longest:
                out.append(
                    ((*loc, "day"), f"{period} reports are due in month {month}, which has no day {d.day}")
                )
    return out


@cached
def deadline_config(root: Path = SCHEMAS) -> DeadlinesFile:
    """schemas/deadlines.yaml, validated."""
    return read_file(DeadlinesFile, root / DEADLINES.name, root)


def deadlines(start_year: int, period: str, regime: str = "tt24", root: Path = SCHEMAS) -> dict[str, date]:
    """The last day each level may send its report for a period (schemas/deadlines.yaml)."""
    cfg = deadline_config(root)
    p = cfg.periods[period]
    year, month = start_year + p.year_offset, p.month
    last = calendar.monthrange(year, month)[1]
    out = {}
    for level, spec in cfg.levels.items():
        day = cfg.regimes.get(regime, {}).get(period, {}).get(level, spec).day
        out[level] = date(year, month, min(day, last))
    return out
