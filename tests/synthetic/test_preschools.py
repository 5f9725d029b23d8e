"""Preschools: their share and kinds, children's ages by band, staff positions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.synthetic.conftest import START_YEAR, gen, norm, read_payloads


def test_preschools(tmp_path: Path) -> None:
    """About 38 % of institutions are preschools, of every kind; children's ages fit their group."""
    gen(tmp_path, 200, seed=4)
    payloads = read_payloads(tmp_path)
    groups = Counter(p["TruongHocInfo"]["MaNhomCapHoc"] for p in payloads)
    preschools = [p for p in payloads if p["TruongHocInfo"]["MaNhomCapHoc"] in ("01", "02", "03", "04", "05")]
    assert 0.30 <= len(preschools) / len(payloads) <= 0.46
    assert groups["01"] > groups["02"] > 0 and groups["04"] + groups["05"] > 0
    assert {norm(p["TruongHocInfo"]["LoaiHinhDaoTao"], 2) for p in preschools} == {"01", "03", "09"}
    bands = {"01": (3, 12), "02": (13, 24), "03": (25, 40)}  # some nursery children over 36 months
    for payload in preschools:
        classes = {c["MaLopHoc"]: c for c in payload["LstLopHocInfo"]}
        assert {int(norm(c["KhoiHoc"], 2)) for c in classes.values()} <= {16, 17}
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
        positions = Counter(s.get("ChucVu") for s in payload["LstCanBo"] if norm(s["LoaiCanBo"], 2) == "02")
        assert set(positions) <= {"15", "16", "11", "25", "20", "21", "31", "17"}
        assert all(
            s.get("DayNhomLop") in ("01", "02")
            for s in payload["LstCanBo"]
            if norm(s["LoaiCanBo"], 2) == "03"
        )
