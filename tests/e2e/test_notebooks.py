"""The analyst notebooks (notebooks/*.py, jupytext percent files paired with .ipynb) run against the
demo and say what its outputs say.

The demo (two school years, `cli.run_demo`) runs once into a temporary folder; each notebook is
executed there by nbclient with a kernel on this interpreter, and its printed key figure is checked
against the same figure worked out here from the run's CSV outputs with the csv module:

- 01: all primary pupils of the Sở = 02-TH-DN row 37 ("Tổng quy mô"), column T.all, level so;
- 02: the same cell this year minus last year (output-2023-2024/cells.csv);
- 03: schools whose first file arrived by the school deadline = completeness.csv, Sở row, on_time
  (a timeliness figure: the forms hold none);
- 04: the highest pupils per primary class among the Phòng = max over Phòng of row 37 T.all / row 27 T
  (classes), to two decimals;
- 05: the communes of province 66 on the 2025 map (communes_2025.csv) with no school teaching primary:
  a school's own cells of 02-TH-DN rows 1 (primary schools) and 135 (multi-level schools with
  primary classes), column T, summed by the commune each school goes to, worked out here from the
  registry (CAP_HOC of preschool, primary or THCS only; MA_XA_PHUONG, an old commune, through the
  reference crosswalk when it went whole into one new commune of the province).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import openpyxl
import pytest
from nbclient import NotebookClient
from PIL import Image

from pipelines import cli
from pipelines import settings as settings_mod

ROOT = Path(__file__).resolve().parent.parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01_enrolment", "02_indicators", "03_data_quality", "04_ranking", "05_communes")
CHARTS = {  # the PNGs each notebook saves, with their fixed size in pixels (inches × 100 dpi)
    "01_enrolment": {"01_enrolment_by_phong": (900, 500), "01_enrolment_by_grade_sex": (700, 400)},
    "02_indicators": {"02_indicator_change": (900, 800), "02_enrolment_rates": (800, 400)},
    "03_data_quality": {"03_submissions_per_day": (900, 450), "03_problems_by_rule": None},
    "04_ranking": {"04_ranking_2106.2": None},
    "05_communes": {"05_communes_primary_pupils_per_class": None},
}
KEY = re.compile(r"^Số liệu chính / key figure: .* = (-?[\d,.]+)$", re.MULTILINE)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks") / "demo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        assert cli.run_demo(folder, processes=2) == 0
    return folder


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory) -> Path:
    """A kernelspec `python3` on this interpreter: JUPYTER_PATH comes first, so no other python3
    kernel on the machine (a user's, another venv's) runs the notebooks."""
    path = tmp_path_factory.mktemp("jupyter")
    spec = path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (edustat tests)", "language": "python",
    }), encoding="utf-8")  # fmt: skip
    return path


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _cell(rows: list[dict[str, str]], form: str, level: str, row_code: int, col_key: str) -> dict[str, int]:
    """{unit_code: value} of one cell of a form at a level (absent = 0)."""
    out: dict[str, int] = {}
    for r in rows:
        if (r["form"], r["level"], r["row_code"], r["col_key"]) == (form, level, str(row_code), col_key):
            out[r["unit_code"]] = out.get(r["unit_code"], 0) + int(r["value"])
    return out


def _expected(name: str, demo: Path) -> str:
    """The key figure of a notebook, worked out from the run's outputs, as the notebook prints it."""
    now = _cells(demo / "output" / "cells.csv")
    if name == "01_enrolment":
        return f"{_cell(now, '02-TH-DN', 'so', 37, 'T.all')['66']:,}"
    if name == "02_indicators":
        before = _cells(demo / "output-2023-2024" / "cells.csv")
        change = (
            _cell(now, "02-TH-DN", "so", 37, "T.all")["66"]
            - _cell(before, "02-TH-DN", "so", 37, "T.all")["66"]
        )
        return f"{change:,}"
    if name == "03_data_quality":
        with (demo / "output" / "completeness.csv").open(encoding="utf-8-sig", newline="") as fh:
            so = next(r for r in csv.DictReader(fh) if r["level"] == "so")
        return f"{int(so['on_time']):,}"
    if name == "05_communes":
        schools = _cell(now, "02-TH-DN", "school", 1, "T")  # primary schools, counted here
        for code, n in _cell(now, "02-TH-DN", "school", 135, "T").items():  # multi-level, counted higher
            schools[code] = schools.get(code, 0) + n
        with_primary = {c for c, n in _by_commune(demo, schools).items() if n}
        with (ROOT / "schemas" / "hierarchy" / "communes_2025.csv").open(encoding="utf-8", newline="") as fh:
            communes = {r["code"] for r in csv.DictReader(fh) if r["province_code"] == "66"}
        return f"{len(communes - with_primary):,}"
    pupils, classes = _cell(now, "02-TH-DN", "phong", 37, "T.all"), _cell(now, "02-TH-DN", "phong", 27, "T")
    return f"{max(round(pupils[u] / classes[u], 2) for u in classes if classes[u]):,.2f}"


