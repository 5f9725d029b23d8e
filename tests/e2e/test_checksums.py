"""Speed work must not move a figure: the cells, indicators, problems, every form workbook's values and
a release of the session's generated province hash to the digests recorded before issue 17's rewrites of
ingest, validation, aggregation and export (main 4f92905, whose figures earlier issues checked by
hand and against the reference forms). A change that alters a number fails here; a change meant to
alter one must say why when it records new digests (EDUSTAT_PRINT_DIGESTS=1 prints them)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from pipelines.analyst import releases
from tests.conftest import copy_warehouse

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


# Release tables that describe the act of releasing (when, which code) rather than the period's data.
RELEASE_ONLY = {"release", "aggregate_runs"}
RECORDED_RELEASE = {
    "catalog_columns": "57bdf34689be85e97dd541133cb58486645c9b9f170db209aab7830c44dac699",
    "catalog_fields": "6f611fe61147f067cc02a19800c6f12d9fe79f9728db7bd069ef51feb4fa2395",
    "catalog_forms": "cca12f5123b9bb189e50e278be5e93e25065b44245ed638fcefb88d7529470be",
    "catalog_rows": "0ffd72a6501a4b802d27a739e58eecc3a5ec9a60892f0fec3f82883eb5a1a6e6",
    "cells": "2bd02367f067793c3e890659503344d1bd6b1e543685797f7ab7656028aa21f1",
    "data_dictionary": "da926078a287de2024821f8fd359050baf914e5ef523da4a3ba210e04cbc04ba",
    "file_log": "458185fae025fec98d246639982872a55c87cfb110db11656aad71a02efd941c",
    "files": "4b2df8a026886dfad12d49dc02616906e50b6855c65640db7e2db2108660e81c",
    "form_cells": "1063e72a8c5896f7987aa57023dc6e9903db741abf6d13bf54cc8e3899756f42",
    "indicator_values": "402af15fc3fe08c42d43b8ae3fbc497fd403f4865d8d4cf23a3d8e31862741cd",
    "indicators": "2fd1f706b5d4e8445d15f49219ee537a960b85337ff920c53c286deabda946d5",
    "input_ledger": "f2836403730454be389c7ec7e70764f4ca4a682113dc7e5b5c53362e08009977",
    "learner": "70cd0733404c01553f583b930db90866b33a23a5a476e65d2e8e0e9e3484e972",
    "learner_counts": "b850f5f862b9119299518e14005e0a90d2013a13accaea4c4d763d730d77bdb1",
    "learner_cube": "f2eb71a6291dc3d9c51ae98f26f600c52e60a5ffe929970065102878e33846f4",
    "learners": "abe3eb1a0632c54e42a3930a90e6940ce9e6bc7a820831bfc34566283ebea70e",
    "ledger": "f2836403730454be389c7ec7e70764f4ca4a682113dc7e5b5c53362e08009977",
    "school": "1cc17f5fd02d644d0e0c36c645e8c37c77029da0d279626f2b854a497be80123",
    "school_placement": "948849614a772383cfafa08b18ee3539c3009cc24949c03573bf852736b01643",
    "schools": "b0739cf0d910418bec15fbf960c37f4344b19d5bf9164733d2fa43f07f5b18b2",
    "staff": "fae5b38468fd5f79aa1a82ebb71239ac56c93cfd1cd36433927544fb63f05b04",
    "staff_members": "c6a9c78ba976bc77488df8972c15af7d9bfd4b859f72ad1a7bb12732aedf065f",
    "submission_log": "97e4e8c8fc4953a1367a2dc708f6b5bff0ddc7b1a6e6e5276ca0dd7bc205ae0d",
    "submissions": "399f1dec505cbaf9bbbd06bcb10507d0ec94f997884514aeadcbf73dcadce727",
    "unit_hierarchy": "a8dfd9f17bffd62687b6bdfaa9deec55ad808788a3a8399b8ae8d0a8829033eb",
    "unit_names": "03089e66a49948778f3fab2b62dd79128ba09361c1ae1bd783bedd443b3ab55c",
    "unit_tree": "a8dfd9f17bffd62687b6bdfaa9deec55ad808788a3a8399b8ae8d0a8829033eb",
    "units": "e641c4b220fa355e236a5b1efba54c553b4f383c6c21bc78b292a69cacab7817",
    "validation_problems": "969c9c38b4fcafa170b9cd2570a18efc9df6d76e1f2377ccbb2a5251a144b2f5",
    "validation_results": "4e4720e4a58a34de32e8ffc116839721b716a87e3fd3afa909eba60036fa3d70",
    "validation_summary": "7a865f35e5521326f99026ebd5a908e9332989623bcb235be99e71d9477ff6b9",
    "workflow_state": "39db6e353e0d1f31087e2322ccffa92326138c2118706f523e4b36ba58297cb4",
}


def _release_digests(release: Path) -> dict[str, str]:
    """Each table and view of a release: its rows in order, without the columns that hold a time of
    day (when a file was ingested, a problem checked: they differ between two runs of the same data)."""
    found = {}
    with releases.connect(release / releases.RELEASE_DB) as con:
        names = con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()
        for (name,) in names:
            if name in RELEASE_ONLY:
                continue
            columns = [c for c, t in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position", [name]).fetchall() if not t.startswith("TIMESTAMP")]  # fmt: skip
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT {listed} FROM "{name}" ORDER BY ALL').fetchall()
            found[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return found


@pytest.mark.slow  # the session's generated province, run end to end
def test_the_provinces_figures_are_those_recorded_before_the_speed_work(shared_province):
    _, s, _ = shared_province
    found = {name: _file_digest(s.out / name) for name in ("cells.csv", "indicators.csv", "problems.csv")}
    found["forms/*.xlsx values"] = _workbook_values_digest(s.out / "forms")
    if os.environ.get("EDUSTAT_PRINT_DIGESTS"):
        print(found)
    assert found == RECORDED


@pytest.mark.slow  # the session's generated province, run end to end, then released
def test_a_release_of_the_province_holds_the_rows_recorded_before_the_speed_work(shared_province, tmp_path):
    _, s, _ = shared_province
    wh = copy_warehouse(s.warehouse, tmp_path / "copy")
    release = releases.create_release(s.school_year, s.period, wh, name="checksum", releases=tmp_path / "rel")
    found = _release_digests(release)
    if os.environ.get("EDUSTAT_PRINT_DIGESTS"):
        print(found)
    assert found == RECORDED_RELEASE
