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
from collections.abc import Sequence
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


def write_changed_workbooks(
    con: duckdb.DuckDBPyConnection, jobs: Sequence[WorkbookJob], folder: Path, processes: int = 2
) -> int:
    """Write the jobs whose workbook is missing or was made from other inputs (by job_digest, kept in
    the warehouse's change store under the folder); return how many were written."""
    if not jobs:
        return 0
    code = warehouse.code_digest()
    index = warehouse.output_digests(con, folder)
    digests = {job.path.relative_to(folder).as_posix(): job_digest(job, code) for job in jobs}
    todo = [(rel, job) for rel, job in zip(digests, jobs, strict=True)
            if index.get(rel) != digests[rel] or not job.path.exists()]  # fmt: skip
    # Forget the digests of the workbooks about to be rewritten first: a run killed half-way must
    # not leave a new workbook under an old digest.
    warehouse.forget_outputs(con, folder, [rel for rel, _ in todo])
    folder.mkdir(parents=True, exist_ok=True)
    workbook.write_workbooks([job for _, job in todo], processes)
    warehouse.save_output_digests(con, folder, {rel: digests[rel] for rel, _ in todo})
    return len(todo)
