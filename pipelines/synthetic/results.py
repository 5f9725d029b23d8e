"""End-of-year outcomes: results (TT 27/2020 in primary, TT 22/2021 in secondary and GDTX), drawn or
made to agree with a known outcome (promoted or repeating), and the preschool children's health
and nutrition re-check."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from pipelines.synthetic.learners import PRESCHOOL, enrolled_on, flag_like, grade_of, read_code
from pipelines.synthetic.values import weighted

GDTX_ASSESSED = {"13", "14", "15", "23"}  # THPT programme (lớp 10-12 GDTX) and lớp 9 GDTX
# End-of-year nutrition re-check (codelists/nutrition_status.csv: 00 normal, 01 underweight, 02 stunted,
# 03 'còi cọc', 04 overweight): share of the children re-checked, the chance a malnourished or
# overweight child of the start recovers, and the chance a normal child is found in another state.
RECHECKED = 0.97
RECOVERS = 0.35
WORSENS = 0.03
NUTRITION_DRAW = (("00", 0.86), ("01", 0.04), ("02", 0.04), ("03", 0.02), ("04", 0.04))
NUTRITION_CHANGE = (("01", 0.3), ("02", 0.2), ("03", 0.1), ("04", 0.4))
GDTX_LEARNING = (("1", 0.08), ("2", 0.32), ("3", 0.50), ("4", 0.10))
GDTX_CONDUCT = (("1", 0.62), ("2", 0.27), ("3", 0.09), ("4", 0.02))
NOT_ASSESSED = 0.003  # enrolled on 31/5 without a result (e.g. disabled pupils assessed apart)
# TT 27/2020 overall result (primary) and TT 22/2021 learning / conduct results (secondary).
PRIMARY_RESULTS = (("HTXS", 0.22), ("HTT", 0.33), ("HT", 0.43), ("CHT", 0.02))
LEARNING_RESULTS = (("1", 0.25), ("2", 0.40), ("3", 0.31), ("4", 0.04))
CONDUCT_RESULTS = (("1", 0.82), ("2", 0.13), ("3", 0.045), ("4", 0.005))
REPEAT_SHARE = 0.5  # of pupils not reaching the pass level: repeat now; the others are re-assessed in summer


def nutrition_recheck(rng: random.Random, pupils: list[dict[str, Any]], end: dt.date) -> int:
    """The end-of-year health and nutrition check of the preschool children enrolled on 31/5, in
    place: most are re-checked; a malnourished or overweight child may have recovered, a normal one
    may be found in another state; a child not checked at the start gets a first status."""
    n = 0
    for p in pupils:
        if read_code(p.get("KhoiHoc")) not in PRESCHOOL or not enrolled_on(p, end):
            continue
        like = p.get("KiemTraSucKhoeDinhDuong", 1)
        if rng.random() >= RECHECKED:
            continue
        before = read_code(p.get("TinhTrangDinhDuong")) if str(like) not in ("0", "False") else None
        if before is None:
            status = weighted(rng, NUTRITION_DRAW)
        elif before == "00":
            status = weighted(rng, NUTRITION_CHANGE) if rng.random() < WORSENS else "00"
        else:
            status = "00" if rng.random() < RECOVERS else before
        p["KiemTraSucKhoeDinhDuong"] = flag_like(True, like)
        p["TinhTrangDinhDuong"] = status
        n += 1
    return n


def _result(rng: random.Random, client_id: str, grade: int) -> dict[str, Any]:
    """One pupil's end-of-year result: TT 27/2020 (primary) or TT 22/2021 (secondary)."""
    if grade <= 5:
        learning = weighted(rng, PRIMARY_RESULTS)
        failed, entry = learning == "CHT", {"ClientId": client_id, "KetQuaHocTap": learning}
    else:
        learning, conduct = weighted(rng, LEARNING_RESULTS), weighted(rng, CONDUCT_RESULTS)
        failed = learning == "4" or conduct == "4"
        entry = {"ClientId": client_id, "KetQuaHocTap": int(learning), "RenLuyen": int(conduct)}
    promotion = (2 if rng.random() < REPEAT_SHARE else 3) if failed else 1
    entry["LenLop"] = promotion
    if grade == 5:
        entry["HoanThanhChuongTrinh"] = int(promotion == 1)
    if grade == 9:
        entry["TotNghiep"] = int(promotion == 1)
    return entry


def _gdtx_result(rng: random.Random, client_id: str, code: str) -> dict[str, Any]:
    """A GDTX learner's end-of-year result on the TT 22/2021 scales (lớp 10-12 GDTX, lớp 9 GDTX)."""
    learning, conduct = weighted(rng, GDTX_LEARNING), weighted(rng, GDTX_CONDUCT)
    failed = learning == "4" or conduct == "4"
    promotion = (2 if rng.random() < REPEAT_SHARE else 3) if failed else 1
    entry = {
        "ClientId": client_id,
        "KetQuaHocTap": int(learning),
        "RenLuyen": int(conduct),
        "LenLop": promotion,
    }
    if code == "23":
        entry["TotNghiep"] = int(promotion == 1)
    return entry


def draw_results(rng: random.Random, pupils: list[dict[str, Any]], end: dt.date) -> list[dict[str, Any]]:
    results, seen = [], set()
    for p in pupils:
        grade, code, client_id = grade_of(p), read_code(p.get("KhoiHoc")), p.get("ClientId")
        if grade is None and code not in GDTX_ASSESSED:
            continue
        if not client_id or client_id in seen or not enrolled_on(p, end):
            continue
        seen.add(client_id)
        if rng.random() < NOT_ASSESSED:
            continue
        results.append(
            _result(rng, client_id, grade) if grade is not None else _gdtx_result(rng, client_id, code)
        )
    return results


PASSING_PRIMARY = tuple(r for r in PRIMARY_RESULTS if r[0] != "CHT")
PASSING_LEARNING = tuple(r for r in LEARNING_RESULTS if r[0] != "4")
PASSING_CONDUCT = tuple(r for r in CONDUCT_RESULTS if r[0] != "4")
FAILED_BY_LEARNING = 0.8  # of secondary repeaters: learning result Chưa đạt (else conduct Chưa đạt)


def forced_result(rng: random.Random, client_id: str, grade: int, promoted: bool) -> dict[str, Any]:
    """An end-of-year result that agrees with a known outcome: promoted (LenLop 1, with completion of
    primary in grade 5 and THCS graduation in grade 9) or repeating (LenLop 2)."""
    if grade <= 5:
        entry = {"ClientId": client_id, "KetQuaHocTap": weighted(rng, PASSING_PRIMARY) if promoted else "CHT"}
    elif promoted:
        learning, conduct = weighted(rng, PASSING_LEARNING), weighted(rng, PASSING_CONDUCT)
        entry = {"ClientId": client_id, "KetQuaHocTap": int(learning), "RenLuyen": int(conduct)}
    elif rng.random() < FAILED_BY_LEARNING:
        entry = {"ClientId": client_id, "KetQuaHocTap": 4, "RenLuyen": int(weighted(rng, CONDUCT_RESULTS))}
    else:
        entry = {"ClientId": client_id, "KetQuaHocTap": int(weighted(rng, LEARNING_RESULTS)), "RenLuyen": 4}
    entry["LenLop"] = 1 if promoted else 2
    if grade == 5:
        entry["HoanThanhChuongTrinh"] = int(promoted)
    if grade == 9:
        entry["TotNghiep"] = int(promoted)
    return entry
