"""population.csv: each Phòng's population by single age 0-25 and sex (and the Sở's, their sum), drawn
around what the generated schools enrol; and the same file one calendar year earlier."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from typing import Any

# Population (docs/input-contract.md, "Population"): per age band, the share of the population the
# generated schools enrol (first age, last age, lowest and highest share). A Phòng's population of
# an age and sex is the band's mean enrolment per age over a share drawn in that range, so gross
# enrolment comes out near 95-105 % in primary and lower in upper secondary; ages 18-25 follow 15-17.
POPULATION_BANDS = ((0, 2, 0.2, 0.3), (3, 5, 0.85, 0.95), (6, 10, 0.93, 1.02), (11, 14, 0.85, 0.95),
                    (15, 17, 0.6, 0.72))  # fmt: skip
POPULATION_MAX_AGE = 25


def tally_learners(
    tally: dict[tuple[int, int], int], learners: list[dict[str, Any]], start_year: int
) -> None:
    """Count learners by (age, sex), age = start year − year of birth."""
    for p in learners:
        year = re.search(r"\d{4}", str(p.get("NgaySinh") or ""))
        sex = str(p.get("GioiTinh") or "").lstrip("0")
        if year and sex in ("1", "2"):
            age = start_year - int(year.group())
            if 0 <= age <= POPULATION_MAX_AGE:
                tally[(age, int(sex))] = tally.get((age, int(sex)), 0) + 1


def write_population(path: Path, so: str, enrolled: dict[str, dict[tuple[int, int], int]], start_year: int,
                      seed: int) -> None:  # fmt: skip
    """population.csv: each Phòng's population by single age 0-25 and sex, and the Sở's (their sum)."""
    rng = random.Random(f"population-{seed}")  # its own stream: the schools stay as they were
    rows: list[tuple[str, str, int, int, str, int]] = []
    total: dict[tuple[int, int], int] = {}
    for phong in sorted(enrolled, key=lambda c: (len(c), c)):
        tally = enrolled[phong]
        pop: dict[tuple[int, int], int] = {}
        for sex in (1, 2):
            bases = {}
            for lo, hi, low, high in POPULATION_BANDS:
                mean = sum(tally.get((a, sex), 0) for a in range(lo, hi + 1)) / (hi - lo + 1)
                bases[(lo, hi)] = mean / rng.uniform(low, high) if mean else 0.0
            # A band no school of the district teaches gets a token population (3 % of the others'
            # mean): the synthetic province places that level's pupils in other districts, and the
            # Sở's rates stay near the shares drawn above.
            known = [b for b in bases.values() if b] or [40.0]
            fallback = 0.03 * sum(known) / len(known)
            for (lo, hi), base in bases.items():
                for a in range(lo, hi + 1):
                    pop[(a, sex)] = max(1, round((base or fallback) * rng.uniform(0.96, 1.04)))
            older = sum(pop[(a, sex)] for a in (15, 16, 17)) / 3
            for a in range(18, POPULATION_MAX_AGE + 1):
                pop[(a, sex)] = max(1, round(older * rng.uniform(0.95, 1.05)))
        for (a, sex), n in sorted(pop.items()):
            rows.append(("phong", phong, start_year, a, f"0{sex}", n))
            total[(a, sex)] = total.get((a, sex), 0) + n
    rows += [("so", so, start_year, a, f"0{sex}", n) for (a, sex), n in sorted(total.items())]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("level,unit_code,year,age,sex,population\n")
        fh.writelines(",".join(map(str, r)) + "\n" for r in rows)


def previous_population(path: Path, out: Path) -> Path:
    """population.csv one calendar year earlier with the same sizes by unit, age and sex. The
    synthetic population is drawn band by band (write_population, above), so moving cohorts one
    age down would carry the jumps between bands into the enrolment rates; a stable population keeps
    last year's rates driven by last year's pupils."""
    with path.open(encoding="utf-8", newline="") as fh:  # closed here, not by the garbage collector
        rows = list(csv.DictReader(fh))
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("level,unit_code,year,age,sex,population\n")
        for r in rows:
            fh.write(
                f"{r['level']},{r['unit_code']},{int(r['year']) - 1},{r['age']},{r['sex']},{r['population']}\n"
            )
    return out
