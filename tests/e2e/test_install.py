"""The wheel installs into a clean venv and `edustat demo` and `edustat national` run outside the checkout.

A user's path: build the wheel (`uv build`), install it into a fresh venv with the locked versions
(`uv export` as constraints), then run `edustat paths` and `edustat demo` from a folder that is
not the checkout, with no PYTHONPATH: the catalogue must come from the package (pipelines/schemas)
and the runtime folder must be ./data of the working directory.

Needs uv (the Makefile's .tools/bin/uv, else one on PATH) and the package index or uv's cache.
The interpreter is this one (3.11 in `make test`); EDUSTAT_TEST_INSTALL_PYTHON names another
(e.g. 3.13, which uv fetches) to check a newer Python the lock supports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def _uv() -> str:
    # The checkout's tools venv, the one beside the venv running the tests (.venv and .tools of one
    # checkout), or one in the venv itself.
    tools = (PROJECT_ROOT / ".tools", Path(sys.prefix).parent / ".tools")
    for candidate in (*(t / "bin" / "uv" for t in tools), Path(sys.executable).with_name("uv")):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("uv")
    if not found:
        pytest.skip("uv not found (make setup installs it in .tools/)")
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user outside the checkout: no PYTHONPATH, no venv, no edustat settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("EDUSTAT_", "PREFECT_"))}  # fmt: skip
    return {**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **extra}


def test_the_wheel_installs_in_a_clean_venv_and_runs_the_demo_outside_the_checkout(tmp_path):
    uv = _uv()
    wheels = tmp_path / "dist"
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(wheels)], cwd=PROJECT_ROOT, check=True,
                   capture_output=True)  # fmt: skip
    (wheel,) = wheels.glob("edustat-*.whl")
    with zipfile.ZipFile(wheel) as built:
        names = set(built.namelist())
    # The catalogue and the SQL ship with the package; the flows are importable from it.
    assert {
        "pipelines/schemas/deadlines.yaml",
        "pipelines/flows.py",
        "pipelines/sql/warehouse/schema.sql",
    } <= names
    assert not any(n.startswith("schemas/") for n in names)  # under pipelines/, not a top-level folder

    python = os.environ.get("EDUSTAT_TEST_INSTALL_PYTHON", sys.executable)
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", python, str(venv)], check=True, capture_output=True)
    constraints = tmp_path / "constraints.txt"
    exported = subprocess.run([uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "-q"],
                              cwd=PROJECT_ROOT, check=True, capture_output=True, text=True)  # fmt: skip
    constraints.write_text(exported.stdout, encoding="utf-8")
    subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel), "-c",
                    str(constraints)], check=True, capture_output=True)  # fmt: skip

    elsewhere = tmp_path / "province"
    elsewhere.mkdir()
    env = _clean_env(EDUSTAT_PSEUDONYM_KEY="install-test-key")
    edustat = str(venv / "bin" / "edustat")
    paths = subprocess.run(
        [edustat, "paths"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert paths.returncode == 0, paths.stderr
    shown = dict(line.split()[:2] for line in paths.stdout.splitlines())
    assert shown["data"] == str(elsewhere / "data")  # ./data of the working directory, not the checkout's
    assert shown["releases"] == str(elsewhere / "data" / "releases")
    assert Path(shown["schemas"]).is_relative_to(venv)  # the package's catalogue
    demo = subprocess.run([edustat, "demo", "--processes", "1"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert (elsewhere / "data" / "demo" / "output" / "forms" / "so" / "66" / "02-TH-DN.xlsx").is_file()
    # A run outside the checkout imports nothing from it.
    assert str(PROJECT_ROOT) not in demo.stderr + demo.stdout

    # The national run needs only the package's flows (pipelines.flows), not the checkout's flows.py:
    # a three-school province through Prefect (a temporary server under its own PREFECT_HOME; its new
    # database's migrations took over Prefect's 90 s start-up limit on a loaded two-core machine).
    generated = subprocess.run([edustat, "generate", "--province", "68", "--school-year", "2024-2025", "--schools",
                                "3", "--out", str(elsewhere / "inputs" / "68")], cwd=elsewhere, env=env,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
    assert generated.returncode == 0, generated.stderr[-3000:]
    national = subprocess.run([edustat, "national", "--school-year", "2024-2025", "--inputs", "inputs", "--root",
                               "national"], cwd=elsewhere, env={**env, "PREFECT_HOME": str(tmp_path / "prefect"),
                                                                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600"},
                              capture_output=True, text=True, timeout=900)  # fmt: skip
    assert national.returncode == 0, national.stderr[-3000:]
    assert "schools_68: 3" in national.stdout.splitlines()
    assert (elsewhere / "national" / "national.duckdb").is_file()
    assert (elsewhere / "national" / "partitions" / "68.duckdb").is_file()
    assert str(PROJECT_ROOT) not in national.stderr + national.stdout
