"""Tiny hand-made inputs: a registry in the template layout and school payloads."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import settings as hypothesis_settings

from pipelines import run as pipeline
from pipelines import settings as settings_mod
from pipelines.ingest.registry import REGISTRY_COLUMNS
from pipelines.synthetic import province as generate
from pipelines.validate import check

# Before any Prefect import: no telemetry from test servers, and time for a slow first start.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# The submission store's key for the tests (a fixed test key, not a secret): without it the first
# ingest would create ~/.config/edustat/store.key in the tester's home (pipelines/ingest/store.py).
os.environ.setdefault("EDUSTAT_STORE_KEY", "ZWR1c3RhdC10ZXN0cy1zdG9yZS1rZXktMzItYnl0ZXM=")


def write_registry(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows in the school-import template layout (title row 2, headers row 4, data row 5)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A2"] = "TEMPLATE IMPORT TRƯỜNG HỌC"
    for i, name in enumerate(REGISTRY_COLUMNS, start=1):
        ws.cell(4, i, f"{name} *" if name in ("MA_TRUONG", "ID_SO") else name)
    for r, row in enumerate(rows, start=5):
        for i, name in enumerate(REGISTRY_COLUMNS, start=1):
            if name in row:
                ws.cell(r, i, row[name])
    wb.save(path)
    return path


def school_info(code: str, **overrides: Any) -> dict[str, Any]:
    """A valid public primary school record (TruongHocInfo) in a delta area."""
    info = {"MaTruongHoc": code, "TenTruongHoc": f"Trường Tiểu học {code}", "NamHoc": 2024,
            "MaNhomCapHoc": "06", "LoaiHinhDaoTao": 1, "MaVung": "02", "MaLoaiTruong": "07"}  # fmt: skip
    info.update(overrides)
    return info


def payload(code: str, info: dict[str, Any], classes: list, learners: list, staff: list | None = None,
            rooms: list | None = None, sites: list | None = None, year: int = 2024) -> dict[str, Any]:  # fmt: skip
    return {"MaTruongHoc": code, "NamHoc": year, "LoaiDongBo": 1, "TruongHocInfo": info,
            "LstDiemTruongInfo": sites or [], "LstLopHocInfo": classes, "LstHocSinh": learners,
            "LstCanBo": staff or [], "CoSoVatChat": rooms or []}  # fmt: skip


def klass(code: str, grade: int, sessions: int = 4, subjects: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"ClientId": f"c-{code}", "MaLopHoc": code, "TenLopHoc": code, "KhoiHoc": grade, "LopGhep": 0,
            "LopBanTru": 0, "BuoiHoc": sessions, "DsMonHoc": [{"MaMonHoc": s} for s in subjects]}  # fmt: skip


def pupil(pid: str, klass_code: str, grade: int, sex: int, ethnicity: str, born: str, status: int = 1,
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    record = {"ClientId": pid, "MaHocSinh": f"HS{pid}", "HoTen": f"Học Sinh {pid}", "MaDanToc": ethnicity,
              "GioiTinh": sex, "NgaySinh": born, "KhoiHoc": grade, "MaLopHocDn": klass_code,
              "TrangThai": status, "LoaiNhapHoc": 4}  # fmt: skip
    record.update(extra)
    return record


def staff_member(sid: str, group: str, position: str | None, contract: str, qualification: str, sex: int,
                 born: str, ethnicity: str = "01", **extra: Any) -> dict[str, Any]:  # fmt: skip
    record = {"ClientId": sid, "MaCanBo": f"CB{sid}", "TenCanBo": f"Cán Bộ {sid}", "LoaiCanBo": group,
              "ChucVu": position, "LoaiHopDong": contract, "TrinhDoChuyenMonNvCaoNhat": qualification,
              "GioiTinh": sex, "NgaySinh": born, "MaDanToc": ethnicity, "TrangThai": "01"}  # fmt: skip
    record.update(extra)
    return record


def write_inbox(folder: Path, payloads: dict[str, dict[str, Any] | str]) -> Path:
    """Write payloads by file name; a str is written as-is (to make broken files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in payloads.items():
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_through_aggregate(folder: Path, registry: Path, inbox: Path) -> settings_mod.Settings:
    """Run prepare, ingest, validate and aggregate into folder with a fixed pseudonymisation key."""

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2024-2025", "DN", registry, inbox, folder / "warehouse.duckdb", folder / "out",
                                 run_id="test-run", processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return s


def form_cells(s: settings_mod.Settings, form: str) -> tuple[dict[tuple, int], list[str]]:
    """A run's cells of one form as {(level, unit, row, column): value}, and the other forms the
    run has cells of (a test of one level checks that its schools fill no other form)."""
    from pipelines import warehouse

    with warehouse.connect(s.warehouse) as con:
        rows = con.execute(
            "SELECT level, unit_code, row_code, col_key, value FROM cells WHERE form = ?", [form]
        ).fetchall()
        others = [
            f
            for (f,) in con.execute(
                "SELECT DISTINCT form FROM cells WHERE form <> ? ORDER BY 1", [form]
            ).fetchall()
        ]
    return {(level, unit, row, col): value for level, unit, row, col, value in rows}, others


@pytest.hookimpl(trylast=True)
def error_list(path: Path) -> list[dict[str, str]]:
    """The rows of an error or summary CSV (UTF-8 with a BOM, headings "tiếng Việt (English)")."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def error_column(rows: list[dict[str, str]], vi: str) -> list[str]:
    """One column of such a CSV, found by the Vietnamese part of its heading."""
    key = next(k for k in rows[0] if k.startswith(f"{vi} ("))
    return [r[key] for r in rows]


def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process like the CLI does, without DuckDB's teardown leak report (see warehouse)."""
    from pipelines.warehouse import exit_skipping_teardown

    config.get_terminal_writer().flush()
    exit_skipping_teardown(getattr(config, "_edustat_exitstatus", 0))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._edustat_exitstatus = int(exitstatus)


# --- a real Prefect server for the tests that need one -------------------------------------------

_SERVER: dict[str, object] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def shared_server(tmp_path_factory: pytest.TempPathFactory):
    """One `prefect server start` for the whole session, whichever module asks first; the client
    settings of this process point at it while the fixture lives. Yields (api_url, env) where env
    is what a child process (worker, `edustat serve`) needs to reach it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipelines.ops.server import start_server, stop_process

    if not _SERVER:
        home = tmp_path_factory.mktemp("prefect-server")
        env = {"PREFECT_HOME": str(home / "home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}"}  # fmt: skip
        proc, api_url = start_server(port=free_port(), env=env, ui=False, log=home / "server.log")
        _SERVER.update(proc=proc, api_url=api_url, users=0, env={**env, "PREFECT_API_URL": api_url})
    _SERVER["users"] = int(_SERVER["users"]) + 1
    try:
        with temporary_settings(updates={PREFECT_API_URL: str(_SERVER["api_url"])}):
            yield str(_SERVER["api_url"]), dict(_SERVER["env"])
    finally:
        _SERVER["users"] = int(_SERVER["users"]) - 1
        if _SERVER["users"] == 0:
            stop_process(_SERVER["proc"])
            _SERVER.clear()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """(api_url, env) of the session's one `prefect server start` (15-25 s to start here), shared by
    tests/test_flows.py and tests/e2e/test_prefect_server.py."""
    with shared_server(tmp_path_factory) as api:
        yield api


# --- the quick loop: pytest -m "not slow" ---------------------------------------------------------

# A test that runs the pipeline is marked slow in its module. tests/synthetic/ is being restructured
# elsewhere: until its module marks them, its tests of the previous year's run (the fixture that
# runs the pipeline) are marked here.
SLOW_FIXTURES = {"tests/synthetic/test_end_of_year.py": "previous"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.get(item.nodeid.split("::", 1)[0]) in item.fixturenames:
            item.add_marker(pytest.mark.slow)


# --- how pytest-xdist spreads the suite ------------------------------------------------------------

# With --dist loadscope (pyproject.toml) each worker takes whole modules, so a module fixture is built
# in one worker only. Modules that share a session fixture go to one worker together, so it is built
# once: the Prefect server (prefect_api) and the generated province (shared_province).
XDIST_SCOPES = {
    "tests/test_flows.py": "prefect-server",
    "tests/e2e/test_prefect_server.py": "prefect-server",
    "tests/ops/test_notify.py": "prefect-server",
    "tests/test_run.py": "shared-province",
    "tests/outputs/test_sdmx.py": "shared-province",
    "tests/e2e/test_checksums.py": "shared-province",
}
# These start first, longest first (as measured on 2 cores): a long one handed out last would leave the
# other worker idle while it runs alone. The others follow, most tests first (xdist's order).
XDIST_FIRST = (
    "prefect-server",
    "tests/e2e/test_notebooks.py",
    "tests/e2e/test_rerun.py",
    "tests/e2e/test_boundaries.py",
    "tests/forms/test_end_of_year.py",
    "tests/test_cli.py",
    "tests/analyst/test_releases.py",
    "tests/window/test_approvals.py",
    "shared-province",
    "tests/aggregate/test_cells.py",
    "tests/synthetic/test_end_of_year.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """What -n auto (pyproject.toml) means here: a worker per core for the whole suite (`pytest`,
    `make test`), none when tests are picked (paths, -k, -m: the quick loop, one module), where
    starting workers costs more than it saves; PYTEST_XDIST_AUTO_NUM_WORKERS overrides."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    picked = config.args_source != pytest.Config.ArgsSource.TESTPATHS
    return 0 if picked or config.option.keyword or config.option.markexpr else (os.cpu_count() or 1)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return XDIST_SCOPES.get(module, module)

        def _assign_work_unit(self, node: Any) -> None:
            first = next((scope for scope in XDIST_FIRST if scope in self.workqueue), None)
            if first is not None:
                self.workqueue.move_to_end(first, last=False)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)


