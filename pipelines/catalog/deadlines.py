"""The reporting deadlines of each level and period (schemas/deadlines.yaml)."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from pipelines.catalog.loader import SCHEMAS, load_yaml

DEADLINES = SCHEMAS / "deadlines.yaml"


def _deadline_config() -> dict[str, Any]:
    return load_yaml(DEADLINES)


def deadlines(start_year: int, period: str, regime: str = "tt24") -> dict[str, date]:
    """The last day each level may send its report for a period (schemas/deadlines.yaml)."""
    cfg = _deadline_config()
    p = cfg["periods"][period]
    year, month = start_year + int(p["year_offset"]), int(p["month"])
    last = calendar.monthrange(year, month)[1]
    out = {}
    for level, spec in cfg["levels"].items():
        day = cfg.get("regimes", {}).get(regime, {}).get(period, {}).get(level, spec)["day"]
        out[level] = date(year, month, min(int(day), last))
    return out
