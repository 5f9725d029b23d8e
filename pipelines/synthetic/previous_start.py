"""The previous school year's start of year (DN): last year's end of year by cohorts
(previous_year.py) wound back to 30/9, with the population one year earlier."""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.synthetic.folders import LOAI_DONG_BO, prepare_output
from pipelines.synthetic.learners import ARRIVING, LEAVING, read_code, read_date, status_like
from pipelines.synthetic.population import previous_population
from pipelines.synthetic.previous_year import generate_previous_year


@dataclass(frozen=True)
class PreviousStartSummary:
    n_schools: int
    n_learners: int  # enrolled on 30/9 of the previous year
    n_arrivals_dropped: int  # transferred in after 30/9: not yet in the school at the start
    n_leavers_restored: int  # left after 30/9: still studying at the start
    out: Path
    registry: Path
    inbox: Path
    population: Path | None


def rewind_to_start(payload: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """A previous-year end-of-year payload (LoaiDongBo 2) as its school would have sent it at the
    start of that year (LoaiDongBo 1, data as of 30/9): learners who arrived after 30/9 are not in
    it yet, those who left after 30/9 were still studying (TrangThai 01, no date or reason), and
    there are no results. Returns (payload, arrivals dropped, leavers restored)."""
    q = copy.deepcopy(payload)
    info = q.get("TruongHocInfo") if isinstance(q.get("TruongHocInfo"), dict) else {}
    start = dt.date(int(q.get("NamHoc") or info.get("NamHoc")), 9, 30)
    pupils, dropped, restored = [], 0, 0
    for p in q["LstHocSinh"]:
        if not isinstance(p, dict):
            pupils.append(p)
            continue
        status, day = read_code(p.get("TrangThai")), read_date(p.get("NgayTrangThai"))
        if day is not None and day > start and status in ARRIVING:
            dropped += 1
            continue
        if day is not None and day > start and status in LEAVING:
            for key in ("NgayTrangThai", "MaLyDoThoiHoc"):
                p.pop(key, None)
            p["TrangThai"] = status_like("01", p.get("TrangThai"))
            restored += 1
        pupils.append(p)
    q["LstHocSinh"] = pupils
    q.pop("LstKetQuaHocTap", None)
    q["LoaiDongBo"] = 1
    if info:
        info["TongSoHocSinh"] = len(pupils)
    return q, dropped, restored


def generate_previous_start(dn_dir: Path, out: Path, seed: int) -> PreviousStartSummary:
    """The previous school year's start of year (DN) of a generated start-of-year province.

    Like-for-like with this year's DN (same forms, same 30/9 reference date, the indicators are
    defined on the DN forms): `generate_province` with the previous school year and the same seed
    would give the same schools but the same learners too (only the dates shift), so every change
    would be zero. Instead, last year's end of year is built cohort by cohort
    (`generate_previous_year`: this year's pupils one grade lower, last year's leavers, repeaters,
    transfers) and wound back to 30/9 (`rewind_to_start`). Writes out/registry.xlsx (a copy),
    out/inbox/<MaTruongHoc>_<t-1>_1.json and, when dn_dir has one, out/population.csv one year
    earlier (`previous_population`). Deterministic for a seed; this year's files are not touched."""
    import tempfile

    dn_dir, out = Path(dn_dir), Path(out)
    inbox = prepare_output(dn_dir, out, "previous-year")
    with tempfile.TemporaryDirectory(prefix="edustat-cn-") as tmp:
        end = generate_previous_year(dn_dir, Path(tmp), seed)
        n_schools = n_learners = n_dropped = n_restored = 0
        for path in sorted(end.inbox.glob("*.json")):
            payload, dropped, restored = rewind_to_start(json.loads(path.read_text(encoding="utf-8")))
            name = path.name.removesuffix(f"_{LOAI_DONG_BO}.json") + "_1.json"
            text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
            (inbox / name).write_text(text, encoding="utf-8", newline="\n")
            n_schools += 1
            n_learners += len(payload["LstHocSinh"])
            n_dropped += dropped
            n_restored += restored
    population = None
    if (dn_dir / "population.csv").is_file():
        population = previous_population(dn_dir / "population.csv", out / "population.csv")
    return PreviousStartSummary(n_schools, n_learners, n_dropped, n_restored, out, out / "registry.xlsx",
                                inbox, population)  # fmt: skip