# --- GX Data Docs only where a test looks at them ----------------------------------------------------

_DATA_DOCS = {"on": False}


@pytest.fixture(scope="session", autouse=True)
def _data_docs_only_where_looked_at():
    """A run's validation step also builds GX's Data Docs (static HTML, a second or more a run); only
    the shared province's run (tests/test_run.py checks its pages) builds them, inside data_docs().
    Runs in a child process (`edustat serve`, Prefect workers, a killed run) still build theirs."""
    real = check.run_gx

    def run_gx(path: Path, rules: list, docs_dir: Path | None = None) -> dict[str, dict]:
        return real(path, rules, docs_dir if _DATA_DOCS["on"] else None)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(check, "run_gx", run_gx)
        yield


@contextlib.contextmanager
def data_docs():
    """Runs inside this build GX's Data Docs, as they do outside the tests."""
    _DATA_DOCS["on"] = True
    try:
        yield
    finally:
        _DATA_DOCS["on"] = False


# --- one generated province, run end to end once per session --------------------------------------

SHARED_KEY = "pipeline-test-key"
SHARED_SCHOOLS = 24  # a quarter of them with injected defects (defect_rate below)


@pytest.fixture(scope="session")
def shared_province(
    tmp_path_factory,
) -> tuple[generate.GenerateSummary, settings_mod.Settings, pipeline.RunSummary]:
    """(generated inputs, settings, run summary) of a generated province run end to end (outputs and
    Data Docs), read by tests/test_run.py and tests/outputs/test_sdmx.py. Read it only: a test that
    writes (a release, a lock file, another run) works on a copy (copy_warehouse)."""
    root = tmp_path_factory.mktemp("province")
    gen = generate.generate_province(
        "66", "2024-2025", "DN", SHARED_SCHOOLS, 11, root / "gen", defect_rate=0.25
    )
    with pytest.MonkeyPatch.context() as mp, data_docs():
        mp.setenv(settings_mod.KEY_ENV, SHARED_KEY)
        s = settings_mod.resolve("2024-2025", "DN", gen.registry, gen.inbox, root / "warehouse.duckdb",
                                 root / "out", run_id="province-run", processes=2)  # fmt: skip
        summary = pipeline.run_period(s)
    return gen, s, summary


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A copy of a warehouse file (and its write-ahead log, if any) in folder, under the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (source, source.with_name(source.name + ".wal")):
        if path.exists():
            shutil.copy2(path, folder / path.name)
    return folder / source.name


# --- hypothesis: the same examples on every run ----------------------------------------------------
# A property test that fails must fail again on the next run and in CI: examples are derived from
# the test, not drawn at random (a failure found is then pinned with @example beside the test).
hypothesis_settings.register_profile("edustat", derandomize=True, print_blob=True)
hypothesis_settings.load_profile("edustat")
