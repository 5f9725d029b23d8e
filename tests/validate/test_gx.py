"""GX's import: the parts edustat never runs deferred."""

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


# In a fresh interpreter: GX imported by edustat leaves scipy.stats bound but not run, and it works
# when used.
DEFERRED = """
import sys
from pipelines.validate import gx
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
def test_gx_is_imported_without_running_scipy_stats_which_still_works_when_used():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DEFERRED)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


@pytest.mark.slow  # imports Great Expectations
def test_data_docs_views_compile_each_template_once_and_render_it_alike(monkeypatch):
    gx.import_gx()
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaComponentView

    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    # Two views (each page of a site makes its own, each with its own jinja2 environment) and a
    # template neither has loaded: the first compiles it, the second runs the same code.
    first, second = DefaultJinjaComponentView(), DefaultJinjaComponentView()
    assert first.env is not second.env
    template = "markdown_text.j2"
    a = first.env.get_template(template)
    b = second.env.get_template(template)
    assert compiled.count(template) <= 1  # 0 when an earlier test of the process compiled it
    assert b is not a and b.root_render_func.__code__ is a.root_render_func.__code__
    content = {"content_block": {"text": ["Trường 79000001"]}}
    assert "Trường 79000001" in a.render(content) == b.render(content)
