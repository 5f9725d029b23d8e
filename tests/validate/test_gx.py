"""GX's import: the parts edustat never runs deferred, and a background warm-up that a fork waits for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.validate import gx

ROOT = Path(__file__).resolve().parents[2]


def test_a_deferred_module_runs_only_when_first_used(tmp_path, monkeypatch):
    package = tmp_path / "heavy_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # The module's body records that it ran (an import that costs seconds, in the real case).
    (package / "statistics_part.py").write_text("import sys\nsys.heavy_pkg_ran = True\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delattr(sys, "heavy_pkg_ran", raising=False)
    try:
        gx.defer_unused(("heavy_pkg.statistics_part",))
        from heavy_pkg import statistics_part  # as GX writes `from scipy import stats`

        assert not hasattr(sys, "heavy_pkg_ran")
        assert statistics_part.VALUE == 42  # the first use runs the body, and the module is whole
        assert sys.heavy_pkg_ran is True
        gx.defer_unused(("heavy_pkg.statistics_part",))  # imported already: left as it is
        assert sys.modules["heavy_pkg.statistics_part"] is statistics_part
    finally:
        for name in ("heavy_pkg.statistics_part", "heavy_pkg"):
            sys.modules.pop(name, None)
        monkeypatch.delattr(sys, "heavy_pkg_ran", raising=False)


# In a fresh interpreter: GX imported in the background; a fork in the middle of that import waits
# for it (a child forked mid-import could hang on the module locks of a thread it does not have);
# the child imports GX at once; scipy.stats is bound but not run, and works when used.
WARM_UP = """
import os, sys, time
from pipelines.validate import gx
gx.warm_up()
time.sleep(gx._WarmUp.SETTLE + 0.3)
pid = os.fork()
if pid == 0:
    import great_expectations
    os._exit(0 if hasattr(great_expectations, "get_context") else 3)
deadline = time.monotonic() + 120
while not (done := os.waitpid(pid, os.WNOHANG))[0] and time.monotonic() < deadline:
    time.sleep(0.1)
pid_done, status = done
if not pid_done:  # still importing after two minutes: hung on a lock of the importing thread
    os.kill(pid, 9)
    sys.exit("the forked child hangs importing great_expectations")
assert os.waitstatus_to_exitcode(status) == 0, status
module = gx.import_gx()
assert module is sys.modules["great_expectations"]
assert type(sys.modules["scipy.stats"]).__name__ == "_LazyModule"
from scipy import stats
# Kullback-Leibler divergence: 0 between equal distributions; ln 2 for (1, 0) against (1/2, 1/2).
assert stats.entropy([0.5, 0.5], [0.5, 0.5]) == 0.0
assert abs(stats.entropy([1.0, 0.0], [0.5, 0.5]) - 0.6931471805599453) < 1e-12
print("ok")
"""


@pytest.mark.slow  # imports Great Expectations in a fresh interpreter
def test_gx_warms_up_in_the_background_and_a_fork_waits_for_it():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WARM_UP)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
    # No fork hook of a module imported during the wait ran unbalanced ("release unlocked lock").
    assert "Exception ignored" not in proc.stderr, proc.stderr[-3000:]


def test_the_warm_up_can_be_switched_off(monkeypatch):
    monkeypatch.setenv(gx.WARM_UP_ENV, "0")
    monkeypatch.setattr(gx, "_WARM_UP", None)
    gx.warm_up()
    assert gx._WARM_UP is None  # no thread, no fork hooks: GX is imported when validation starts
