"""The previous school year's end of year (CN), built cohort by cohort from this year's start-of-year
files: this year's learners one step lower on their ladder, last year's leavers, repeaters, dated
transfers and dropouts, results that agree with this year, classes rebuilt by unit."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.synthetic.changes import RATES, arrival_status, draw_changes
from pipelines.synthetic.folders import LOAI_DONG_BO, prepare_output, read_payload
from pipelines.synthetic.ladders import GeneralLadder, PreschoolLadder, ladder_for
from pipelines.synthetic.learners import (
    admission_like,
    day_between,
    day_stamp,
    enrolled_on,
    flag_like,
    grade_like,
    rate_group,
    read_code,
    status_like,
)
from pipelines.synthetic.results import nutrition_recheck
from pipelines.synthetic.values import client_id, distinct_names, newcomer_name


@dataclass(frozen=True)
class PreviousYearSummary:
    n_schools: int
    n_learners: int
    n_carried: int  # learners of this year's file placed in last year's classes
    n_repeaters: int  # of them: repeaters now, in the same grade last year with LenLop 2
    n_leavers: int  # synthetic learners who finished the school's last grade (band, programme) last year
    n_dropouts: int  # synthetic learners who dropped out during last year
    n_transfers_out: int  # synthetic learners who transferred out during last year
    n_transfers_in: int  # carried learners who had transferred in during last year
    n_results: int
    n_empty: int  # files without a learner to carry back: not written
    n_skipped: int  # input files that could not be read
    out: Path
    registry: Path
    inbox: Path


def _carry(p: dict[str, Any], unit: Any, ladder: GeneralLadder) -> dict[str, Any]:
    """This year's learner record as it stood in `unit` last year, studying (TrangThai 01)."""
    q = copy.deepcopy(p)
    for key in ("NgayTrangThai", "MaLyDoThoiHoc"):
        q.pop(key, None)
    q["KhoiHoc"] = grade_like(ladder.grade(unit), p.get("KhoiHoc"))
    q["TrangThai"] = status_like("01", p.get("TrangThai"))
    entry = ladder.admission(unit, p)
    if entry is not None:
        q["LoaiNhapHoc"] = entry
    ladder.adjust(q, unit, p)
    return q


