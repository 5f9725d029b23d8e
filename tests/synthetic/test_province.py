"""The synthetic province generator: determinism, contract layout, valid codes, defects, realism."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pipelines import catalog
from pipelines.ingest.registry import REGISTRY_COLUMNS
from pipelines.synthetic.arrivals import spread_arrivals
from pipelines.synthetic.defects import DEFECT_KINDS
from pipelines.synthetic.province import generate_province
from pipelines.synthetic.registry import TITLE

START_YEAR = 2024
LISTS = {  # entity -> JSON path
    "site": "LstDiemTruongInfo",
    "class": "LstLopHocInfo",
    "learner": "LstHocSinh",
    "staff": "LstCanBo",
    "rooms": "CoSoVatChat",
}
FLAGS = (0, 1, "0", "1")  # True/False equal 1/0


def _gen(out: Path, n: int = 8, seed: int = 1, defect_rate: float = 0.0):
    return generate_province("66", "2024-2025", "DN", n, seed, out, defect_rate=defect_rate)


def _norm(value: Any, width: int) -> str:
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
        return _norm(value, cl.width) in cl.codes
    if f.type == "code_list":
        cl = catalog.codelist(f.codelist)
        return isinstance(value, list) and all(_norm(v, cl.width) in cl.codes for v in value)
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


def _problems(payload: dict[str, Any]) -> set[tuple[str, str | int | None, str]]:
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


def _payloads(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "inbox").iterdir())]


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _gen(a, 6, seed=7, defect_rate=0.3)
    _gen(b, 6, seed=7, defect_rate=0.3)
    _gen(c, 6, seed=8, defect_rate=0.3)
    files = sorted(p.name for p in (a / "inbox").iterdir())
    assert files == sorted(p.name for p in (b / "inbox").iterdir())
    for name in files:
        assert (a / "inbox" / name).read_bytes() == (b / "inbox" / name).read_bytes()
    assert (a / "defects.json").read_bytes() == (b / "defects.json").read_bytes()

    def cells(out: Path) -> list[tuple[Any, ...]]:
        return list(load_workbook(out / "registry.xlsx").worksheets[0].iter_rows(values_only=True))

    assert cells(a) == cells(b)
    other = sorted(p.name for p in (c / "inbox").iterdir())
    assert other != files or any(
        (a / "inbox" / n).read_bytes() != (c / "inbox" / n).read_bytes() for n in files
    )


def test_registry_layout_and_units(tmp_path: Path) -> None:
    summary = _gen(tmp_path, 12)
    ws = load_workbook(summary.registry).worksheets[0]
    assert ws["A2"].value == TITLE
    headers = [c.value for c in ws[4]]
    assert any(h.endswith(" *") for h in headers)
    names = [h.replace("*", "").strip() for h in headers]
    assert sorted(names) == sorted(REGISTRY_COLUMNS)
    rows = [dict(zip(names, r, strict=True)) for r in ws.iter_rows(min_row=5, values_only=True)]
    assert len(rows) == summary.n_schools + 1  # plus one test school
    tests = [r for r in rows if "TEST" in r["TEN_TRUONG_HOC"]]
    assert len(tests) == 1
    inbox_codes = {p["MaTruongHoc"] for p in _payloads(tmp_path)}
    assert len(inbox_codes) == summary.n_schools
    assert inbox_codes == {str(r["MA_TRUONG"]) for r in rows} - {tests[0]["MA_TRUONG"]}

    units = catalog.codelist("education_units_pre2025").rows
    sos = {u["code"] for u in units if not u["parent_code"]}
    phongs = {(u["code"], u["parent_code"]) for u in units if u["parent_code"]}
    districts = {r["code"]: r["province_code"] for r in catalog.codelist("districts_pre2025").rows}
    for r in rows:
        so = _norm(r["ID_SO"], 0)
        assert so in sos and so == str(int(r["MA_TINH_THANH"]))
        assert str(r["MA_TINH_THANH"]).zfill(2) == "66"
        assert districts[str(r["MA_QUAN_HUYEN"]).zfill(3)] == "66"
        if r["ID_PHONG"] is not None:
            assert (_norm(r["ID_PHONG"], 0), so) in phongs
        if _norm(r["CAP_HOC"], 0) in ("3", "6"):
            assert r["ID_PHONG"] is None  # THPT and GDTX centres: Sở-run
        assert r["TRANG_THAI"] == 1
        if r is not tests[0]:
            assert all(v not in (None, "") for k, v in r.items() if k != "ID_PHONG")


def test_codes_valid_and_required_present(tmp_path: Path) -> None:
    summary = _gen(tmp_path, 10, seed=3)
    assert json.loads(summary.defects.read_text(encoding="utf-8")) == []
    assert summary.n_defects == 0
    payloads = _payloads(tmp_path)
    for payload in payloads:
        assert payload["NamHoc"] == START_YEAR and payload["LoaiDongBo"] == 1
        assert _problems(payload) == set(), payload["MaTruongHoc"]
        info = payload["TruongHocInfo"]
        assert info["TongSoHocSinh"] == len(payload["LstHocSinh"])
        assert info["TongSoLopHoc"] == len(payload["LstLopHocInfo"])
        assert info["TongSoCanBo"] == len(payload["LstCanBo"])
        assert info["SoDiemTruong"] == len(payload["LstDiemTruongInfo"])
        assert re.fullmatch(r"66\d{3}\d{3}", payload["MaTruongHoc"])
        for p in payload["LstHocSinh"]:
            if _norm(p["TrangThai"], 2) in ("05", "09", "12"):
                assert "MaLyDoThoiHoc" in p
            if p["KhuyetTat"] in (1, "1", True):
                assert "MaLoaiKhuyetTat" in p
    assert summary.n_learners == sum(len(p["LstHocSinh"]) for p in payloads)
    # Representations vary, so normalisation is exercised.
    grades = {type(c["KhoiHoc"]).__name__ for p in payloads for c in p["LstLopHocInfo"]}
    assert len(grades) >= 2


def test_defects_listed_exactly(tmp_path: Path) -> None:
    summary = _gen(tmp_path, 30, seed=5, defect_rate=1.0)
    defects = json.loads(summary.defects.read_text(encoding="utf-8"))
    assert len(defects) == summary.n_defects == 30
    assert {d["kind"] for d in defects} == set(DEFECT_KINDS)
    by_file = {d["file"]: d for d in defects}
    for path in sorted(summary.inbox.iterdir()):
        d = by_file[path.name]
        text = path.read_text(encoding="utf-8")
        if d["kind"] == "malformed_file":
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            assert d["record_index"] is None
            continue
        payload = json.loads(text)
        assert payload["MaTruongHoc"] == d["school_code"]
        assert _problems(payload) == {(d["entity"], d["record_index"], d["field"])}, d


def test_no_defects_without_rate(tmp_path: Path) -> None:
    summary = _gen(tmp_path, 6, seed=5, defect_rate=0.0)
    assert summary.defects.read_text(encoding="utf-8").strip() == "[]"


def test_realism(tmp_path: Path) -> None:
    _gen(tmp_path, 10, seed=11)
    payloads = _payloads(tmp_path)
    pupils = [p for payload in payloads for p in payload["LstHocSinh"]]
    girls = sum(_norm(p["GioiTinh"], 2) == "02" for p in pupils) / len(pupils)
    assert 0.40 <= girls <= 0.60
    # Official ages of general-education grades 1-12 (preschool children are checked below).
    pupils = [p for p in pupils if int(_norm(p["KhoiHoc"], 2)) <= 12]
    on_age = sum(int(p["NgaySinh"][:4]) == START_YEAR - (int(_norm(p["KhoiHoc"], 2)) + 5) for p in pupils)
    assert on_age / len(pupils) > 0.85
    over_age = sum(int(p["NgaySinh"][:4]) < START_YEAR - (int(_norm(p["KhoiHoc"], 2)) + 5) for p in pupils)
    assert 0.02 < over_age / len(pupils) < 0.15
    for payload in payloads:
        sizes = Counter(p["MaLopHocDn"] for p in payload["LstHocSinh"])
        mountain = payload["TruongHocInfo"]["MaVung"] in ("04", "05", "06")
        for c in payload["LstLopHocInfo"]:
            n = sizes[c["MaLopHoc"]]
            if c["LopGhep"] in (1, "1", True):
                assert 4 <= n <= 12
            else:
                assert 8 <= n <= 40
        staff = payload["LstCanBo"]
        positions = Counter(s.get("ChucVu") for s in staff)
        assert positions["01"] == 1 and 1 <= positions["02"] <= 3
        teachers = sum(_norm(s["LoaiCanBo"], 2) == "03" for s in staff)
        assert teachers >= len(payload["LstLopHocInfo"]) or mountain
        classrooms = sum(r["SoLuong"] for r in payload["CoSoVatChat"] if r["MaLoaiPhong"] == "01")
        assert classrooms >= 1
    # The ethnic-minority share varies by district: some low, some high.
    shares = []
    for payload in payloads:
        lst = payload["LstHocSinh"]
        shares.append(sum(p["MaDanToc"] != "01" for p in lst) / len(lst))
    assert min(shares) < 0.05 and max(shares) > 0.2


def test_preschools(tmp_path: Path) -> None:
    """About 38 % of institutions are preschools, of every kind; children's ages fit their group."""
    _gen(tmp_path, 200, seed=4)
    payloads = _payloads(tmp_path)
    groups = Counter(p["TruongHocInfo"]["MaNhomCapHoc"] for p in payloads)
    preschools = [p for p in payloads if p["TruongHocInfo"]["MaNhomCapHoc"] in ("01", "02", "03", "04", "05")]
    assert 0.30 <= len(preschools) / len(payloads) <= 0.46
    assert groups["01"] > groups["02"] > 0 and groups["04"] + groups["05"] > 0
    assert {_norm(p["TruongHocInfo"]["LoaiHinhDaoTao"], 2) for p in preschools} == {"01", "03", "09"}
    bands = {"01": (3, 12), "02": (13, 24), "03": (25, 40)}  # some nursery children over 36 months
    for payload in preschools:
        classes = {c["MaLopHoc"]: c for c in payload["LstLopHocInfo"]}
        assert {int(_norm(c["KhoiHoc"], 2)) for c in classes.values()} <= {16, 17}
        for p in payload["LstHocSinh"]:
            c = classes[p["MaLopHocDn"]]
            year, month = int(p["NgaySinh"][:4]), int(p["NgaySinh"][5:7])
            months = 12 * (START_YEAR - year) + 9 - month
            if c["LopGhepDoTuoi"]:
                continue
            if c["MaNhomTuoiMn"] in bands:
                lo, hi = bands[c["MaNhomTuoiMn"]]
                assert lo <= months <= hi, (c["MaNhomTuoiMn"], p["NgaySinh"])
            else:  # kindergarten bands 04-06: 3, 4, 5 years by birth year (a few a year off)
                assert abs(START_YEAR - year - (int(c["MaNhomTuoiMn"]) - 1)) <= 1
        positions = Counter(s.get("ChucVu") for s in payload["LstCanBo"] if _norm(s["LoaiCanBo"], 2) == "02")
        assert set(positions) <= {"15", "16", "11", "25", "20", "21", "31", "17"}
        assert all(
            s.get("DayNhomLop") in ("01", "02")
            for s in payload["LstCanBo"]
            if _norm(s["LoaiCanBo"], 2) == "03"
        )


