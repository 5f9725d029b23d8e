"""No personal data in clear in any file a run writes (issue 13, part 7).

A period is run end to end (outputs included) on two hand-made schools whose learners and staff
carry distinctive names and identity numbers. Then every file the run wrote is scanned for each of
them: the warehouse folder (the DuckDB file, its submission store), the outputs folder (workbooks
and other archives read member by member, decompressed) and the run's log. The warehouse is also
queried: no text column of any table holds one. Prefect artifacts are not written by `run_period`
(flows.py publishes the same summary text, which is scanned here as the log).
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pipelines import run as pipeline
from pipelines import settings, warehouse
from tests.conftest import klass, payload, pupil, school_info, staff_member, write_inbox, write_registry

SCHOOLS = ("66643001", "66643002")


def _people(code: str) -> tuple[list[dict], list[dict], list[str]]:
    learners, staff, secrets = [], [], []
    for i in range(4):
        name, sid, cid = (
            f"Nguyễn Thị Bí Mật {code[-1]}{i}",
            f"HSBIMAT{code[-2:]}{i:03d}",
            f"cid-kin-{code}-{i}",
        )
        learners.append(pupil(cid, "1A", 1, 2, "01", "2018-02-17", MaHocSinh=sid, HoTen=name))
        secrets += [name, sid, cid]
    for i in range(2):
        name, sid = f"Trần Văn Kín Đáo {code[-1]}{i}", f"CBKINDAO{code[-2:]}{i:03d}"
        staff.append(
            staff_member(f"s-kin-{code}-{i}", "1", "1", "1", "7", 1, "1980-05-05", MaCanBo=sid, TenCanBo=name)
        )
        secrets += [name, sid, f"s-kin-{code}-{i}"]
    return learners, staff, secrets


def _texts(path: Path):
    """(where, bytes) of a file, and of each member when it is an archive (xlsx, zip)."""
    raw = path.read_bytes()
    yield str(path), raw
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                yield f"{path}!{info.filename}", zf.read(info)


def _quoted(name: str) -> str:
    """Any table or column name as a quoted identifier (views name columns in Vietnamese)."""
    return '"' + name.replace('"', '""') + '"'


@pytest.mark.slow
def test_no_name_or_identity_number_in_any_file_the_run_wrote(tmp_path, monkeypatch):
    secrets: list[str] = []
    payloads = {}
    for code in SCHOOLS:
        learners, staff, found = _people(code)
        secrets += found
        payloads[f"{code}_2024_1.json"] = payload(code, school_info(code), [klass("1A", 1)], learners, staff)
    rows = [{"MA_TRUONG": c, "TEN_TRUONG_HOC": f"Trường {c}", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66",
             "ID_PHONG": "643"} for c in SCHOOLS]  # fmt: skip
    (tmp_path / "in").mkdir()
    registry = write_registry(tmp_path / "in" / "registry.xlsx", rows)
    inbox = write_inbox(tmp_path / "in" / "inbox", payloads)
    monkeypatch.setenv(settings.KEY_ENV, "test-key-not-secret")
    monkeypatch.setenv("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
    written = tmp_path / "written"
    s = settings.resolve("2024-2025", "DN", registry, inbox, written / "wh" / "warehouse.duckdb", written / "out",
                         run_id="pii-run", processes=1)  # fmt: skip
    log_file = written / "logs" / "run.log"
    log_file.parent.mkdir(parents=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        summary = pipeline.run_period(s)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
    (written / "logs" / "summary.txt").write_text(str(summary.fact("summary_text")), encoding="utf-8")
    # The run did read them: the store holds both files, the warehouse both schools' learners.
    assert len(list((written / "wh" / "submissions").glob("*.fernet"))) == 2
    files = [p for p in written.rglob("*") if p.is_file()]
    assert any(p.suffix == ".xlsx" for p in files) and log_file.stat().st_size > 0
    needles = [(x, x.encode("utf-8")) for x in secrets]
    leaks = [(where, x) for p in files for where, data in _texts(p) for x, b in needles if b in data]
    assert not leaks, leaks[:10]
    pattern = "|".join(re.escape(x) for x in secrets)
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT count(*) FROM stg_learner").fetchone()[0] == 8
        columns = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE data_type = 'VARCHAR' AND table_schema = 'main'").fetchall()  # fmt: skip
        for table, column in columns:
            n = con.execute(f"SELECT count(*) FROM {_quoted(table)} "  # noqa: S608 - identifiers quoted
                            f"WHERE regexp_matches({_quoted(column)}, ?)", [pattern]).fetchone()[0]  # fmt: skip
            assert n == 0, (table, column)
