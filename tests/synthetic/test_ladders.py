"""The ladders of the previous year: this year's learners one step lower last year (a grade, a GDTX
programme code, a preschool age band) or repeating, and last year's leavers absent now."""

from __future__ import annotations

from pipelines.synthetic.ladders import GeneralLadder, ladder_for
from tests.synthetic.conftest import BANDS, pairs, truthy, two_digits


def test_pupils_of_this_year_were_last_year_one_grade_lower_or_repeating(previous):
    folder, _, _ = previous
    promoted = repeated = 0
    for now, last, kind in pairs(folder):
        if kind != "general":
            continue
        learners = {p["ClientId"]: p for p in last["LstHocSinh"]}
        results = {r["ClientId"]: r for r in last["LstKetQuaHocTap"]}
        for p in now["LstHocSinh"]:
            status, entry = two_digits(p["TrangThai"]), two_digits(p["LoaiNhapHoc"])
            if status == "02":
                assert p["ClientId"] not in learners  # transferred in this year
            elif two_digits(p["KhoiHoc"]) == "02" and entry == "04":
                q = learners[p["ClientId"]]
                assert (two_digits(q["KhoiHoc"]), q["MaHocSinh"]) == ("01", p["MaHocSinh"])
                assert results[p["ClientId"]]["LenLop"] == 1
                promoted += 1
            elif entry == "03":
                assert two_digits(learners[p["ClientId"]]["KhoiHoc"]) == two_digits(p["KhoiHoc"])
                assert results[p["ClientId"]]["LenLop"] == 2
                repeated += 1
    assert promoted and repeated


def test_preschool_children_are_this_years_children_one_age_band_younger(previous):
    """Every child of last year's file is in this year's DN of the same school one age band up (a
    class of the next band; of the next band or above when this year's class mixes ages), unless
    they left during or after the year (dated), or were in the school's last band (finished it).
    Conversely a child of this year in an unmixed class of band 03-06, not new (IsTuyenMoiMn), was
    in the school last year when the school runs the block of the band below."""
    folder, _, _ = previous
    carried = finished = 0
    for now, last, kind in pairs(folder):
        if kind != "MN":
            continue
        class_now = {c["MaLopHoc"]: c for c in now["LstLopHocInfo"]}
        class_last = {c["MaLopHoc"]: c for c in last["LstLopHocInfo"]}
        bands_now = {c["MaNhomTuoiMn"] for c in class_now.values()}
        blocks_now = {two_digits(c["KhoiHoc"]) for c in class_now.values()}
        this_year = {p["ClientId"]: p for p in now["LstHocSinh"]}
        national_ids = {p["MaHocSinh"] for p in now["LstHocSinh"]}
        for q in last["LstHocSinh"]:
            c = class_last[q["MaLopHocDn"]]
            band = c["MaNhomTuoiMn"]
            assert two_digits(c.get("LopGhepDoTuoi")) == "00"  # last year's classes are rebuilt by band
            assert two_digits(q["KhoiHoc"]) == ("16" if band <= "03" else "17")
            assert "MaLyDoThoiHoc" not in q or two_digits(q["TrangThai"]) in ("05", "09", "12")
            p = this_year.get(q["ClientId"])
            if p is not None:
                assert p["MaHocSinh"] == q["MaHocSinh"]
                c_now = class_now[p["MaLopHocDn"]]
                up = BANDS[BANDS.index(band) + 1]
                if two_digits(c_now.get("LopGhepDoTuoi")) == "00":
                    assert c_now["MaNhomTuoiMn"] == up
                else:
                    assert c_now["MaNhomTuoiMn"] >= up
                carried += 1
                continue
            assert q["MaHocSinh"] not in national_ids
            status = two_digits(q["TrangThai"])
            if status == "01":  # finished the school's last band: no class of the next band now
                assert band == "06" or BANDS[BANDS.index(band) + 1] not in bands_now
                finished += 1
            else:
                assert status in ("04", "05", "08", "09", "11", "12")
        for p in now["LstHocSinh"]:
            c_now = class_now[p["MaLopHocDn"]]
            band = c_now["MaNhomTuoiMn"]
            below = BANDS[BANDS.index(band) - 1]
            if (band >= "03" and two_digits(c_now.get("LopGhepDoTuoi")) == "00" and not truthy(p.get("IsTuyenMoiMn"))
                    and ("16" if below <= "03" else "17") in blocks_now):  # fmt: skip
                assert p["ClientId"] in {q["ClientId"] for q in last["LstHocSinh"]}, p
    assert carried > 100 and finished > 10


