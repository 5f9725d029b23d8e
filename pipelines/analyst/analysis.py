"""The analyst's side: small read-only queries the notebooks (notebooks/*.py) build on, each returning a
pandas DataFrame from a DuckDB connection, and a helper that saves a chart as a reproducible PNG.

Every query reads the contract views (schemas/views.yaml: form_cells, indicator_values,
unit_hierarchy, submission_log, validation_problems, file_log), which a warehouse and a release
both hold, so the notebooks keep working when internal tables change. Nothing here writes. The
figures are those of `cells` / OUT/cells.csv, so a notebook's key figure can be checked against the
run's outputs.

Communes on the 2025 map (commune_profile, commune_indicators, commune_ranking,
communes_without_school, communes_unplaced): the levels a commune manages, read from the forms' school cells summed
by each school's commune on the 2025 map (unit_hierarchy), so any period can be read per commune,
whichever boundaries it was aggregated on; the cells are schemas/analysis.yaml's `communes`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines.catalog.analysis import CommuneCells, EnrolmentCells, commune_cells, enrolment_cells
from pipelines.settings import PERIODS, parse_school_year
from pipelines.warehouse import sql

if TYPE_CHECKING:  # pandas and matplotlib load with the notebooks, not with the pipeline
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _sql(name: str) -> str:
    return sql("analyst/analysis", name)


def connect(warehouse: Path | str) -> duckdb.DuckDBPyConnection:
    """The warehouse (or a release.duckdb), read-only: analysts never write to it."""
    path = Path(warehouse)
    if not path.is_file():
        raise FileNotFoundError(f"không có kho dữ liệu / no warehouse at {path} (run `edustat demo`)")
    return duckdb.connect(str(path), read_only=True)


def school_years(con: duckdb.DuckDBPyConnection, period: str = "DN") -> list[str]:
    """The school years of a period that have cells, oldest first."""
    return [r[0] for r in con.execute(_sql("school_years"), [period]).fetchall()]


def boundaries_of(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> str:
    """The boundary version the period's Phòng and Sở rows are on (the run's; the one with most
    cells should a warehouse hold both)."""
    row = con.execute(_sql("boundaries"), [school_year, period]).fetchone()
    if row is None:
        raise ValueError(f"không có kỳ / no period {school_year} {period} in the warehouse")
    return row[0]


def cell_value(con: duckdb.DuckDBPyConnection, school_year: str, form: str, level: str, unit_code: str,
               row_code: int, col_key: str, period: str = "DN") -> int:  # fmt: skip
    """One printed cell of one unit (an absent cell is 0: cells are sparse)."""
    row = con.execute(
        _sql("cell_value"),
        {"school_year": school_year, "period": period, "form": form, "level": level, "unit_code": unit_code,
         "row_code": row_code, "col_key": col_key, "boundaries": boundaries_of(con, school_year, period)},
    ).fetchone()  # fmt: skip
    return int(row[0] or 0)


def so_code(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> str:
    """The Sở of the period's cells (the first, should a warehouse hold several provinces)."""
    row = con.execute(
        _sql("so_code"), [school_year, period, boundaries_of(con, school_year, period)]
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"không có số liệu cấp Sở / no Sở cells for {school_year} {period}")
    return row[0]


def enrolment_by_phong_grade_sex(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                                 cells: EnrolmentCells | None = None) -> pd.DataFrame:  # fmt: skip
    """Pupils by Phòng, grade and sex from the grade rows of the enrolment form (`cells`, by default
    schemas/analysis.yaml's: the primary form's rows of grades 1-5, its columns of all pupils and of
    girls; boys = all − girls): phong_code, phong_name, grade, pupils, female, male. Every Phòng with
    a cell of the form is listed with every grade (a grade without pupils counts 0)."""
    cells = cells or enrolment_cells()
    return con.execute(
        _sql("enrolment_by_phong_grade_sex"),
        {"year": school_year, "period": period, "boundaries": boundaries_of(con, school_year, period),
         "form": cells.form, "rows": [r for r, _ in cells.grade_rows], "grades": [g for _, g in cells.grade_rows],
         "all": cells.all_column, "female": cells.female_column},
    ).df()  # fmt: skip


def indicator_change(con: duckdb.DuckDBPyConnection, school_year: str, previous_year: str,
                     level: str = "so", period: str = "DN") -> pd.DataFrame:  # fmt: skip
    """Every indicator of the units of a level in two school years, on this year's boundary version:
    indicator_id, name_vi, name_en, unit_code, unit_name, previous, current, change, change_pct
    (None when the previous value is missing or 0)."""
    return con.execute(
        _sql("indicator_change"),
        {
            "year": school_year,
            "previous": previous_year,
            "period": period,
            "level": level,
            "boundaries": boundaries_of(con, school_year, period),
        },  # fmt: skip
    ).df()


