"""What every institution's file shares: satellite sites and the payload with its declared totals."""

from __future__ import annotations

import random

from pipelines.synthetic.payload import assemble_payload, draw_sites


def test_sites_are_numbered_placed_and_near():
    sites = draw_sites(random.Random(2), "66643001", "66", "643", 3, 15)
    assert [s["MaDiemTruong"] for s in sites] == ["66643001-DT1", "66643001-DT2", "66643001-DT3"]
    assert all((s["MaTinhThanh"], s["MaQuanHuyen"]) == ("66", "643") for s in sites)
    assert all(0.5 <= s["KhoangCach"] <= 15 and round(s["KhoangCach"], 1) == s["KhoangCach"] for s in sites)
    assert all(s["TenDiemTruong"].startswith("Điểm trường thôn ") for s in sites)
    assert draw_sites(random.Random(2), "66643001", "66", "643", 0, 15) == []
    assert draw_sites(random.Random(2), "66000001", "66", "643", 1, 15, label="Điểm học")[0][
        "TenDiemTruong"
    ].startswith("Điểm học thôn ")


def test_payload_declares_its_own_totals_and_names_the_principal():
    pupils = [
        {"HoTen": "Lê Thị Mai", "NgaySinh": "2016-05-01", "GioiTinh": 2},
        {"HoTen": "Lê Thị Mai", "NgaySinh": "2016-05-20", "GioiTinh": 2},
    ]
    staff = [{"TenCanBo": "Trần Văn Hùng"}, {"TenCanBo": "Phạm Thị Lan"}]
    classes = [{"MaLopHoc": "x-1A"}, {"MaLopHoc": "x-1B"}, {"MaLopHoc": "x-2A"}]
    sites = [{"MaDiemTruong": "x-DT1"}, {"MaDiemTruong": "x-DT2"}]
    payload, facts = assemble_payload("66643001", 2024, 1, {"MaTruongHoc": "66643001"}, 2, sites, classes,
                                      pupils, staff, [{"MaLoaiPhong": "01"}], {"name": "Trường X"})  # fmt: skip
    info = payload["TruongHocInfo"]
    assert (info["SoDiemTruong"], info["TongSoHocSinh"], info["TongSoLopHoc"], info["TongSoCanBo"]) == (
        2,
        2,
        3,
        2,
    )
    assert (payload["MaTruongHoc"], payload["NamHoc"], payload["LoaiDongBo"]) == ("66643001", 2024, 1)
    assert payload["LstHocSinh"] is pupils and payload["CoSoVatChat"] == [{"MaLoaiPhong": "01"}]
    assert [p["HoTen"] for p in pupils] == ["Lê Thị Mai", "Lê Thị Mai Anh"]  # told apart
    assert facts == {"name": "Trường X", "principal": "Trần Văn Hùng"}
