"""A preschool's budget (NganSach, the Ngân sách tab of 01-MN-ĐN): items, their sources and spending
groups in triệu đồng, adding up exactly."""

from __future__ import annotations

import random
from typing import Any

from pipelines.synthetic.plan import SchoolPlan

# Budget items of the tab (codelists/budget_line.csv): item row, its 3 source rows, its 4 group rows.
BUDGET_ITEMS = {"preschool": 16, "other_training": 56, "retraining": 64}
BUDGET_TOTAL_ROW = 15  # II Chi thường xuyên
BUDGET_FIELDS = ("QuyetToanNamTruoc", "DuToan", "UocThucHien")  # settled n-1, estimate n, outturn n


def split(rng: random.Random, total: int, weights: tuple[float, ...]) -> list[int]:
    """Whole parts of `total` roughly in proportion to `weights` (a zero weight gets 0), summing
    exactly to it: the rounding remainder goes to the largest part."""
    raw = [w * rng.uniform(0.8, 1.2) for w in weights]
    parts = [int(total * r / sum(raw)) for r in raw]
    parts[raw.index(max(raw))] += total - sum(parts)
    return parts


def draw_budget(rng: random.Random, plan: SchoolPlan, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The school's NganSach entries (status: inferred), amounts in triệu đồng with up to 3 decimals.

    Every amount is drawn in nghìn đồng (whole numbers), so each item equals its sources and its
    spending groups exactly, and Chi thường xuyên (15) = items 1 + 6 + 7 (items 2-5, other levels,
    are 0 for a preschool). A public preschool spends mostly state money on salaries; a private
    one has a budget only now and then: a small state support (Chi hỗ trợ), else no block at all.
    """
    n_staff, n_children = len(payload["LstCanBo"]), len(payload["LstHocSinh"])
    if plan.private:
        if rng.random() >= 0.2:
            return []
        settled = round(n_staff * rng.uniform(1, 4) * 1000)
        items = {"preschool": (settled, (1, 0, 0), (0, 0, 1, 0))}
    else:
        settled = round((n_staff * rng.uniform(95, 130) + n_children * rng.uniform(1, 2.5)) * 1000)
        items = {"preschool": (settled, (0.88, 0.08, 0.04), (0.75, 0.15, 0.06, 0.04))}
        if rng.random() < 0.6:
            items["retraining"] = (
                round(n_staff * rng.uniform(0.3, 1) * 1000),
                (0.9, 0, 0.1),
                (0.2, 0.7, 0, 0.1),
            )
        if rng.random() < 0.1:
            items["other_training"] = (round(rng.uniform(5, 30) * 1000), (1, 0, 0), (0.3, 0.7, 0, 0))
    lines: dict[int, list[int]] = {}  # row → nghìn đồng per column
    for item, (base, sources, groups) in items.items():
        row = BUDGET_ITEMS[item]
        estimate = round(base * rng.uniform(1.02, 1.12))
        columns = (base, estimate, round(estimate * rng.uniform(0.96, 1.01)))
        for c, total in enumerate(columns):
            parts = [total, *split(rng, total, sources), *split(rng, total, groups)]
            for offset, amount in enumerate(parts):
                lines.setdefault(row + offset, [0, 0, 0])[c] = amount
            lines.setdefault(BUDGET_TOTAL_ROW, [0, 0, 0])[c] += total

    def money(k: int) -> int | float:
        return k // 1000 if k % 1000 == 0 else k / 1000

    return [
        {"MaChiTieu": str(row), **{f: money(k) for f, k in zip(BUDGET_FIELDS, amounts, strict=True)}}
        for row, amounts in sorted(lines.items())
        if any(amounts)
    ]