COMMUNE_MAP = "2025"  # the boundary version with communes (1/7/2025, Nghị định 142/2025; settings.BOUNDARIES)
# The indicators read per commune and level: id → (name_vi, name_en, numerator, denominator, scale),
# the numerator and denominator being measures of schemas/analysis.yaml `communes` (so_learners: the
# Sở's learners of the level). edustat's own (status: inferred), after TT 19/2017 2106 (pupils per
# teacher, per class, teachers per class); the share says how much of the Sở's level a commune holds.
COMMUNE_INDICATORS = {
    "pupils_per_class": ("Học sinh bình quân một lớp", "Pupils per class", "learners", "classes", 1),
    "pupils_per_teacher": ("Học sinh bình quân một giáo viên", "Pupils per teacher", "learners", "teachers", 1),
    "teachers_per_class": ("Giáo viên bình quân một lớp", "Teachers per class", "teachers", "classes", 1),
    "learner_share": ("Tỷ trọng học sinh của xã trong tỉnh (%)", "Share of the Sở's learners (%)", "learners",
                      "so_learners", 100),
}  # fmt: skip


def commune_figures(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                    cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """The figures of every commune (and of its Sở) on the 2025 map, per level the commune manages:
    unit_level (commune, so), so_code, unit_code, unit_name, level (preschool, primary,
    lower_secondary), schools (counted once, in the form of their highest level),
    multi_level_schools (counted in a higher form), schools_teaching (both), classes, learners,
    teachers, so_learners (the Sở's learners of the level). Every commune of the Sở is listed with
    every level, 0 where it has nothing; a school is placed as on the map on the period's as-of date.
    A school of a split commune awaiting review reports straight to the Sở: it counts in the Sở's
    row, in no commune's."""
    cells = cells or commune_cells()
    spec = [(lv.level, lv.form, *c) for lv in cells.levels for c in lv.cells]
    return con.execute(
        _sql("commune_figures"),
        {"year": school_year, "period": period, "boundaries": boundaries_of(con, school_year, period),
         "map": COMMUNE_MAP, "as_of": as_of(school_year, period), "levels": [s[0] for s in spec],
         "forms": [s[1] for s in spec], "measures": [s[2] for s in spec], "rows": [s[3] for s in spec],
         "cols": [s[4] for s in spec], "order": [lv.level for lv in cells.levels]},
    ).df()  # fmt: skip


def commune_profile(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                    cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """Schools, classes, learners and teachers per commune and level (commune_figures' commune rows):
    so_code, commune_code, commune_name, level, schools, multi_level_schools, schools_teaching,
    classes, learners, teachers."""
    df = commune_figures(con, school_year, period, cells)
    df = df[df["unit_level"] == "commune"].drop(columns=["unit_level", "so_learners"])
    df = df.rename(columns={"unit_code": "commune_code", "unit_name": "commune_name"})
    return df.reset_index(drop=True)


def commune_indicators(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                       cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """COMMUNE_INDICATORS of every commune and of its Sở, per level, each with its numerator and
    denominator: unit_level, so_code, unit_code, unit_name, level, indicator, name_vi, name_en,
    numerator, denominator, value (None when the denominator is 0: not computable)."""
    import pandas as pd

    df = commune_figures(con, school_year, period, cells)
    keys = ["unit_level", "so_code", "unit_code", "unit_name", "level"]
    parts = []
    for indicator, (name_vi, name_en, num, den, scale) in COMMUNE_INDICATORS.items():
        part = df[keys].assign(indicator=indicator, name_vi=name_vi, name_en=name_en,
                               numerator=df[num], denominator=df[den])  # fmt: skip
        part["value"] = (scale * part["numerator"] / part["denominator"]).where(part["denominator"] > 0)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def commune_ranking(con: duckdb.DuckDBPyConnection, indicator: str, school_year: str, level: str = "primary",
                    period: str = "DN", cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """The communes ranked on one of COMMUNE_INDICATORS for one level, highest first (ties share a
    rank; communes where it cannot be computed are left out): rank, so_code, commune_code,
    commune_name, value, numerator, denominator, vs_so (value − the Sở's value)."""
    if indicator not in COMMUNE_INDICATORS:
        known = ", ".join(COMMUNE_INDICATORS)
        raise ValueError(f"không có chỉ tiêu cấp xã / no commune indicator {indicator!r} ({known})")
    df = commune_indicators(con, school_year, period, cells)
    df = df[(df["indicator"] == indicator) & (df["level"] == level)]
    so = df[df["unit_level"] == "so"].set_index("so_code")["value"]
    out = df[(df["unit_level"] == "commune") & df["value"].notna()].copy()
    out["vs_so"] = (out["value"] - out["so_code"].map(so)).round(2)
    out["rank"] = out["value"].rank(method="min", ascending=False).astype(int)
    out = out.rename(columns={"unit_code": "commune_code", "unit_name": "commune_name"})
    cols = ["rank", "so_code", "commune_code", "commune_name", "value", "numerator", "denominator", "vs_so"]
    return out.sort_values(["rank", "commune_code"])[cols].reset_index(drop=True)


def communes_without_school(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                            cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """The communes with no school teaching a level they manage (no school of the level, and no
    multi-level school with classes of it): so_code, commune_code, commune_name, level, learners
    (the level's learners in the commune's schools: 0 unless a school's cells disagree)."""
    df = commune_profile(con, school_year, period, cells)
    cols = ["so_code", "commune_code", "commune_name", "level", "learners"]
    return df[df["schools_teaching"] == 0][cols].reset_index(drop=True)


def communes_unplaced(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN",
                      cells: CommuneCells | None = None) -> pd.DataFrame:  # fmt: skip
    """The schools a commune should manage (every form they fill is a commune level's) that report
    straight to the Sở on the 2025 map because their commune is not known yet (a split commune
    awaiting review, a missing or unknown code: the run's registry.commune_* problems): so_code,
    school_code, school_name, forms. They count in the Sở's figures and in no commune's."""
    cells = cells or commune_cells()
    return con.execute(
        _sql("commune_unplaced"),
        {"year": school_year, "period": period, "boundaries": boundaries_of(con, school_year, period),
         "map": COMMUNE_MAP, "as_of": as_of(school_year, period), "forms": [lv.form for lv in cells.levels]},
    ).df()  # fmt: skip


def as_of(school_year: str, period: str) -> dt.date:
    """The reference date of a period (DN 30/9 of the start year, CN 31/5 of the end year)."""
    years, month, day = PERIODS[period]
    return dt.date(parse_school_year(school_year) + years, month, day)


def submissions_per_day(con: duckdb.DuckDBPyConnection, school_year: str, period: str = "DN") -> pd.DataFrame:
    """The reporting window day by day: files arrived (every version), schools whose first file
    arrived that day, schools received so far and their share of the schools expected (the schools
    of the unit tree on the period's reference date), and the school deadline
    (schemas/deadlines.yaml): day, files, new_schools, schools_received, expected, share_received,
    deadline."""
    from pipelines.catalog.deadlines import deadlines

    regime = con.execute(_sql("regime"), [school_year, period]).fetchone()[0]
    deadline = deadlines(parse_school_year(school_year), period, regime or "tt24")["school"]
    return con.execute(
        _sql("submissions_per_day"),
        {
            "year": school_year,
            "period": period,
            "boundaries": boundaries_of(con, school_year, period),
            "as_of": as_of(school_year, period),
            "deadline": deadline,
        },  # fmt: skip
    ).df()


def problems_per_run(con: duckdb.DuckDBPyConnection, period: str = "DN") -> pd.DataFrame:
    """Problems of every run of the period, by rule and severity: validation problems and files
    rejected at ingest (rule = the rejection reason): run_id, school_year, run_no (1, 2, … within
    the school year: run ids begin with their start time), rule_id, severity, problems, schools."""
    return con.execute(_sql("problems_per_run"), {"period": period}).df()


def ranking(con: duckdb.DuckDBPyConnection, indicator_id: str, school_year: str, level: str = "phong",
            period: str = "DN") -> pd.DataFrame:  # fmt: skip
    """The units of a level ranked on one indicator, highest first (ties share a rank): rank,
    unit_code, unit_name, value, numerator, denominator, vs_so (value − the Sở's value)."""
    return con.execute(
        _sql("ranking"),
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
    row = con.execute(_sql("indicator_name"), [indicator_id]).fetchone()
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


def strip_outputs(path: Path | str) -> bool:
    """Clear the outputs, execution counts, execution times and language version of a notebook in
    place (committed .ipynb carry none); True if it changed. `python -m pipelines.analysis notebooks/*.ipynb`."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
        if cell.metadata.pop("execution", None) is not None:  # nbclient's time stamps
            changed = True
    if nb.metadata.pop("language_info", None) is not None:  # the executing Python's version
        changed = True
    if changed:
        nbformat.write(nb, str(path))
    return changed


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        if strip_outputs(name):
            print(f"đã xoá kết quả / outputs cleared: {name}")
