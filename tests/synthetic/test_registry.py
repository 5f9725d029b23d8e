"""registry.xlsx: the import-template layout, one row per generated school plus a test school, and
units (Sở, Phòng, district, province) that belong together."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from pipelines import catalog
from pipelines.ingest.registry import REGISTRY_COLUMNS
from pipelines.synthetic.registry import TITLE
from tests.synthetic.conftest import gen, norm, read_payloads


def test_registry_layout_and_units(tmp_path: Path) -> None:
    summary = gen(tmp_path, 12)
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
    inbox_codes = {p["MaTruongHoc"] for p in read_payloads(tmp_path)}
    assert len(inbox_codes) == summary.n_schools
    assert inbox_codes == {str(r["MA_TRUONG"]) for r in rows} - {tests[0]["MA_TRUONG"]}

    units = catalog.codelist("education_units_pre2025").rows
    sos = {u["code"] for u in units if not u["parent_code"]}
    phongs = {(u["code"], u["parent_code"]) for u in units if u["parent_code"]}
    districts = {r["code"]: r["province_code"] for r in catalog.codelist("districts_pre2025").rows}
    for r in rows:
        so = norm(r["ID_SO"], 0)
        assert so in sos and so == str(int(r["MA_TINH_THANH"]))
        assert str(r["MA_TINH_THANH"]).zfill(2) == "66"
        assert districts[str(r["MA_QUAN_HUYEN"]).zfill(3)] == "66"
        if r["ID_PHONG"] is not None:
            assert (norm(r["ID_PHONG"], 0), so) in phongs
        if norm(r["CAP_HOC"], 0) in ("3", "6"):
            assert r["ID_PHONG"] is None  # THPT and GDTX centres: Sở-run
        assert r["TRANG_THAI"] == 1
        if r is not tests[0]:
            assert all(v not in (None, "") for k, v in r.items() if k != "ID_PHONG")
