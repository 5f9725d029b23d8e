"""No formula from an input in any file a run writes (issue 13, part 5; OWASP "CSV Injection").

A tiny province whose school files and registry carry text that a spreadsheet would run: school,
site and class names, a registry address and headmaster, an ethnicity code that fails validation,
a file name in the inbox, all starting with "=", "+", "-", "@" or a tab or carriage return before
one. The period is run as `edustat run` runs it (the CLI, no Prefect) and then released; then every
file written under the test's folder (outputs, error workbooks and lists, completeness.xlsx, tidy
CSVs, the release, the warehouse folder) is walked:

- a workbook cell is a formula only where it is one of a form's own totals: in a workbook under
  forms/, a sum of cell references; anywhere else, no formula at all; never one holding injected text;
- every injected text that lands in a workbook is a string cell;
- every CSV field that begins with a formula character is neutralised (a leading "'"), bar numbers.

`edustat query --out` (.xlsx and .csv) on a query returning `'=1+1' AS t` is held to the same.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest

from pipelines import cli, settings
from tests.conftest import klass, payload, pupil, school_info, write_inbox, write_registry

pytestmark = pytest.mark.slow

SCHOOL_A, SCHOOL_B, SCHOOL_MISSING, SCHOOL_CLOSED = "66643001", "66643002", "66643003", "66643004"
SCHOOL_LATE = "66643005"  # active, no file either
# Each injected text is distinct, so a text found in an output says which input it came from.
INJECTED = {
    "payload school name": '=HYPERLINK("http://x","y")',
    "registry school name": "+1+1",
    "class name": "-2+3",
    "site name": "@SUM(A1)",
    "registry name, tab first": "\t=2+5",
    "payload name, carriage return first": "\r@SUM(C9)",
    "registry name, carriage return first": "\r=3+4",
    "missing school's registry name": "@SUM(B2)",
    "closed school's registry name": "-7+8",
    "registry address": '=HYPERLINK("http://addr","z")',
    "registry headmaster": "+9+9",
    "ethnicity code (fails validation)": "=4+4",
    "class name of a second class": "@AVERAGE(C3)",
}
FILE_NAME = "=1+1.json"  # an entry of the inbox that is not a school's file
# A form's own totals: SUM of ranges or cell references added, nothing else.
REF = r"\$?[A-Z]{1,3}\$?[0-9]+(:\$?[A-Z]{1,3}\$?[0-9]+)?"
TOTAL = re.compile(rf"^(SUM\({REF}(,{REF})*\)|{REF})([+-](SUM\({REF}(,{REF})*\)|{REF}))*$")


def _inputs(folder: Path) -> tuple[Path, Path]:
    t = INJECTED
    info_a = school_info(SCHOOL_A, TenTruongHoc=t["payload school name"])
    classes_a = [
        klass("1A", 1) | {"TenLopHoc": t["class name"]},
        klass("2A", 2) | {"TenLopHoc": t["class name of a second class"]},
    ]
    learners_a = [pupil("a1", "1A", 1, 1, "01", "2018-03-01"), pupil("a2", "1A", 1, 2, "01", "2018-04-01"),
                  pupil("a3", "2A", 2, 1, t["ethnicity code (fails validation)"], "2017-05-01")]  # fmt: skip
    sites_a = [{"MaDiemTruong": "DT1", "TenDiemTruong": t["site name"]}]
    info_b = school_info(SCHOOL_B, TenTruongHoc=t["payload name, carriage return first"])
    learners_b = [pupil("b1", "1A", 1, 2, "01", "2018-06-01")]
    payloads = {
        f"{SCHOOL_A}_2024_1.json": payload(SCHOOL_A, info_a, classes_a, learners_a, sites=sites_a),
        f"{SCHOOL_B}_2024_1.json": payload(SCHOOL_B, info_b, [klass("1A", 1)], learners_b),
        FILE_NAME: "=1+1",
    }
    base = {"CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66", "ID_PHONG": "643"}
    rows = [
        base | {"MA_TRUONG": SCHOOL_A, "TEN_TRUONG_HOC": t["registry school name"], "DIA_CHI": t["registry address"],
                "TEN_HIEU_TRUONG": t["registry headmaster"]},
        base | {"MA_TRUONG": SCHOOL_B, "TEN_TRUONG_HOC": t["registry name, tab first"]},
        base | {"MA_TRUONG": SCHOOL_MISSING, "TEN_TRUONG_HOC": t["missing school's registry name"]},
        base | {"MA_TRUONG": SCHOOL_LATE, "TEN_TRUONG_HOC": t["registry name, carriage return first"]},
        base | {"MA_TRUONG": SCHOOL_CLOSED, "TEN_TRUONG_HOC": t["closed school's registry name"], "TRANG_THAI": 0},
    ]  # fmt: skip
    folder.mkdir(parents=True)
    return write_registry(folder / "registry.xlsx", rows), write_inbox(folder / "inbox", payloads)


def _bare(text: str) -> str:
    """The injected text as a reader might find it once stripped of leading white space."""
    return text.lstrip("\t\r ")


def _core(text: str) -> str:
    """What is left of an injected text inside a formula a writer made of it ("+1+1" → "1+1")."""
    return text.lstrip("\t\r =+-@")


def _workbook_problems(path: Path, is_form: bool) -> tuple[list[str], set[str]]:
    """(what is wrong in one workbook, the injected texts found in it)."""
    wrong, found = [], set()
    wb = openpyxl.load_workbook(path)  # not read-only: data_type tells a formula from a string
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is None:
                    continue
                where = f"{path.name}!{ws.title}!{c.coordinate}"
                value = str(c.value)
                hits = {x for x in INJECTED.values() if _bare(x) in value} | ({FILE_NAME} & {value})
                if c.data_type == "f":
                    formula = value.lstrip("=")
                    if hits or any(_core(x) in formula for x in [*INJECTED.values(), FILE_NAME]):
                        wrong.append(f"{where}: formula from an input {value!r}")
                    elif not is_form:
                        wrong.append(f"{where}: formula in a workbook without totals {value!r}")
                    elif not TOTAL.match(formula.replace(" ", "")):
                        wrong.append(f"{where}: formula that is not a total {value!r}")
                elif hits:
                    found |= hits
                    if c.data_type != "s":
                        wrong.append(f"{where}: injected text in a {c.data_type!r} cell")
    wb.close()
    return wrong, found


def _csv_problems(path: Path) -> tuple[list[str], set[str]]:
    wrong, found = [], set()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            for field in row:
                if settings.neutralise(field) != field:
                    wrong.append(f"{path.name} line {i}: field {field!r} not neutralised")
                found |= {x for x in INJECTED.values() if _bare(x) in field} | (
                    {FILE_NAME} & {field.lstrip("'")}
                )
    return wrong, found


def _scan(root: Path) -> tuple[list[str], set[str], dict[str, int]]:
    wrong, found, kinds = [], set(), {"xlsx": 0, "csv": 0}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            w, f = _workbook_problems(path, is_form="forms" in path.relative_to(root).parts)
        elif suffix == ".csv":
            w, f = _csv_problems(path)
        else:
            continue
        kinds[suffix[1:]] += 1
        wrong += [f"{path.relative_to(root)}: {x}" for x in w]
        found |= f
    return wrong, found, kinds


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    root = tmp_path_factory.mktemp("formula")
    registry, inbox = _inputs(root / "in")
    written = root / "written"
    mp = pytest.MonkeyPatch()
    mp.setenv(settings.KEY_ENV, "formula-test-key")
    code = cli.main(["run", "--school-year", "2024-2025", "--period", "DN", "--registry", str(registry),
                     "--inbox", str(inbox), "--warehouse", str(written / "wh" / "warehouse.duckdb"),
                     "--out", str(written / "out"), "--processes", "1", "--fail-above", "1"])  # fmt: skip
    released = cli.main(["release", "--school-year", "2024-2025", "--period", "DN", "--warehouse",
                         str(written / "wh" / "warehouse.duckdb"), "--releases", str(written / "releases")])  # fmt: skip
    mp.undo()
    return written, code, released


def test_the_run_reads_the_hostile_province(province):
    written, code, released = province
    assert (code, released) == (0, 0)
    assert (written / "out" / "completeness.xlsx").exists()


def test_no_workbook_runs_an_input_and_every_csv_field_is_neutralised(province):
    written, _, _ = province
    wrong, found, kinds = _scan(written)
    assert not wrong, "\n".join(wrong[:30])
    assert kinds["xlsx"] >= 3 and kinds["csv"] >= 3, kinds
    # The scan did meet the hostile texts: completeness and the error summaries name the schools as
    # the registry does (the tab variant too), the error list quotes the failing value and the
    # rejected file's name.
    t = INJECTED
    assert found >= {t["registry school name"], t["registry name, tab first"], t["missing school's registry name"],
                     t["registry name, carriage return first"],
                     t["ethnicity code (fails validation)"], FILE_NAME}, found  # fmt: skip


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_query_result_that_looks_like_a_formula_is_written_as_text(province, tmp_path, suffix):
    written, _, _ = province
    out = tmp_path / f"x{suffix}"
    code = cli.main(["query", "SELECT '=1+1' AS t, '@SUM(A1)' AS \"=u\", -5 AS n, '-5' AS s",
                     "--warehouse", str(written / "wh" / "warehouse.duckdb"), "--out", str(out)])  # fmt: skip
    assert code == 0
    if suffix == ".xlsx":
        ws = openpyxl.load_workbook(out).active
        cells = [(c.data_type, c.value) for row in ws.iter_rows() for c in row]
        assert cells == [("s", "t"), ("s", "=u"), ("s", "n"), ("s", "s"),
                         ("s", "=1+1"), ("s", "@SUM(A1)"), ("n", -5), ("s", "-5")]  # fmt: skip
    else:
        with out.open(encoding="utf-8-sig", newline="") as fh:
            assert list(csv.reader(fh)) == [["t", "'=u", "n", "s"], ["'=1+1", "'@SUM(A1)", "-5", "-5"]]
