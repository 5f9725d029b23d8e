"""Helpers of the synthetic generator's tests: a small generated province and the contract check of
its files; last year's end of year derived from a generated province and run through the pipeline
(one per session: ladders, previous year and previous start share it)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipelines import catalog
from pipelines import run as pipeline
from pipelines import settings as settings_mod
from pipelines.synthetic.plan import District, SchoolPlan
from pipelines.synthetic.previous_year import generate_previous_year
from pipelines.synthetic.province import generate_province

# ---------------------------------------------------------------- this year's province

START_YEAR = 2024
LISTS = {  # entity -> JSON path
    "site": "LstDiemTruongInfo",
    "class": "LstLopHocInfo",
    "learner": "LstHocSinh",
    "staff": "LstCanBo",
    "rooms": "CoSoVatChat",
}
FLAGS = (0, 1, "0", "1")  # True/False equal 1/0


def gen(out: Path, n: int = 8, seed: int = 1, defect_rate: float = 0.0):
    return generate_province("66", "2024-2025", "DN", n, seed, out, defect_rate=defect_rate)


def plan_of(kind: str, *, private: bool = False, mountain: bool = False, category: str = "07",
            loai_hinh: str = "") -> SchoolPlan:  # fmt: skip
    """A school of a kind in a made-up district 643 of province 66 (one minority group, 03)."""
    district = District("643", "643", "Huyện Thử", mountain, 0.5 if mountain else 0.0, ("03",), (1.0,),
                        (("2461301", "Xã Một"),))  # fmt: skip
    return SchoolPlan("66643001", district, kind, private, category, loai_hinh)


def norm(value: Any, width: int) -> str:
    """A code as the pipeline normalises it: 1, "1", "1.0" -> "01" for a two-digit list."""
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        text = str(int(float(text)))
        return text.zfill(width) if width else text
    return text


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            dt.datetime.strptime(value, fmt)
            return True
        except ValueError:
            pass
    return False


def _value_ok(f: catalog.Field, value: Any) -> bool:
    if f.type == "code":
        cl = catalog.codelist(f.codelist)
        return norm(value, cl.width) in cl.codes
    if f.type == "code_list":
        cl = catalog.codelist(f.codelist)
        return isinstance(value, list) and all(norm(v, cl.width) in cl.codes for v in value)
    if f.type == "subject_list":
        codes = catalog.codelist("subject").codes
        return isinstance(value, list) and all(s["MaMonHoc"] in codes for s in value)
    if f.type == "flag":
        return value in FLAGS
    if f.type == "date":
        return _valid_date(value)
    if f.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if f.type == "number":
        return isinstance(value, int | float)
    return isinstance(value, str) and (f.max_length is None or len(value) <= f.max_length)


def problems(payload: dict[str, Any]) -> set[tuple[str, str | int | None, str]]:
    """(entity, record index, field) of every contract violation in one school payload."""
    found: set[tuple[str, str | int | None, str]] = set()
    info = payload["TruongHocInfo"]
    for f in catalog.source("school").fields:
        if f.name not in info:
            if f.required:
                found.add(("school", None, f.name))
        elif not _value_ok(f, info[f.name]):
            found.add(("school", None, f.name))
    for entity, key in LISTS.items():
        for i, rec in enumerate(payload[key]):
            for f in catalog.source(entity).fields:
                if f.name not in rec:
                    if f.required:
                        found.add((entity, i, f.name))
                elif not _value_ok(f, rec[f.name]):
                    found.add((entity, i, f.name))
    class_codes = {c["MaLopHoc"] for c in payload["LstLopHocInfo"]}
    seen: set[str] = set()
    for i, p in enumerate(payload["LstHocSinh"]):
        if p["MaLopHocDn"] not in class_codes:
            found.add(("learner", i, "MaLopHocDn"))
        if p["ClientId"] in seen:
            found.add(("learner", i, "ClientId"))
        seen.add(p["ClientId"])
    for entity, key, fields in (
        ("class", "LstLopHocInfo", ("MaLopHoc",)),
        ("staff", "LstCanBo", ("MaCanBo",)),
        ("rooms", "CoSoVatChat", ("MaLoaiPhong", "LoaiCongTrinh", "KhoiHoc")),
    ):
        keys = Counter(tuple(r.get(f) for f in fields) for r in payload[key])
        if max(keys.values(), default=0) > 1:
            found.add((entity, "duplicate", fields[0]))
    return found


def read_payloads(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "inbox").iterdir())]


# ---------------------------------------------------------------- last year's end of year


START, END = dt.date(2023, 9, 30), dt.date(2024, 5, 31)  # last year's start and as-of dates
SEMESTER_2 = dt.date(2024, 1, 16)
BANDS = ("01", "02", "03", "04", "05", "06")
GDTX = {"13", "14", "15", "18", "19", "23"}


def load(folder):
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "inbox").glob("*.json"))
    }


def two_digits(value):
    return None if value is None else f"{int(float(value)):02d}"


def date_of(value):
    return dt.date.fromisoformat(str(value)[:10])


def kind_of(payload):
    codes = {two_digits(p["KhoiHoc"]) for p in payload["LstHocSinh"]}
    if codes <= {"16", "17"}:
        return "MN"
    return "GDTX" if codes <= GDTX else "general"


def pairs(folder):
    """(this year's DN payload, last year's CN payload, kind) per school."""
    now, before = load(folder / "DN"), load(folder / "PY")
    return [(p, before[name.replace("_2024_1.json", "_2023_2.json")], kind_of(p)) for name, p in now.items()]


def truthy(value):
    return str(value) in ("1", "True", "true")


@pytest.fixture(scope="session")
def previous(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("previous_year")
    generate_province("66", "2024-2025", "DN", 25, 5, tmp_path / "DN", 0.0)
    summary = generate_previous_year(tmp_path / "DN", tmp_path / "PY", seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2023-2024", "CN", tmp_path / "PY" / "registry.xlsx", tmp_path / "PY" / "inbox",
                                 tmp_path / "warehouse.duckdb", tmp_path / "out", run_id="test-run",
                                 processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return tmp_path, summary, s
