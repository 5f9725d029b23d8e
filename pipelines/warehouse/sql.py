"""SQL as files: every statement lives under pipelines/sql/<stage>/<file>.sql, loaded by name, with
values bound as parameters (`?`, `$name`, or `getvariable('name')` in multi-statement scripts) and
never pasted in. Identifiers that must vary (a staging table, a form's scratch table) are the only
text filled in, through `ident`, which quotes them.

A file holds one statement (or script), or several named ones, each introduced by a line
`-- name: <name>` (the aiosql convention): `sql("ingest/units", "delete_membership")`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_SECTION = re.compile(r"^-- name: ([a-z0-9_]+)[ \t]*$", re.M)


def ident(name: str) -> str:
    """A quoted SQL identifier (a table or column name); refuses anything but a plain name."""
    if not _IDENT.fullmatch(name):
        raise ValueError(f"not an SQL identifier: {name!r}")
    return f'"{name}"'


@cache
def _sections(file: str) -> dict[str | None, str]:
    """A file's statements: {None: whole file} or {name: statement} for `-- name:` sections."""
    text = (SQL_DIR / f"{file}.sql").read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    if len(parts) == 1:
        return {None: text}
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def sql(file: str, name: str | None = None, **identifiers: str) -> str:
    """The statement `name` (or the whole file) of pipelines/sql/<file>.sql, its {placeholders}
    filled with quoted identifiers."""
    sections = _sections(file)
    if name not in sections:
        raise KeyError(
            f"pipelines/sql/{file}.sql has no statement {name!r} (has {sorted(map(str, sections))})"
        )
    text = sections[name]
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != set(identifiers):
        raise KeyError(
            f"{file}.sql {name or ''} takes identifiers {sorted(wanted)}, given {sorted(identifiers)}"
        )
    return _PLACEHOLDER.sub(lambda m: ident(identifiers[m.group(1)]), text)


def run_script(con: duckdb.DuckDBPyConnection, file: str, variables: Mapping[str, Any] | None = None,
               **identifiers: str) -> None:  # fmt: skip
    """Run a multi-statement script; its values are session variables (read with getvariable), set
    before and reset after, since a script of several statements takes no bound parameters."""
    variables = dict(variables or {})
    for key, value in variables.items():
        con.execute(f"SET VARIABLE {ident(key)} = ?", [value])
    try:
        con.execute(sql(file, **identifiers))
    finally:
        for key in variables:
            con.execute(f"RESET VARIABLE {ident(key)}")