def test_gdtx_learners_were_one_programme_year_lower_or_repeating(previous):
    """Lớp 11 GDTX (14) ← lớp 10 GDTX (13), lớp 12 (15) ← lớp 11 (14): a carried learner was one code
    lower and promoted, or in the same code with LenLop 2 (a repeater now); the THPT programme's
    learners enrolled on 31/5 all have a TT 22/2021 result with conduct."""
    folder, _, _ = previous
    seen = 0
    for now, last, kind in pairs(folder):
        if kind != "GDTX":
            continue
        this_year = {p["ClientId"]: p for p in now["LstHocSinh"]}
        codes_now = {two_digits(p["KhoiHoc"]) for p in now["LstHocSinh"]}
        results = {r["ClientId"]: r for r in last["LstKetQuaHocTap"]}
        for q in last["LstHocSinh"]:
            code, status = two_digits(q["KhoiHoc"]), two_digits(q["TrangThai"])
            enrolled = status in ("01", "02", "06", "11", "12")
            if code in ("13", "14", "15") and enrolled:
                r = results[q["ClientId"]]
                assert r["KetQuaHocTap"] in (1, 2, 3, 4) and r["RenLuyen"] in (1, 2, 3, 4)
            p = this_year.get(q["ClientId"])
            if p is None:
                assert (
                    status != "01"
                    or f"{int(code) + 1:02d}" not in codes_now
                    or code in ("15", "23", "18", "19")
                )
                continue
            seen += 1
            if two_digits(p["LoaiNhapHoc"]) == "03":
                assert code == two_digits(p["KhoiHoc"]) and results[q["ClientId"]]["LenLop"] == 2
            else:
                assert (
                    int(code) + 1 == int(two_digits(p["KhoiHoc"])) and results[q["ClientId"]]["LenLop"] == 1
                )
        for p in now["LstHocSinh"]:  # this year's lớp 11-12 GDTX, promoted: last year's learners
            if two_digits(p["KhoiHoc"]) in ("14", "15") and two_digits(p["LoaiNhapHoc"]) == "04":
                assert p["ClientId"] in {q["ClientId"] for q in last["LstHocSinh"]}
    assert seen > 50


def test_general_ladder_by_hand():
    """Grade 3 now: promoted from grade 2 (LoaiNhapHoc 4) when the school teaches grade 2, a repeater
    (3) in grade 3, new (0/1/2, or transferred in) not in the school last year."""
    ladder = GeneralLadder({"LstHocSinh": [{"KhoiHoc": 1, "LoaiNhapHoc": "0"}]}, 2024)
    assert ladder.previous({"TrangThai": "01", "LoaiNhapHoc": "04"}, 3, {2, 3}) == (2, True)
    assert ladder.previous({"TrangThai": 1, "LoaiNhapHoc": 3}, 3, {2, 3}) == (3, False)
    assert ladder.previous({"TrangThai": "01", "LoaiNhapHoc": "04"}, 3, {3, 4}) is None  # no grade 2 here
    assert ladder.previous({"TrangThai": "01", "LoaiNhapHoc": "01"}, 3, {2, 3}) is None
    assert ladder.previous({"TrangThai": "02", "LoaiNhapHoc": "04"}, 3, {2, 3}) is None
    assert (ladder.upper(12), ladder.lower(1), ladder.label(4, 1), ladder.label(11, 0)) == (
        None,
        None,
        "4B",
        "11A1",
    )
    assert ladder.admission(1, {"LoaiNhapHoc": 4}) == "0"  # as this year's first graders were written
    assert ladder.admission(3, {"LoaiNhapHoc": 4}) == 4
    assert ladder_for({"LstHocSinh": [{"KhoiHoc": "16"}]}, 2024).grade("04") == 17
    assert ladder_for({"LstHocSinh": [{"KhoiHoc": 14}]}, 2024).upper(14) == 15
    assert ladder_for({"LstHocSinh": [{"KhoiHoc": "x"}]}, 2024) is None
