"""SQL lives in pipelines/sql/<stage>/*.sql, loaded by name (warehouse.sql), values bound: no module
writes SQL text of its own, and every statement a module names exists. Read from the source (AST), so
a new module is checked as soon as it exists.

Two checks on every module of pipelines/: no string constant or f-string passed to a call that runs
SQL (`.execute`, `.executemany`, `.sql`, `.query`, `warehouse.scalar`) reads as SQL, and no string
constant or f-string anywhere has the shape of an SQL statement (SQL kept in a variable first). The
modules that generate SQL are exempt: the form compiler, the rule compiler, the view compiler
(schemas/views.yaml), and the warehouse's loader (sql.py) and schema (schema.py, which generates the
staging tables from the catalogue).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

# The module (the package pipelines.warehouse exports its function sql under the same name).
sql_module = importlib.import_module("pipelines.warehouse.sql")

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = ROOT / "pipelines"
GENERATORS = {
    "pipelines/aggregate/compiler.py",  # a form's YAML → SQL (compile_form)
    "pipelines/validate/rules.py",  # a rule's YAML → SQL (the rule compiler)
    "pipelines/warehouse/sql.py",  # loads the files, sets and resets session variables
    "pipelines/warehouse/schema.py",  # applies the schema files; stg_<entity> and cl_<name> from the catalogue
    "pipelines/analyst/views.py",  # the contract views of schemas/views.yaml, each column cast to its type
    "pipelines/ingest/extract.py",  # the catalogue's fields → the normalising SELECT and staging of each entity
}
# Packages whose SQL is being moved into files in a branch of their own: their findings are listed
# (test_pending_packages_still_hold_sql) and do not fail the check. Empty it as each one lands.
PENDING: set[str] = set()

# A call whose first argument is SQL text: con.execute(…), con.sql(…), … ; warehouse.scalar(con, sql).
RUNS_SQL = {"execute": 0, "executemany": 0, "sql": 0, "query": 0, "scalar": 1}
# Text a statement starts with (what is passed to a call that runs SQL).
STARTS_AS_SQL = re.compile(
    r"^\s*(\(\s*)?(SELECT|INSERT|DELETE|UPDATE|CREATE|DROP|ALTER|WITH|COPY|ATTACH|DETACH|SET|RESET|PRAGMA"
    r"|BEGIN|COMMIT|ROLLBACK|CHECKPOINT|DESCRIBE|SUMMARIZE|FROM|INSTALL|LOAD|EXPORT|IMPORT|USE|CALL"
    r"|VACUUM|ANALYZE|EXPLAIN|UNPIVOT|PIVOT|TRUNCATE|MERGE)\b",
    re.I,
)
# The shape of a statement anywhere in a module (upper-case keywords, as the project writes SQL): a
# message or a docstring that names a table does not have it.
STATEMENT_SHAPE = re.compile(
    r"^\s*(\(\s*)?(SELECT\b[\s\S]*\bFROM\b|INSERT\s+INTO\b|DELETE\s+FROM\b|UPDATE\s+\S+\s+SET\b"
    r"|CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW|MACRO|SCHEMA|SEQUENCE|INDEX)\b"
    r"|DROP\s+(TABLE|VIEW|MACRO|SCHEMA|SEQUENCE|INDEX)\b|ALTER\s+TABLE\b|COPY\s*\(|ATTACH\s|DETACH\s"
    r"|WITH\s+\w+\s+AS\s*(MATERIALIZED\s*)?\(|SET\s+(GLOBAL\s+|SESSION\s+)?\w+\s*=|RESET\s+\w+)"
)
SECTION = re.compile(r"^-- name: ([a-z0-9_]+)[ \t]*$", re.M)
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _pending(rel: str) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in PENDING)


def _text(node: ast.AST) -> str | None:
    """The text of a string constant or f-string (its formatted parts as {}), of a concatenation of
    them, or of a `%` / `.format` applied to one; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        left, right = _text(node.left), _text(node.right)
        if isinstance(node.op, ast.Mod):
            return left
        return None if left is None and right is None else (left or "{}") + (right or "{}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _text(node.func.value)
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    """id() of every docstring node (a module's, a class's, a function's)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def sql_in_python(path: Path) -> list[str]:
    """Every place a module writes SQL text itself: 'path:line: text'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = _rel(path)
    found: dict[int, str] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name not in RUNS_SQL or len(node.args) <= RUNS_SQL[name]:
            continue
        arg = node.args[RUNS_SQL[name]]
        text = _text(arg)
        if text is not None and STARTS_AS_SQL.match(text):
            found[arg.lineno] = text
    skip = _docstrings(tree)
    inside_fstring = {
        id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values
    }
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inside_fstring:
            continue
        if isinstance(node, ast.Constant | ast.JoinedStr):
            text = _text(node)
            if text is not None and STATEMENT_SHAPE.match(text):
                found.setdefault(node.lineno, text)
    return [f"{rel}:{line}: {' '.join(text.split())[:100]}" for line, text in sorted(found.items())]


def _findings(pending: bool) -> list[str]:
    out = []
    for path in _modules():
        rel = _rel(path)
        if rel in GENERATORS or _pending(rel) != pending:
            continue
        out += sql_in_python(path)
    return out


def test_no_module_writes_sql_text_of_its_own():
    found = _findings(pending=False)
    assert not found, "SQL in Python (move it to pipelines/sql/<stage>/<file>.sql):\n" + "\n".join(found)


def test_pending_packages_still_hold_sql():
    """The packages of PENDING are listed here (pytest -rA shows it); a package with nothing left
    leaves PENDING."""
    for package in sorted(PENDING):
        found = [f for f in _findings(pending=True) if f.startswith(package + "/")]
        print(f"{package}: {len(found)} places", *found, sep="\n  ")
        assert found, f"{package} holds no SQL any more: take it out of PENDING"


# --- every statement named exists ----------------------------------------------------------------


def _sections(file: str) -> dict[str | None, str] | None:
    path = sql_module.SQL_DIR / f"{file}.sql"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    parts = SECTION.split(text)
    if len(parts) == 1:
        return {None: text}
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _loader_names(tree: ast.AST) -> tuple[set[str], dict[str, str]]:
    """(names bound to the warehouse package or its sql module, {local name: 'sql' | 'run_script'}
    for the loader functions imported by name)."""
    modules, functions = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("pipelines", "pipelines.warehouse"):
            for a in node.names:
                if node.module == "pipelines" and a.name == "warehouse":
                    modules.add(a.asname or a.name)
                elif node.module == "pipelines.warehouse" and a.name in ("sql", "run_script"):
                    functions[a.asname or a.name] = a.name
        if isinstance(node, ast.ImportFrom) and node.module == "pipelines.warehouse.sql":
            for a in node.names:
                if a.name in ("sql", "run_script"):
                    functions[a.asname or a.name] = a.name
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in ("pipelines.warehouse", "pipelines.warehouse.sql") and a.asname:
                    modules.add(a.asname)
    return modules, functions


def _wrappers(tree: ast.AST, modules: set[str], functions: dict[str, str]) -> dict[str, tuple[str, int]]:
    """{function: (file, place of its name argument)} of a module's helpers that load a statement of one
    file by a name they are given: `def f(con, name, …): … sql("<file>", name, …)`."""
    found = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        params = [a.arg for a in fn.args.args]
        for call in ast.walk(fn):
            if not (
                isinstance(call, ast.Call) and len(call.args) > 1 and isinstance(call.args[0], ast.Constant)
            ):
                continue
            f = call.func
            is_sql = (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules
                      and f.attr == "sql") or (isinstance(f, ast.Name) and functions.get(f.id) == "sql")  # fmt: skip
            name = call.args[1]
            if (
                is_sql
                and isinstance(call.args[0].value, str)
                and isinstance(name, ast.Name)
                and name.id in params
            ):
                found[fn.name] = (call.args[0].value, params.index(name.id))
    return found


def statements_named(path: Path) -> list[tuple[int, str, str | None, set[str]]]:
    """(line, file, name, identifiers given) of every warehouse.sql(file, name, **identifiers) call
    with literal arguments, and (line, file, None, identifiers) of every run_script(con, file, …)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, functions = _loader_names(tree)
    wrappers = _wrappers(tree, modules, functions)
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in modules:
            kind = f.attr if f.attr in ("sql", "run_script") else None
        elif isinstance(f, ast.Name) and f.id in wrappers:
            # A module's helper for its own file: _sql("name") or _counts(con, "name", …) names
            # sql("<file>", "name"); the identifiers are what the call passes by keyword.
            file, place = wrappers[f.id]
            if len(node.args) <= place:
                continue
            node = ast.Call(func=f, args=[ast.Constant(file), node.args[place]], keywords=node.keywords,
                            lineno=node.lineno)  # fmt: skip
            kind = "sql"
        elif isinstance(f, ast.Name):
            kind = functions.get(f.id)
        else:
            kind = None
        if kind is None:
            continue
        args = node.args if kind == "sql" else node.args[1:]
        file = args[0].value if args and isinstance(args[0], ast.Constant) else None
        if not isinstance(file, str):
            continue  # a file chosen at run time (the migrations)
        name = None
        if kind == "sql" and len(args) > 1:
            if not (isinstance(args[1], ast.Constant) and isinstance(args[1].value, str | type(None))):
                continue
            name = args[1].value
        for k in node.keywords:
            if k.arg == "name" and isinstance(k.value, ast.Constant):
                name = k.value.value
        given = {k.arg for k in node.keywords if k.arg not in (None, "name")}
        if kind == "run_script":  # run_script(con, file, variables, **identifiers)
            given -= {"variables"}
        calls.append((node.lineno, file, name, given))
    return calls


CALLS = [
    (f"{_rel(p)}:{line}", file, name, given)
    for p in _modules()
    for line, file, name, given in statements_named(p)
]


def test_the_loader_calls_are_found():
    """The scan sees the loader calls of the converted stages (so the next test checks something)."""
    files = {file.split("/")[0] for _, file, _, _ in CALLS}
    assert {"aggregate", "ingest", "validate", "warehouse", "window", "outputs", "analyst"} <= files


@pytest.mark.parametrize(("where", "file", "name", "given"), CALLS, ids=[c[0] for c in CALLS])
def test_every_statement_named_exists(where, file, name, given):
    sections = _sections(file)
    assert sections is not None, f"{where}: no file pipelines/sql/{file}.sql"
    assert name in sections, (
        f"{where}: pipelines/sql/{file}.sql has no statement {name!r} ({sorted(map(str, sections))})"
    )
    wanted = set(PLACEHOLDER.findall(sections[name]))
    assert given == wanted, (
        f"{where}: {file}.sql {name} takes identifiers {sorted(wanted)}, given {sorted(given)}"
    )


def test_every_file_statement_loads():
    """Every .sql file splits into statements that load (placeholders are plain names)."""
    for path in sorted(sql_module.SQL_DIR.rglob("*.sql")):
        file = path.relative_to(sql_module.SQL_DIR).with_suffix("").as_posix()
        for name, text in _sections(file).items():
            assert text.strip(), f"{file}.sql {name}: empty"
            wanted = PLACEHOLDER.findall(text)
            assert sql_module.sql(file, name, **{w: w for w in wanted})


def test_every_statement_is_used():
    """Every statement of the files is named by a module (a statement no code runs any more goes);
    the migrations are run by their folder (warehouse/schema.py)."""
    used = {(file, name) for _, file, name, _ in CALLS}
    unused = []
    for path in sorted(sql_module.SQL_DIR.rglob("*.sql")):
        file = path.relative_to(sql_module.SQL_DIR).with_suffix("").as_posix()
        if file.startswith("warehouse/migrations/"):
            continue
        unused += [
            f"{file}.sql {name or '(whole file)'}" for name in _sections(file) if (file, name) not in used
        ]
    assert not unused, "statements no module names:\n" + "\n".join(unused)
