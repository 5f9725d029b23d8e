"""Generate a seeded, realistic synthetic province: a school registry and one JSON per school.

The output follows docs/input-contract.md exactly (registry.xlsx in the import-template layout,
inbox/<MaTruongHoc>_<NamHoc>_<LoaiDongBo>.json), so the whole pipeline can run on it. Every
random draw comes from one `random.Random(seed)`, so the same arguments give the same files.
Names and identifiers are synthetic; codes (provinces, districts, Phòng units, communes, code
lists) are the real shared ones.

This module puts the province together; the parts live beside it: the plan (plan.py), each kind of
institution (schools.py, preschools.py, gdtx.py, with staff.py, rooms.py, budget.py and the shared
payload.py and values.py), defects (defects.py), the registry (registry.py) and the population
(population.py). The files' arrival times: arrivals.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.synthetic.budget import draw_budget
from pipelines.synthetic.defects import DEFECT_KINDS, inject_defect
from pipelines.synthetic.gdtx import gdtx_centre
from pipelines.synthetic.plan import (
    GDTX_KINDS,
    PERIODS,
    PRESCHOOL_KINDS,
    SchoolPlan,
    check_args,
    draw_districts,
    plan_schools,
)
from pipelines.synthetic.population import tally_learners, write_population
from pipelines.synthetic.preschools import preschool
from pipelines.synthetic.registry import registry_row, row_of_test_school, write_registry
from pipelines.synthetic.schools import general_school


@dataclass(frozen=True)
class GenerateSummary:
    n_schools: int
    n_learners: int
    n_staff: int
    n_classes: int
    n_defects: int
    out: Path
    registry: Path
    inbox: Path
    defects: Path


def _school(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The school's JSON payload and the facts its registry row needs."""
    if plan.kind in PRESCHOOL_KINDS:
        return preschool(rng, plan, start_year, loai_dong_bo, province)
    if plan.kind in GDTX_KINDS:
        return gdtx_centre(rng, plan, start_year, loai_dong_bo, province)
    return general_school(rng, plan, start_year, loai_dong_bo, province)


def generate_province(
    province: str,
    school_year: str,
    period: str,
    n_schools: int,
    seed: int,
    out: Path,
    defect_rate: float = 0.0,
) -> GenerateSummary:
    """Write out/registry.xlsx, out/inbox/<MaTruongHoc>_<year>_1.json, out/defects.json and
    out/population.csv."""
    start_year = check_args(province, school_year, period, n_schools)
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be between 0 and 1")
    loai_dong_bo = PERIODS[period]
    rng = random.Random(seed)
    so, districts = draw_districts(province, rng)
    plans = plan_schools(province, districts, n_schools, rng)

    out = Path(out)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rows: list[list[Any]] = []
    defects: list[dict[str, Any]] = []
    n_learners = n_staff = n_classes = 0
    enrolled: dict[str, dict[tuple[int, int], int]] = {}  # Phòng → (age, sex) → learners
    for plan in plans:
        # One child generator per school, drawn in order: each school depends on the seed only.
        school_rng = random.Random(rng.getrandbits(64))
        payload, facts = _school(school_rng, plan, start_year, loai_dong_bo, province)
        if plan.kind in PRESCHOOL_KINDS:
            # Its own stream per school: every other figure stays as it was without a budget.
            budget = draw_budget(random.Random(f"budget-{seed}-{plan.code}"), plan, payload)
            if budget:
                payload["NganSach"] = budget
        n_learners += len(payload["LstHocSinh"])
        n_staff += len(payload["LstCanBo"])
        n_classes += len(payload["LstLopHocInfo"])
        tally_learners(enrolled.setdefault(plan.district.phong, {}), payload["LstHocSinh"], start_year)
        file_name = f"{plan.code}_{start_year}_{loai_dong_bo}.json"
        kind = rng.choice(DEFECT_KINDS) if defect_rate and rng.random() < defect_rate else None
        entity = index = field = None
        if kind:
            entity, index, field = inject_defect(rng, payload, kind)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        if kind == "malformed_file":
            text = text[: len(text) // 2]
        (inbox / file_name).write_text(text, encoding="utf-8", newline="\n")
        if kind:
            defects.append({"school_code": plan.code, "file": file_name, "kind": kind,
                            "entity": entity, "record_index": index, "field": field})  # fmt: skip
        rows.append(registry_row(rng, plan, facts, so, province))

    # A test school, as real exports carry: a registry row with no payload.
    rows.insert(rng.randint(0, len(rows)), row_of_test_school(province, districts[0], so))
    registry = out / "registry.xlsx"
    write_registry(registry, rows)
    write_population(out / "population.csv", so, enrolled, start_year, seed)
    defects_path = out / "defects.json"
    defects_path.write_text(
        json.dumps(defects, ensure_ascii=False, indent=1) + "\n", encoding="utf-8", newline="\n"
    )
    return GenerateSummary(
        n_schools=len(plans),
        n_learners=n_learners,
        n_staff=n_staff,
        n_classes=n_classes,
        n_defects=len(defects),
        out=out,
        registry=registry,
        inbox=inbox,
        defects=defects_path,
    )
