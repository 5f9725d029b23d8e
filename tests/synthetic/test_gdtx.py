"""Continuing-education centres: how many, Sở-run, GDTX grades only, learners' ages, a Giám đốc each."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from openpyxl import load_workbook

from pipelines.ingest.registry import REGISTRY_COLUMNS
from tests.synthetic.conftest import START_YEAR, gen, norm, read_payloads


def test_gdtx_centres(tmp_path: Path) -> None:
    """About 1 % of institutions are GDTX centres: one provincial (12), the others district (13);
    Sở-run (CAP_HOC 6, no ID_PHONG); GDTX grades only, learners of wider ages, a Giám đốc each."""
    summary = gen(tmp_path, 200, seed=4)
    payloads = read_payloads(tmp_path)
    centres = [p for p in payloads if p["TruongHocInfo"]["MaNhomCapHoc"] in ("12", "13")]
    assert sorted(p["TruongHocInfo"]["MaNhomCapHoc"] for p in centres) == ["12", "13"]
    rows = load_workbook(summary.registry).worksheets[0].iter_rows(min_row=5, values_only=True)
    registry = {str(r[0]): r for r in rows}
    cap_hoc, id_phong = REGISTRY_COLUMNS.index("CAP_HOC"), REGISTRY_COLUMNS.index("ID_PHONG")
    ages = []
    for payload in centres:
        info = payload["TruongHocInfo"]
        assert norm(registry[info["MaTruongHoc"]][cap_hoc], 0) == "6"
        assert registry[info["MaTruongHoc"]][id_phong] is None
        assert info["MaLoaiTruong"] in ("15", "16", "17") and norm(info["LoaiHinhDaoTao"], 2) == "01"
        grades = {int(norm(c["KhoiHoc"], 2)) for c in payload["LstLopHocInfo"]}
        assert {13, 14, 15} <= grades <= {13, 14, 15, 18, 19, 23}
        assert all(c["MaHinhThucDaoTaoHocTap"] in ("01", "02", "03") for c in payload["LstLopHocInfo"])
        ages += [START_YEAR - int(p["NgaySinh"][:4]) for p in payload["LstHocSinh"]]
        positions = Counter(s.get("ChucVu") for s in payload["LstCanBo"] if norm(s["LoaiCanBo"], 2) == "01")
        assert positions["05"] == 1 and 1 <= positions["06"] <= 2
        assert {s.get("CapHoc") for s in payload["LstCanBo"]} <= {None, "05"}
    assert min(ages) >= 14 and max(ages) > 25
    assert 0.05 < sum(a > 17 for a in ages) / len(ages) < 0.6
