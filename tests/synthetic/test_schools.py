"""General schools: sex ratio, ages by grade, class sizes, staff and rooms, ethnic mix by district."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.synthetic.conftest import START_YEAR, gen, norm, read_payloads


def test_realism(tmp_path: Path) -> None:
    gen(tmp_path, 10, seed=11)
    payloads = read_payloads(tmp_path)
    pupils = [p for payload in payloads for p in payload["LstHocSinh"]]
    girls = sum(norm(p["GioiTinh"], 2) == "02" for p in pupils) / len(pupils)
    assert 0.40 <= girls <= 0.60
    # Official ages of general-education grades 1-12 (preschool children are checked below).
    pupils = [p for p in pupils if int(norm(p["KhoiHoc"], 2)) <= 12]
    on_age = sum(int(p["NgaySinh"][:4]) == START_YEAR - (int(norm(p["KhoiHoc"], 2)) + 5) for p in pupils)
    assert on_age / len(pupils) > 0.85
    over_age = sum(int(p["NgaySinh"][:4]) < START_YEAR - (int(norm(p["KhoiHoc"], 2)) + 5) for p in pupils)
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
        teachers = sum(norm(s["LoaiCanBo"], 2) == "03" for s in staff)
        assert teachers >= len(payload["LstLopHocInfo"]) or mountain
        classrooms = sum(r["SoLuong"] for r in payload["CoSoVatChat"] if r["MaLoaiPhong"] == "01")
        assert classrooms >= 1
    # The ethnic-minority share varies by district: some low, some high.
    shares = []
    for payload in payloads:
        lst = payload["LstHocSinh"]
        shares.append(sum(p["MaDanToc"] != "01" for p in lst) / len(lst))
    assert min(shares) < 0.05 and max(shares) > 0.2
