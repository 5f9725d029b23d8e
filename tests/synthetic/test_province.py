"""The province entry point: the same seed gives the same files, and every file keeps the contract
(valid codes, required fields present, declared totals equal to the lists)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.synthetic.conftest import START_YEAR, gen, norm, problems, read_payloads


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    gen(a, 6, seed=7, defect_rate=0.3)
    gen(b, 6, seed=7, defect_rate=0.3)
    gen(c, 6, seed=8, defect_rate=0.3)
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


def test_codes_valid_and_required_present(tmp_path: Path) -> None:
    summary = gen(tmp_path, 10, seed=3)
    assert json.loads(summary.defects.read_text(encoding="utf-8")) == []
    assert summary.n_defects == 0
    payloads = read_payloads(tmp_path)
    for payload in payloads:
        assert payload["NamHoc"] == START_YEAR and payload["LoaiDongBo"] == 1
        assert problems(payload) == set(), payload["MaTruongHoc"]
        info = payload["TruongHocInfo"]
        assert info["TongSoHocSinh"] == len(payload["LstHocSinh"])
        assert info["TongSoLopHoc"] == len(payload["LstLopHocInfo"])
        assert info["TongSoCanBo"] == len(payload["LstCanBo"])
        assert info["SoDiemTruong"] == len(payload["LstDiemTruongInfo"])
        assert re.fullmatch(r"66\d{3}\d{3}", payload["MaTruongHoc"])
        for p in payload["LstHocSinh"]:
            if norm(p["TrangThai"], 2) in ("05", "09", "12"):
                assert "MaLyDoThoiHoc" in p
            if p["KhuyetTat"] in (1, "1", True):
                assert "MaLoaiKhuyetTat" in p
    assert summary.n_learners == sum(len(p["LstHocSinh"]) for p in payloads)
    # Representations vary, so normalisation is exercised.
    grades = {type(c["KhoiHoc"]).__name__ for p in payloads for c in p["LstLopHocInfo"]}
    assert len(grades) >= 2
