"""End-of-year outcomes: results follow the pass rules and the completion/graduation flags, only for
learners enrolled at the end; forced results agree with the known outcome; the nutrition re-check."""

from __future__ import annotations

import copy
import datetime as dt
import random

from pipelines.synthetic.results import draw_results, forced_result, nutrition_recheck

END = dt.date(2024, 5, 31)
LEFT = {"TrangThai": "04", "NgayTrangThai": "2024-03-01T00:00:00.0"}
ARRIVES_LATER = {"TrangThai": "06", "NgayTrangThai": "2024-06-10T00:00:00.0"}


def _learners(prefix, grade, n, **extra):
    return [{"ClientId": f"{prefix}{i}", "KhoiHoc": grade, "TrangThai": "01", **extra} for i in range(n)]


def test_results_follow_the_pass_rules_for_learners_enrolled_at_the_end():
    pupils = (_learners("p", 5, 1500) + _learners("s", "09", 1500) + _learners("g", 23, 500) + _learners("l", 18, 50)
              + _learners("m", 16, 50) + _learners("x", 5, 50, **LEFT) + _learners("y", 9, 50, **ARRIVES_LATER))  # fmt: skip
    pupils.append(dict(pupils[0]))  # the same learner twice: one result
    results = draw_results(random.Random(7), pupils, END)
    by_id = {r["ClientId"]: r for r in results}
    assert len(by_id) == len(results)
    assert {i[0] for i in by_id} == {"p", "s", "g"}  # no literacy, preschool, left or not yet arrived learner
    assert len(results) >= 0.99 * 3500  # a few enrolled learners are not assessed
    for r in results:
        promoted = r["LenLop"] == 1
        assert r["LenLop"] in (1, 2, 3)
        if r["ClientId"][0] == "p":
            assert promoted == (r["KetQuaHocTap"] != "CHT") and r["HoanThanhChuongTrinh"] == int(promoted)
        else:
            assert promoted == (4 not in (r["KetQuaHocTap"], r["RenLuyen"])) and r["TotNghiep"] == int(
                promoted
            )
    assert {r["LenLop"] for r in results} == {1, 2, 3}


def test_forced_results_agree_with_the_known_outcome():
    for seed in range(300):
        rng = random.Random(seed)
        r = forced_result(rng, "a", 5, True)
        assert (r["KetQuaHocTap"] != "CHT", r["LenLop"], r["HoanThanhChuongTrinh"]) == (True, 1, 1)
        r = forced_result(rng, "a", 5, False)
        assert (r["KetQuaHocTap"], r["LenLop"], r["HoanThanhChuongTrinh"]) == ("CHT", 2, 0)
        r = forced_result(rng, "a", 9, True)
        assert 4 not in (r["KetQuaHocTap"], r["RenLuyen"]) and (r["LenLop"], r["TotNghiep"]) == (1, 1)
        r = forced_result(rng, "a", 9, False)
        assert 4 in (r["KetQuaHocTap"], r["RenLuyen"]) and (r["LenLop"], r["TotNghiep"]) == (2, 0)
        r = forced_result(rng, "a", 7, False)
        assert r["LenLop"] == 2 and "TotNghiep" not in r and "HoanThanhChuongTrinh" not in r


def test_nutrition_recheck_of_the_children_enrolled_at_the_end():
    underweight = _learners("u", 16, 1000, KiemTraSucKhoeDinhDuong=1, TinhTrangDinhDuong="01")
    unchecked = _learners("n", "17", 300, KiemTraSucKhoeDinhDuong="0")
    others = _learners("x", 17, 100, KiemTraSucKhoeDinhDuong=1, TinhTrangDinhDuong="02", **LEFT) + _learners(
        "p", 3, 100
    )
    pupils = underweight + unchecked + others
    before = copy.deepcopy(others)
    n = nutrition_recheck(random.Random(2), pupils, END)
    assert others == before  # left before the end, or not a preschool child
    assert 0.93 * 1300 <= n <= 1300
    assert {p["TinhTrangDinhDuong"] for p in underweight} == {"00", "01"}  # some recovered
    checked = [p for p in unchecked if p["KiemTraSucKhoeDinhDuong"] == "1"]
    assert len(checked) == sum("TinhTrangDinhDuong" in p for p in unchecked) >= 0.93 * 300
    assert len(checked) + sum(p["KiemTraSucKhoeDinhDuong"] == "0" for p in unchecked) == 300
