"""Rewrite only what changed: each output file's input digest in the warehouse's change store
(pipelines/warehouse/changes.py, output_digests), so a re-run after one school resubmits rewrites
its own workbooks, its Phòng's and the Sở's, and the period's files whose inputs changed.

- a form workbook: the digest of its job (job_digest: cells, problems, indicators, names);
- a per-period file (cells.csv, SDMX, error lists, completeness …): the digest of what it is written
  from (`Output`): the code and schemas, the settings it prints, and an order-free checksum of the
  warehouse rows it selects (pipelines/sql/outputs/digests.sql).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.outputs import workbook
from pipelines.outputs.workbook import WorkbookJob


def job_digest(job: WorkbookJob, code: str) -> str:
    """sha256 of everything a workbook is made from: the code and schemas (`code`), the form, the
    unit, its cells, problems and indicators, and the forms printed in it with their cells. Equal
    digests mean equal workbook contents."""
    printed = tuple((f.regime, f.form, None if v is None else sorted(v.items())) for f, v in job.printed)
    inputs = (job.form.regime, job.form.form, job.header, sorted(job.values.items()), job.errors,
              job.start_year, job.indicators, printed)  # fmt: skip
    return hashlib.sha256(f"{code}\0{inputs!r}".encode()).hexdigest()


def unit_digest(job: WorkbookJob, code: str, sums: Mapping[tuple[str, str, str], tuple[int, int]]) -> str:
    """job_digest with each form's cells at the unit given by their checksum (`sums`: (form, level,
    unit) → (count, checksum) of its non-zero cells, export.sql unit_checksums) instead of the cells:
    a job whose cells are not read yet."""
    at = (job.header.level, job.header.unit_code)
    printed = tuple((f.regime, f.form, sums.get((f.form, *at))) for f, _ in job.printed)
    inputs = (job.form.regime, job.form.form, job.header, sums.get((job.form.form, *at)), job.errors,
              job.start_year, job.indicators, printed)  # fmt: skip
    return hashlib.sha256(f"{code}\0{inputs!r}".encode()).hexdigest()


def write_changed_workbooks(
    con: duckdb.DuckDBPyConnection,
    jobs: Sequence[WorkbookJob],
    folder: Path,
    processes: int = 2,
    code: str | None = None,
    digests: Sequence[str] | None = None,
    load: Callable[[Sequence[WorkbookJob]], Sequence[WorkbookJob]] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> int:
    """Write the jobs whose workbook is missing or was made from other inputs (by job_digest, or the
    given `digests`, kept in the warehouse's change store under the folder); return how many were
    written. `load` gives the jobs to write their values (jobs made without reading their cells);
    `meanwhile` runs in this process while the pool writes (workbook.write_workbooks)."""
    if not jobs:
        return 0
    code = code or warehouse.code_digest()
    index = warehouse.output_digests(con, folder)
    rels = [job.path.relative_to(folder).as_posix() for job in jobs]
    by_path = dict(
        zip(rels, digests if digests is not None else [job_digest(j, code) for j in jobs], strict=True)
    )
    todo = [(rel, job) for rel, job in zip(rels, jobs, strict=True)
            if index.get(rel) != by_path[rel] or not job.path.exists()]  # fmt: skip
    # Forget the digests of the workbooks about to be rewritten first: a run killed half-way must
    # not leave a new workbook under an old digest.
    warehouse.forget_outputs(con, folder, [rel for rel, _ in todo])
    folder.mkdir(parents=True, exist_ok=True)
    todo_jobs = [job for _, job in todo]
    workbook.write_workbooks(
        load(todo_jobs) if load is not None else todo_jobs, processes, meanwhile=meanwhile
    )
    warehouse.save_output_digests(con, folder, {rel: by_path[rel] for rel, _ in todo})
    return len(todo)


def digest(*inputs: object) -> str:
    """sha256 of the inputs' repr (tuples, strings, numbers, frozen dataclasses: a stable repr)."""
    return hashlib.sha256(repr(inputs).encode()).hexdigest()


def rows_digest(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object]) -> tuple:
    """(rows, checksum) of a statement of pipelines/sql/outputs/digests.sql: equal for the same rows
    in any order."""
    count, total = con.execute(query, params).fetchall()[0]
    return (int(count), int(total))


class Outputs:
    """The files of a folder each written from inputs with a digest (output_digests): `fresh` says
    whether a file is still the one those inputs give; `written` records a rewritten one. A full
    run (`full`) forgets the folder's digests first, so every file is written again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folder: Path, full: bool = False) -> None:
        self.con, self.folder = con, folder
        if full:
            warehouse.forget_outputs(con, folder)
        self.index = warehouse.output_digests(con, folder)
        self.new: dict[str, str] = {}

    def fresh(self, name: str, inputs_digest: str, *paths: Path) -> bool:
        """Whether `name` (and every path written with it) exists and was written from these inputs;
        if not, its digest is forgotten before it is rewritten (a run killed half-way must not leave
        a new file under an old digest)."""
        if self.index.get(name) == inputs_digest and all(p.exists() for p in paths):
            return True
        if name in self.index:
            warehouse.forget_outputs(self.con, self.folder, [name])
            del self.index[name]
        return False

    def written(self, name: str, inputs_digest: str) -> None:
        """`name` was written from these inputs (recorded by `save`, in one statement)."""
        self.new[name] = self.index[name] = inputs_digest

    def save(self) -> None:
        if self.new:
            warehouse.save_output_digests(self.con, self.folder, self.new)
            self.new = {}