def test_gdtx_centres(tmp_path: Path) -> None:
    """About 1 % of institutions are GDTX centres: one provincial (12), the others district (13);
    Sở-run (CAP_HOC 6, no ID_PHONG); GDTX grades only, learners of wider ages, a Giám đốc each."""
    summary = _gen(tmp_path, 200, seed=4)
    payloads = _payloads(tmp_path)
    centres = [p for p in payloads if p["TruongHocInfo"]["MaNhomCapHoc"] in ("12", "13")]
    assert sorted(p["TruongHocInfo"]["MaNhomCapHoc"] for p in centres) == ["12", "13"]
    rows = load_workbook(summary.registry).worksheets[0].iter_rows(min_row=5, values_only=True)
    registry = {str(r[0]): r for r in rows}
    cap_hoc, id_phong = REGISTRY_COLUMNS.index("CAP_HOC"), REGISTRY_COLUMNS.index("ID_PHONG")
    ages = []
    for payload in centres:
        info = payload["TruongHocInfo"]
        assert _norm(registry[info["MaTruongHoc"]][cap_hoc], 0) == "6"
        assert registry[info["MaTruongHoc"]][id_phong] is None
        assert info["MaLoaiTruong"] in ("15", "16", "17") and _norm(info["LoaiHinhDaoTao"], 2) == "01"
        grades = {int(_norm(c["KhoiHoc"], 2)) for c in payload["LstLopHocInfo"]}
        assert {13, 14, 15} <= grades <= {13, 14, 15, 18, 19, 23}
        assert all(c["MaHinhThucDaoTaoHocTap"] in ("01", "02", "03") for c in payload["LstLopHocInfo"])
        ages += [START_YEAR - int(p["NgaySinh"][:4]) for p in payload["LstHocSinh"]]
        positions = Counter(s.get("ChucVu") for s in payload["LstCanBo"] if _norm(s["LoaiCanBo"], 2) == "01")
        assert positions["05"] == 1 and 1 <= positions["06"] <= 2
        assert {s.get("CapHoc") for s in payload["LstCanBo"]} <= {None, "05"}
    assert min(ages) >= 14 and max(ages) > 25
    assert 0.05 < sum(a > 17 for a in ages) / len(ages) < 0.6


@pytest.mark.parametrize(
    ("province", "year", "period"),
    [("99", "2024-2025", "DN"), ("66", "2024-2026", "DN"), ("66", "2024-2025", "CN")],
)
def test_bad_arguments(tmp_path: Path, province: str, year: str, period: str) -> None:
    with pytest.raises(ValueError):
        generate_province(province, year, period, 3, 1, tmp_path)


def test_spread_arrivals_puts_each_file_in_office_hours_of_the_window(tmp_path):
    import os


    for code in ("66643001", "66643002", "66644001"):
        (tmp_path / f"{code}_2024_1.json").write_text("{}", encoding="utf-8")
    first, last = dt.date(2024, 10, 1), dt.date(2024, 10, 14)
    assert spread_arrivals(tmp_path, first, last, seed=3) == 3
    stamps = {p.name: os.stat(p).st_mtime for p in tmp_path.iterdir()}
    for stamp in stamps.values():
        moment = dt.datetime.fromtimestamp(stamp)
        assert first <= moment.date() <= last and 7 <= moment.hour < 17
    spread_arrivals(tmp_path, first, last, seed=3)
    assert {p.name: os.stat(p).st_mtime for p in tmp_path.iterdir()} == stamps  # same seed, same moments
