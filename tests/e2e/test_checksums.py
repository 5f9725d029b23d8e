"""Speed work must not move a figure: the cells, indicators, problems and every form workbook's values
of the session's generated province hash to the digests recorded before issue 17's rewrites of
ingest, validation, aggregation and export (main 4f92905, whose figures earlier issues checked by
hand and against the reference forms). A change that alters a number fails here; a change meant to
alter one must say why when it records new digests (EDUSTAT_PRINT_DIGESTS=1 prints them)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

RECORDED = {
    "cells.csv": "95bc1d8c9a10b45efe124b48f83e45bb608ae08103b3b91b9c61764938458f15",
    "indicators.csv": "baf806c145aacc87ba8fa3c2b21be0a84bbccbeb52fa3b3057c0905780e1db98",
    "problems.csv": "9f538c31f918019fa793c179b2ec30ff3cfc39fce876398c8a1a328f38f01b0e",
    "forms/*.xlsx values": "5289233bea5a70a61657db27f55923f1cf76f2884f7e1676667dd5b47a07d667",
}


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _workbook_values_digest(folder: Path) -> str:
    """Every form workbook under folder, in path order: each sheet's name and every cell's value."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.xlsx")):
        digest.update(str(path.relative_to(folder)).encode())
        book = CalamineWorkbook.from_path(str(path))
        try:
            for name in book.sheet_names:
                digest.update(name.encode())
                for row in book.get_sheet_by_name(name).to_python():
                    digest.update(repr(row).encode())
        finally:
            book.close()
    return digest.hexdigest()


@pytest.mark.slow  # the session's generated province, run end to end
def test_the_provinces_figures_are_those_recorded_before_the_speed_work(shared_province):
    _, s, _ = shared_province
    found = {name: _file_digest(s.out / name) for name in ("cells.csv", "indicators.csv", "problems.csv")}
    found["forms/*.xlsx values"] = _workbook_values_digest(s.out / "forms")
    if os.environ.get("EDUSTAT_PRINT_DIGESTS"):
        print(found)
    assert found == RECORDED