def _previous_school(
    rng: random.Random, payload: dict[str, Any], code: str, year: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int]] | None:
    """Last year's classes, learners and results of one school or centre (school year `year`), or
    None when the file has no learner of a known kind."""
    ladder = ladder_for(payload, year + 1)
    if ladder is None:
        return None
    now = [(p, u) for p in payload["LstHocSinh"] if isinstance(p, dict) and (u := ladder.unit(p)) is not None]
    if not now:
        return None
    units = {u for _, u in now}
    sizes = Counter(u for _, u in now)  # this year's learners by unit
    all_classes = [c for c in payload.get("LstLopHocInfo") or [] if isinstance(c, dict)]
    n_classes_now = Counter(ladder.class_unit(c) for c in all_classes)
    templates: dict[Any, dict[str, Any]] = {}
    for c in all_classes:
        templates.setdefault(ladder.class_unit(c), c)
        templates.setdefault(("grade", read_code(c.get("KhoiHoc"))), c)
    like = now[0][0]
    start, end = dt.date(year, 9, 30), dt.date(year + 1, 5, 31)

    # (unit last year, record, promoted?, carried?) — promoted None: left during the year (no result).
    rows: list[tuple[Any, dict[str, Any], bool | None, bool]] = []
    counts = dict.fromkeys(
        ("carried", "repeaters", "leavers", "dropouts", "transfers_out", "transfers_in"), 0
    )
    for p, u in now:
        before = ladder.previous(p, u, units) if p.get("ClientId") else None
        if before is None:
            continue  # new this year
        rows.append((before[0], _carry(p, before[0], ladder), before[1], True))
        counts["carried"] += 1
        counts["repeaters"] += not before[1]

    taken = {str(p.get("MaHocSinh")) for p in payload["LstHocSinh"] if isinstance(p, dict)}

    def synthetic(unit: Any) -> dict[str, Any]:
        """A learner of last year who is not in this year's file (finished, left)."""
        gender = 2 if rng.random() < 0.485 else 1
        # The school's code first: unique in the province (this year's codes are 10 digits).
        pid = f"{code}{rng.randrange(10**8):08d}"
        while pid in taken:
            pid = f"{code}{rng.randrange(10**8):08d}"
        taken.add(pid)
        model = rng.choice(now)[0]
        record = {
            "ClientId": client_id(rng),
            "MaHocSinh": pid,
            "HoTen": newcomer_name(rng, gender),
            "MaDanToc": model.get("MaDanToc") or "01",
            "GioiTinh": gender if isinstance(like.get("GioiTinh"), int) else f"{gender:02d}",
            "NgaySinh": day_stamp(ladder.born(rng, unit, year)),
            "KhoiHoc": grade_like(ladder.grade(unit), like.get("KhoiHoc")),
            "TrangThai": status_like("01", like.get("TrangThai")),
            "KhuyetTat": flag_like(False, like.get("KhuyetTat", 0)),
        }
        entry = ladder.admission(unit, like)
        if entry is not None:
            record["LoaiNhapHoc"] = entry
        ladder.adjust(record, unit, model)
        return record

    # Last year's leavers from the last unit of the school's ladder (top grade, oldest band, the last
    # year of a programme): as many as this year's learners of the unit, all finishing it.
    for u in sorted(units):
        if ladder.upper(u) not in units:
            for _ in range(sizes[u]):
                rows.append((u, synthetic(u), True, False))
                counts["leavers"] += 1
    # Preschools take new children into every band, so fewer children are carried back than a band
    # holds now. The rest of last year's band moved to another school in the summer (enrolled on
    # 31/5, status 11 dated after it), so each band keeps about its size from one year to the next.
    if isinstance(ladder, PreschoolLadder):
        held = Counter(r[0] for r in rows)
        for u in sorted(units):
            for _ in range(sizes[u] - held[u]):
                record = synthetic(u)
                record["TrangThai"] = status_like("11", like.get("TrangThai"))
                record["NgayTrangThai"] = day_stamp(
                    day_between(rng, end + dt.timedelta(days=5), dt.date(end.year, 8, 15))
                )
                rows.append((u, record, True, False))
    # Transfers out and dropouts during last year (and a few summer leavers): `draw_changes` draws them,
    # at the rates of `RATES`, among shadows of last year's learners at the start; each one drawn
    # becomes a learner who is not in this year's file.
    shadows = [
        {"KhoiHoc": grade_like(ladder.grade(u), like.get("KhoiHoc")), "TrangThai": status_like("01", like.get("TrangThai"))}
        for u, _, _, _ in rows
    ]  # fmt: skip
    left = draw_changes(rng, shadows, start, end)
    counts["dropouts"] += left["dropout"]
    counts["transfers_out"] += left["out"]
    for (u, _, _, _), shadow in zip(list(rows), shadows, strict=True):
        if read_code(shadow["TrangThai"]) == "01":
            continue
        record = synthetic(u)
        record.update({k: v for k, v in shadow.items() if k != "KhoiHoc"})
        rows.append((u, record, True if enrolled_on(record, end) else None, False))
    # Transfers in during last year: learners of this year's file who arrived in the school last year.
    for _, record, _, carried in rows:
        if carried and rng.random() < RATES[rate_group(record)]["in"]:
            record["TrangThai"], record["NgayTrangThai"] = arrival_status(
                rng, start, end, record["TrangThai"]
            )
            record["LoaiNhapHoc"] = admission_like(1, like.get("TrangThai"))
            counts["transfers_in"] += 1

    # Last year's classes: by unit, about as many as this year's classes of the unit.
    classes, pupils, results = [], [], []
    for u in sorted({r[0] for r in rows}):
        members = [r for r in rows if r[0] == u]
        rng.shuffle(members)
        n_now = max(1, n_classes_now.get(u, 1))
        size = max(1, round(sizes.get(u, 1) / n_now))
        n = max(1, min(len(members), round(len(members) / size)))
        template = templates.get(u) or templates.get(("grade", f"{ladder.grade(u):02d}")) or all_classes[0]
        for k in range(n):
            label = ladder.label(u, k)
            c = copy.deepcopy(template)
            c["ClientId"] = client_id(rng)
            c["MaLopHoc"] = f"{code}-{label}"
            c["TenLopHoc"] = label
            c["KhoiHoc"] = grade_like(ladder.grade(u), template.get("KhoiHoc"))
            c["LopGhep"] = flag_like(False, c.get("LopGhep", 0))
            c.pop("MaLopGhep", None)
            c.update(ladder.class_fields(u))
            classes.append(c)
            for _, p, promoted, _ in members[k::n]:
                p["MaLopHocDn"] = c["MaLopHoc"]
                pupils.append(p)
                entry = ladder.result(rng, p["ClientId"], u, promoted) if promoted is not None else None
                if entry is not None:
                    results.append(entry)
    if isinstance(ladder, PreschoolLadder):
        nutrition_recheck(rng, pupils, end)
    return classes, pupils, results, counts


