"""Derive a seeded end-of-year (CN) province from a generated start-of-year (DN) one.

Reads what `pipelines.synthetic.province.generate_province` wrote (registry.xlsx, inbox/*.json) and
writes the same schools and pupils as they stand on 31/5 of the end year (LoaiDongBo 2, "changes
during the year"): some pupils transferred out or dropped out during the year (TrangThai 04/08,
05/09 with NgayTrangThai between 1/10 and 31/5, and a dropout reason), a few new pupils transferred
in (02/06), and one end-of-year result (LstKetQuaHocTap, docs/input-contract.md) for every pupil
enrolled on 31/5. Preschool children (DM_KHOI 16/17) move and leave too and get an end-of-year
health and nutrition re-check (KiemTraSucKhoeDinhDuong / TinhTrangDinhDuong updated), no result;
GDTX learners move and drop out more often than pupils, and those of the THPT programme (DM_KHOI
13-15) and of lớp 9 GDTX (23) get a TT 22/2021 result (status: inferred). Every random draw comes
from one `random.Random(seed)`: the same DN province and seed give the same files. Malformed input
files are skipped.

The changes during the year are drawn in changes.py, the results and the nutrition re-check in
results.py. The previous school year by cohorts is previous_year.py, its start previous_start.py.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from pipelines.synthetic.changes import draw_arrivals, draw_changes
from pipelines.synthetic.folders import LOAI_DONG_BO, prepare_output, read_payload
from pipelines.synthetic.results import draw_results, nutrition_recheck
from pipelines.synthetic.values import distinct_names


@dataclass(frozen=True)
class EndOfYearSummary:
    n_schools: int
    n_learners: int
    n_transfers_in: int
    n_transfers_out: int
    n_dropouts: int
    n_results: int
    n_skipped: int  # input files that could not be read
    out: Path
    registry: Path
    inbox: Path


def generate_end_of_year(dn_dir: Path, out: Path, seed: int) -> EndOfYearSummary:
    """Write out/registry.xlsx (a copy) and out/inbox/<MaTruongHoc>_<NamHoc>_2.json from dn_dir."""
    dn_dir, out = Path(dn_dir), Path(out)
    inbox = prepare_output(dn_dir, out, "end-of-year")
    rng = random.Random(seed)
    n_schools = n_learners = n_in = n_out = n_dropouts = n_results = n_skipped = 0
    for path in sorted(p for p in (dn_dir / "inbox").glob("*.json") if p.is_file()):
        # One child generator per file, drawn in order: a school depends on the seed and its place.
        school_rng = random.Random(rng.getrandbits(64))
        source = read_payload(path)
        if source is None:
            n_skipped += 1
            continue
        payload = copy.deepcopy(source)
        info = payload.get("TruongHocInfo") or {}
        code = str(payload.get("MaTruongHoc") or info.get("MaTruongHoc"))
        start_year = int(payload.get("NamHoc") or info.get("NamHoc"))
        start, end = dt.date(start_year, 9, 30), dt.date(start_year + 1, 5, 31)
        payload["LoaiDongBo"] = LOAI_DONG_BO
        pupils = [p for p in payload["LstHocSinh"] if isinstance(p, dict)]
        counts = draw_changes(school_rng, pupils, start, end)
        arrivals = draw_arrivals(school_rng, pupils, start, end, code)
        payload["LstHocSinh"] = payload["LstHocSinh"] + arrivals
        distinct_names(payload["LstHocSinh"])
        info["TongSoHocSinh"] = len(payload["LstHocSinh"])  # the school software counts its list
        nutrition_recheck(school_rng, payload["LstHocSinh"], end)
        payload["LstKetQuaHocTap"] = draw_results(school_rng, payload["LstHocSinh"], end)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        (inbox / f"{code}_{start_year}_{LOAI_DONG_BO}.json").write_text(text, encoding="utf-8", newline="\n")
        n_schools += 1
        n_learners += len(payload["LstHocSinh"])
        n_in += len(arrivals)
        n_out += counts["out"]
        n_dropouts += counts["dropout"]
        n_results += len(payload["LstKetQuaHocTap"])
    return EndOfYearSummary(n_schools, n_learners, n_in, n_out, n_dropouts, n_results, n_skipped, out,
                            out / "registry.xlsx", inbox)  # fmt: skip