def _by_commune(demo: Path, by_school: dict[str, int]) -> dict[str, int]:
    """School figures summed by the school's commune on the 2025 map, from the demo's registry and the
    reference crosswalk (old communes that went whole into one new commune of province 66)."""
    with (ROOT / "schemas" / "hierarchy" / "commune_crosswalk_2025.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        news: dict[str, set[tuple[str, str]]] = {}
        for r in csv.DictReader(fh):
            news.setdefault(r["code"], set()).add((r["new_commune_code"], r["new_province_code"]))
    wb = openpyxl.load_workbook(demo / "registry.xlsx", read_only=True)  # read-only: open until closed
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    header = [str(h or "").replace("*", "").strip() for h in rows[3]]
    out: dict[str, int] = {}
    for row in rows[4:]:
        r = dict(zip(header, row, strict=False))
        code, levels, old = (
            str(r["MA_TRUONG"] or ""),
            set(str(r["CAP_HOC"] or "")),
            str(r["MA_XA_PHUONG"] or ""),
        )
        new = news.get(old, set())
        if (
            code in by_school
            and levels
            and levels <= set("1245")
            and len(new) == 1
            and next(iter(new))[1] == "66"
        ):
            commune = next(iter(new))[0]
            out[commune] = out.get(commune, 0) + by_school[code]
    return out


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )


@pytest.fixture(scope="session")
def executed(demo, jupyter_path, tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Every notebook executed once on the demo, all four kernels at a time (they mostly wait on
    imports and DuckDB, so two cores serve them), each from its .ipynb in a scratch directory."""
    cwd = tmp_path_factory.mktemp("cwd")
    notebooks = {name: nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4) for name in NAMES}

    async def run_all() -> None:
        clients = [
            NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
            for nb in notebooks.values()
        ]
        await asyncio.gather(*(c.async_execute() for c in clients))

    # The kernels inherit this environment: this checkout's code, the demo's warehouse, and the
    # charts beside the run's outputs (the notebooks' default).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(jupyter_path))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        mp.setenv("EDUSTAT_WAREHOUSE", str(demo / "warehouse.duckdb"))
        mp.delenv("EDUSTAT_CHARTS", raising=False)
        mp.delenv("EDUSTAT_SCHOOL_YEAR", raising=False)
        asyncio.run(run_all())
    return notebooks


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_the_demo_and_its_key_figure_is_the_runs(name, demo, executed):
    nb = executed[name]
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    figures = KEY.findall(_stdout(nb))
    assert figures == [_expected(name, demo)]
    for chart, size in CHARTS[name].items():
        path = demo / "output" / "charts" / f"{chart}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as image:
            image.verify()  # a whole, valid PNG
        with Image.open(path) as image:
            assert size is None or image.size == size
            assert "Software" not in image.info  # no stamp that changes with the library


@pytest.mark.parametrize("name", NAMES)
def test_notebook_text_and_ipynb_are_in_sync_and_the_ipynb_carries_no_outputs(name):
    text = jupytext.read(NOTEBOOKS / f"{name}.py", fmt="py:percent")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in text.cells]
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None and "execution" not in c.metadata
    assert "language_info" not in nb.metadata  # as `python -m pipelines.analysis` leaves it
    # The parameter cell that tools such as papermill override comes before any query.
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "EDUSTAT_WAREHOUSE" in params[0].source