def generate_previous_year(dn_dir: Path, out: Path, seed: int) -> PreviousYearSummary:
    """The previous school year's end of year (CN) of a generated start-of-year province.

    From dn_dir's payloads of school year t (NamHoc t), write out/registry.xlsx (a copy) and
    out/inbox/<MaTruongHoc>_<t-1>_2.json: school year t-1 as it stood on 31/5/t, consistent as
    cohorts with year t, for general schools, preschools and GDTX centres alike (`GeneralLadder`,
    `PreschoolLadder`, `GdtxLadder`). A learner now in grade g who is neither a repeater
    (LoaiNhapHoc 3) nor new (a new entrant at the first grade of a level, LoaiNhapHoc 0/2, or
    transferred in) was in grade g-1 of the same school and promoted (LenLop 1; completed primary
    in grade 5, graduated THCS in grade 9); a repeater now was in the same grade, not promoted
    (LenLop 2). A GDTX learner moves up one programme code (lớp 10 → 11 GDTX …); a preschool child
    one age band (see `PreschoolLadder`). Last year's leavers are added as new records (same
    ClientId/MaHocSinh for carried learners, new ones for the others): as many learners of the
    ladder's last unit as it has now, all finishing it; transfers out, dropouts and summer leavers
    during the year (`draw_changes`, dated, with a dropout reason); and some carried learners had
    transferred in during the year (02/06, dated, LoaiNhapHoc 1). Preschool children get an
    end-of-year nutrition check; classes are rebuilt by unit from this year's ones; staff, sites
    and rooms are copied unchanged. Deterministic for a seed; this year's files are not touched.
    """
    dn_dir, out = Path(dn_dir), Path(out)
    inbox = prepare_output(dn_dir, out, "previous-year")
    rng = random.Random(seed)
    totals = {"schools": 0, "learners": 0, "results": 0, "empty": 0, "skipped": 0}
    counts = dict.fromkeys(
        ("carried", "repeaters", "leavers", "dropouts", "transfers_out", "transfers_in"), 0
    )
    for path in sorted(p for p in (dn_dir / "inbox").glob("*.json") if p.is_file()):
        school_rng = random.Random(rng.getrandbits(64))
        source = read_payload(path)
        if source is None:
            totals["skipped"] += 1
            continue
        info = source.get("TruongHocInfo") if isinstance(source.get("TruongHocInfo"), dict) else {}
        code = str(source.get("MaTruongHoc") or info.get("MaTruongHoc"))
        year = int(source.get("NamHoc") or info.get("NamHoc")) - 1
        built = _previous_school(school_rng, source, code, year)
        if built is None:
            totals["empty"] += 1
            continue
        classes, pupils, results, school_counts = built
        payload = copy.deepcopy(source)
        payload["NamHoc"] = year
        payload["LoaiDongBo"] = LOAI_DONG_BO
        if isinstance(payload.get("TruongHocInfo"), dict):
            payload["TruongHocInfo"]["NamHoc"] = year
            payload["TruongHocInfo"]["TongSoHocSinh"] = len(pupils)
            payload["TruongHocInfo"]["TongSoLopHoc"] = len(classes)
        payload["LstLopHocInfo"] = classes
        distinct_names(pupils)
        payload["LstHocSinh"] = pupils
        payload["LstKetQuaHocTap"] = results
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        (inbox / f"{code}_{year}_{LOAI_DONG_BO}.json").write_text(text, encoding="utf-8", newline="\n")
        totals["schools"] += 1
        totals["learners"] += len(pupils)
        totals["results"] += len(results)
        for k, v in school_counts.items():
            counts[k] += v
    return PreviousYearSummary(totals["schools"], totals["learners"], counts["carried"], counts["repeaters"],
                               counts["leavers"], counts["dropouts"], counts["transfers_out"],
                               counts["transfers_in"], totals["results"], totals["empty"], totals["skipped"],
                               out, out / "registry.xlsx", inbox)  # fmt: skip
