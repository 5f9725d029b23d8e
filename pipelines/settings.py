"""Settings of one run, resolved once at the edge (CLI or flow) into a frozen dataclass, and the
default paths every command shares (`paths()`: warehouse, releases, outputs, the demo)."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEY_ENV = "EDUSTAT_PSEUDONYM_KEY"
DATA_ENV = "EDUSTAT_DATA_DIR"  # the runtime folder (default: data/ of the checkout, else ./data)
FAIL_ABOVE_ENV = "EDUSTAT_FAIL_ABOVE"  # the share of expected schools missing or rejected that fails a run
# A run whose share of expected schools missing (deadline passed, nothing received) or rejected
# (file or school) is above this is Failed (status: inferred — no regulation gives a share). Half:
# above it the Sở's report no longer stands for the province; below it the state's name still says
# how many are missing ("Completed: 40/60 schools, 20 missing"). A Sở tightens it with
# EDUSTAT_FAIL_ABOVE or `edustat run --fail-above` (0.1: more than 6 of 60 schools fails the run).
DEFAULT_FAIL_ABOVE = 0.5


@dataclass(frozen=True)
class Paths:
    """The default paths of every command: one warehouse, one releases folder, one outputs folder."""

    data: Path  # the runtime folder
    why: str  # how `data` was chosen (printed by `edustat paths`)
    warehouse: Path  # data/warehouse.duckdb
    releases: Path  # data/releases (every release, whichever warehouse it came from)
    outputs: Path  # data/output/<school-year>/<period>/ (a run's default --out)
    demo: Path  # data/demo: the demo province's inputs, warehouse and outputs (never its releases)

    def output(self, school_year: str, period: str) -> Path:
        return self.outputs / school_year / period


def _in_checkout() -> bool:
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "schemas").is_dir()


def paths() -> Paths:
    """The default paths, from EDUSTAT_DATA_DIR, else data/ of the checkout edustat runs from, else
    ./data (an installed package)."""
    if os.environ.get(DATA_ENV):
        data, why = Path(os.environ[DATA_ENV]), DATA_ENV
    elif _in_checkout():
        data, why = PROJECT_ROOT / "data", "checkout"
    else:
        data, why = Path.cwd() / "data", "working directory"
    data = data.resolve()
    return Paths(data=data, why=why, warehouse=data / "warehouse.duckdb", releases=data / "releases",
                 outputs=data / "output", demo=data / "demo")  # fmt: skip


def schemas_dir() -> Path:
    """The catalogue (schemas/): package data of an installed edustat (pipelines/schemas in the
    wheel), else the checkout's schemas/."""
    packaged = resources.files("pipelines").joinpath("schemas")
    if packaged.is_dir():
        return Path(str(packaged))
    return PROJECT_ROOT / "schemas"


# Import-time aliases of paths() for the notebooks and older callers; commands call paths().
DATA_DIR = paths().data
DEFAULT_WAREHOUSE = paths().warehouse


# Text safe to open in a spreadsheet (OWASP, "CSV Injection"): a field that begins with one of these
# (a tab or carriage return before one too) is taken for a formula. One definition for every writer
# (outputs/csvsafe.py, analyst/query.py), here because both layers import settings.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = r"^[=+\-@\t\r]"  # the same, for DuckDB's regexp_matches
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # "-5", "+1.5e3": numbers, not formulas
_NUMBER = re.compile(NUMBER_PATTERN)


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with a single quote ("'=1+2"), which
    spreadsheets show as text and a reader still recognises; a number written as text is left alone
    (a negative number is a number, not a formula). Any other text is returned as it is."""
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


class NotWritable(ValueError):
    """A folder the command must write is not writable; the message is in Vietnamese and English."""


def check_writable(target: Path, what_vi: str, what_en: str, is_file: bool = False) -> Path:
    """Refuse, before any work, a folder (or a file's folder) that cannot be written: the nearest
    existing folder must take a new file. Creates nothing that stays."""
    target = Path(target).expanduser().absolute()
    folder = target.parent if is_file else target
    if is_file and target.is_dir():
        raise NotWritable(f"{what_vi} là một thư mục / {what_en} is a folder: {target}")
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise NotWritable(f"không ghi được {what_vi}: {probe} không phải thư mục / cannot write {what_en}: {probe} "
                          f"is not a folder ({target})")  # fmt: skip
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise NotWritable(f"không ghi được {what_vi} / cannot write {what_en}: {target} "
                          f"({exc.strerror or exc})") from None  # fmt: skip
    if is_file and target.exists() and not os.access(target, os.W_OK):
        raise NotWritable(f"không ghi đè được {what_vi} / cannot overwrite {what_en}: {target}")
    return target


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
    # Phòng and Sở reports from approved schools only (pipelines/window/approvals.py).
    approved_only: bool = False
    # Re-read every file, check every school and rewrite every workbook, rather than only what changed
    # since the last run of the period (edustat run --full).
    full: bool = False
    # The share of expected schools missing or rejected above which the run is Failed (run.outcome).
    fail_above: float = DEFAULT_FAIL_ABOVE

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
            boundaries: str | None = None, approved_only: bool = False, full: bool = False,
            out_root: Path | None = None, fail_above: float | None = None) -> Settings:  # fmt: skip
    """The run's settings. Defaults: the warehouse and outputs of paths(); out_root (a reporting
    window's folder) gives OUT_ROOT/<school-year>/<period>, so the two windows never share one."""
    start_year = parse_school_year(school_year)
    if period not in PERIODS:
        raise ValueError(
            f"kỳ báo cáo {period!r} chưa hỗ trợ (chỉ DN, CN) / period not supported (only DN, CN)"
        )
    defaults = paths()
    warehouse = Path(warehouse or defaults.warehouse).resolve()
    out = Path(out or Path(out_root or defaults.outputs) / school_year / period).resolve()
    fail_above = fail_above_share(fail_above)
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
    # Before anything is read or written: a folder the run cannot write stops it here, with a message.
    check_writable(warehouse.parent, "thư mục kho dữ liệu", "the warehouse folder")
    check_writable(out, "thư mục đầu ra", "the output folder")
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
        fail_above=fail_above,
    )


def fail_above_share(value: float | str | None = None) -> float:
    """The failure threshold: the value given, else EDUSTAT_FAIL_ABOVE, else DEFAULT_FAIL_ABOVE."""
    raw = value if value is not None else os.environ.get(FAIL_ABOVE_ENV) or DEFAULT_FAIL_ABOVE
    try:
        share = float(raw)
    except (TypeError, ValueError):
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ValueError(
            f"ngưỡng phải từ 0 đến 1 / the failure threshold must be a share from 0 to 1: {raw!r}"
        )
    return share
