"""The preschool budget: every item equals its sources and its spending groups, Chi thường xuyên
(row 15) is the sum of the items, and a private preschool gets at most a state support."""

from __future__ import annotations

import random

from pipelines.synthetic.budget import BUDGET_FIELDS, draw_budget
from tests.synthetic.conftest import plan_of

PAYLOAD = {"LstCanBo": [{}] * 12, "LstHocSinh": [{}] * 150}


def _thousands(entries):
    """row -> (amount per column in nghìn đồng)."""
    return {int(e["MaChiTieu"]): [round(e[f] * 1000) for f in BUDGET_FIELDS] for e in entries}


def test_public_preschool_items_equal_their_sources_and_groups_and_add_up_to_row_15():
    for seed in range(50):
        lines = _thousands(draw_budget(random.Random(seed), plan_of("MN", category="13"), PAYLOAD))
        items = [row for row in (16, 56, 64) if row in lines]
        assert 16 in items
        for c in range(3):
            for row in items:
                sources = sum(lines.get(row + k, [0, 0, 0])[c] for k in (1, 2, 3))
                groups = sum(lines.get(row + k, [0, 0, 0])[c] for k in (4, 5, 6, 7))
                assert lines[row][c] == sources == groups > 0
            assert lines[15][c] == sum(lines[row][c] for row in items)


def test_private_preschool_has_no_budget_or_only_a_state_support():
    seen = set()
    for seed in range(100):
        entries = draw_budget(
            random.Random(seed), plan_of("MN", private=True, category="13", loai_hinh="09"), PAYLOAD
        )
        lines = _thousands(entries)
        if lines:
            # Item 1 from the state budget (row 17), spent as Chi hỗ trợ (row 22): all four equal.
            assert set(lines) == {15, 16, 17, 22}
            assert lines[15] == lines[16] == lines[17] == lines[22]
        seen.add(bool(lines))
    assert seen == {True, False}
