"""Settings of one run, resolved once at the edge (CLI or flow) into a frozen dataclass."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_WAREHOUSE = DATA_DIR / "warehouse.duckdb"
KEY_ENV = "EDUSTAT_PSEUDONYM_KEY"
# Period -> (years after the start year, month, day) of its as-of date (TT 24/2018):
# DN start of year, data as of 30/9 of the start year; CN end of year, as of 31/5 of the end year.
PERIODS = {"DN": (0, 9, 30), "CN": (1, 5, 31)}
# Thông tư 25/2024/TT-BGDĐT replaced TT 24/2018 from 9/2/2025 (reference README).
REGIMES = {"tt24": date(2018, 11, 14), "tt25": date(2025, 2, 9)}


# Boundary versions of the unit tree (reference README, "the 2025 reorganisation"): until 30/6/2025
# districts (Phòng GDĐT) and 63 provinces; from 1/7/2025 34 provinces and no district level.
BOUNDARIES = {"2024": date(1900, 1, 1), "2025": date(2025, 7, 1)}


def boundaries_on(as_of: date) -> str:
    """The boundary version in force on a period's as-of date."""
    return max((start, name) for name, start in BOUNDARIES.items() if start <= as_of)[1]


def regime_on(as_of: date) -> str:
    """The reporting regime in force on a period's as-of date."""
    return max((start, name) for name, start in REGIMES.items() if start <= as_of)[1]


@dataclass(frozen=True)
class Settings:
    school_year: str  # "2024-2025"
    start_year: int
    period: str  # "DN" | "CN"
    regime: str  # "tt24"
    registry: Path
    inbox: Path
    warehouse: Path
    out: Path
    run_id: str
    pseudonym_key: bytes
    processes: int
    population: Path | None = None  # population.csv (docs/input-contract.md, Population)
    boundaries: str = "2024"  # the boundary version the period is aggregated on (BOUNDARIES)
    approved_only: bool = False  # Phòng and Sở reports from approved schools only (pipelines/window/approvals.py)
    # Re-read every file, check every school and rewrite every workbook, rather than only what changed
    # since the last run of the period (edustat run --full).
    full: bool = False

    @property
    def as_of(self) -> date:
        years, month, day = PERIODS[self.period]
        return date(self.start_year + years, month, day)


def parse_school_year(text: str) -> int:
    """ "2024-2025" → 2024 (the start year); refuses anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{4})", text.strip())
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"năm học phải có dạng 2024-2025 / school year must look like 2024-2025: {text!r}")
    return int(m.group(1))


def pseudonym_key(warehouse: Path) -> bytes:
    """The key of the keyed hash: from the environment, else a random key kept beside the warehouse.

    The key never enters the repository; keeping one per installation keeps hashes stable across
    runs, so the same pupil gets the same pseudonym in every period.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = warehouse.parent / ".pseudonym_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def resolve(school_year: str, period: str, registry: Path, inbox: Path, warehouse: Path | None = None,
            out: Path | None = None, run_id: str | None = None, processes: int = 2,
            regime: str | None = None, population: Path | None = None,
            boundaries: str | None = None, approved_only: bool = False, full: bool = False) -> Settings:  # fmt: skip
    start_year = parse_school_year(school_year)
    if period not in PERIODS:
        raise ValueError(
            f"kỳ báo cáo {period!r} chưa hỗ trợ (chỉ DN, CN) / period not supported (only DN, CN)"
        )
    warehouse = Path(warehouse or DEFAULT_WAREHOUSE).resolve()
    out = Path(out or DATA_DIR / "output" / school_year / period).resolve()
    years, month, day = PERIODS[period]
    # By default the regime in force on the as-of date; TT 25's grids are not public, so its forms
    # carry TT 24's grids as provisional content (schemas/forms/tt25/).
    regime = regime or regime_on(date(start_year + years, month, day))
    if regime not in REGIMES:
        raise ValueError(f"chế độ báo cáo {regime!r} không có / unknown regime (tt24, tt25)")
    # By default the boundaries in force on the as-of date; any period can use the other version.
    boundaries = boundaries or boundaries_on(date(start_year + years, month, day))
    if boundaries not in BOUNDARIES:
        raise ValueError(f"phiên bản địa giới {boundaries!r} không có / unknown boundaries (2024, 2025)")
    if population is not None and not Path(population).is_file():
        raise ValueError(f"không có tệp dân số / population file not found: {population}")
    return Settings(
        school_year=school_year,
        start_year=start_year,
        period=period,
        regime=regime,
        registry=Path(registry).resolve(),
        inbox=Path(inbox).resolve(),
        warehouse=warehouse,
        out=out,
        run_id=run_id or datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3),
        pseudonym_key=pseudonym_key(warehouse),
        processes=max(1, processes),
        population=Path(population).resolve() if population is not None else None,
        boundaries=boundaries,
        approved_only=approved_only,
        full=full,
    )
