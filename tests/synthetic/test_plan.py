"""The province plan: arguments checked, centres and schools counted as planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.synthetic.province import generate_province


@pytest.mark.parametrize(
    ("province", "year", "period"),
    [("99", "2024-2025", "DN"), ("66", "2024-2026", "DN"), ("66", "2024-2025", "CN")],
)
def test_bad_arguments(tmp_path: Path, province: str, year: str, period: str) -> None:
    with pytest.raises(ValueError):
        generate_province(province, year, period, 3, 1, tmp_path)
