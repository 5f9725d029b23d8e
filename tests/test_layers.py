"""The folder tree is the architecture: every import points down the layers, siblings do not know
each other, no module borrows another's underscore names, no module grows past 600 lines, and
flows.py is Prefect wiring only. Read from the source (AST), so a new module is checked as soon as
it exists; there is no list of exceptions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pipelines"
# Bottom to top. A module may import its own package and any package of a lower layer; packages of
# one layer are siblings that must not import each other.
LAYERS = (
    ("settings", "progress", "processes"),
    ("catalog",),
    ("warehouse",),
    ("ingest", "validate", "aggregate"),
    ("window",),
    ("outputs", "analyst", "synthetic", "ops"),
    ("run",),
    ("flows",),  # pipelines/flows.py: Prefect wiring of run's steps (flows.py at the top re-exports it)
    ("cli",),
    ("__main__",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_LINES = 600


def _unit(module: str) -> str:
    """The layer unit of a module name: pipelines.aggregate.cells → aggregate."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import of a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.append((base, [a.name for a in node.names], node.lineno))
    return found


MODULES = _modules()


def test_every_package_of_pipelines_has_a_layer():
    units = {_unit(m) for m in MODULES if m != "pipelines"}
    assert units <= set(RANK), f"packages without a layer: {sorted(units - set(RANK))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    mine = _unit(module)
    wrong = []
    for target, names, line in _imports(MODULES[module], module):
        if not target.startswith("pipelines"):
            continue
        # `from pipelines import catalog` names a package; `from pipelines.x import y` a module.
        targets = [f"pipelines.{n}" for n in names] if target == "pipelines" else [target]
        for t in targets:
            theirs = _unit(t)
            if theirs in ("", mine):
                continue
            if RANK[theirs] >= RANK[mine]:
                wrong.append(f"line {line}: {module} ({mine}) imports {t} ({theirs})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_takes_another_modules_underscore_names(module):
    path = MODULES[module]
    borrowed = [f"line {line}: from {target} import {n}" for target, names, line in _imports(path, module)
                if target.startswith("pipelines") for n in names if n.startswith("_") and n != "__version__"]  # fmt: skip
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("pipelines") for a in node.names}  # fmt: skip
    borrowed += [f"line {node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                 and node.value.id in imported and node.attr.startswith("_") and not node.attr.startswith("__")]  # fmt: skip
    assert not borrowed, "\n".join(borrowed)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_600_lines(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines; split it along what it does"


@pytest.mark.parametrize("path", ["flows.py", "pipelines/flows.py"])
def test_flows_is_prefect_wiring_only(path):
    """flows.py (and pipelines/flows.py) hold tasks and flows that call the stage functions: no SQL,
    no warehouse access of their own, no server management (pipelines/ops)."""
    source = (ROOT / path).read_text(encoding="utf-8")
    tree = ast.parse(source)
    sql = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
           and any(word in node.value.upper() for word in ("SELECT ", "INSERT ", "CREATE TABLE", "COPY "))]  # fmt: skip
    assert not sql, f"SQL in flows.py at lines {sql}"
    calls = {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute)}  # fmt: skip
    assert not calls & {"execute", "Popen", "killpg"}, calls & {"execute", "Popen", "killpg"}
