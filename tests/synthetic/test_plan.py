"""The province plan: arguments checked, centres and schools counted as planned."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipelines.synthetic.plan import (
    GDTX_KINDS,
    KINDS,
    PRESCHOOL_KINDS,
    check_args,
    draw_districts,
    n_gdtx_centres,
    plan_schools,
)
from pipelines.synthetic.province import generate_province


@pytest.mark.parametrize(
    ("province", "year", "period"),
    [("99", "2024-2025", "DN"), ("66", "2024-2026", "DN"), ("66", "2024-2025", "CN")],
)
def test_bad_arguments(tmp_path: Path, province: str, year: str, period: str) -> None:
    with pytest.raises(ValueError):
        generate_province(province, year, period, 3, 1, tmp_path)


@pytest.mark.parametrize(
    ("n_schools", "n_districts", "centres"),
    # Under 20 none; else 1 % of the schools, at least one, at most one plus one per four districts.
    [(19, 40, 0), (20, 40, 1), (200, 10, 2), (340, 40, 3), (500, 10, 3), (1000, 8, 3)],
)
def test_gdtx_centres_counted(n_schools: int, n_districts: int, centres: int) -> None:
    assert n_gdtx_centres(n_schools, n_districts) == centres


def test_plan_places_every_school_once_with_the_provincial_centre_first() -> None:
    rng = random.Random(9)
    so, districts = draw_districts("66", rng)
    plans = plan_schools("66", districts, 60, rng)
    assert so == "66" and len(plans) == 60
    assert len({p.code for p in plans}) == 60
    codes = {d.code for d in districts}
    assert all(p.code[:2] == "66" and p.code[2:5] == p.district.code in codes for p in plans)
    assert [p.kind for p in plans if p.kind in GDTX_KINDS] == ["GDTXT"] == [plans[0].kind]
    assert plans[0].district is districts[0] and not districts[0].mountain  # the city
    for p in plans:
        assert p.kind in KINDS
        assert p.ownership_code == (p.loai_hinh or ("09" if p.private else "01"))
        if p.kind in PRESCHOOL_KINDS:
            assert p.category == "13" and p.loai_hinh in ("01", "03", "09")
            assert p.private == (p.loai_hinh != "01")
    with pytest.raises(ValueError):
        check_args("66", "2024-2025", "DN", 0)
    assert check_args("66", "2024-2025", "DN", 1) == 2024
