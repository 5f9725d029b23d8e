"""Settings resolved once at the edge: the period's as-of date decides the regime and the boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import settings


@pytest.mark.parametrize(("school_year", "period", "as_of", "regime", "boundaries"), [
    ("2024-2025", "DN", date(2024, 9, 30), "tt24", "2024"),
    ("2024-2025", "CN", date(2025, 5, 31), "tt25", "2024"),  # TT 25/2024 in force from 9/2/2025
    ("2025-2026", "DN", date(2025, 9, 30), "tt25", "2025"),  # no district level from 1/7/2025
])  # fmt: skip
def test_regime_and_boundaries_follow_the_as_of_date(
    tmp_path, school_year, period, as_of, regime, boundaries
):
    s = settings.resolve(school_year, period, tmp_path / "r.xlsx", tmp_path / "inbox", tmp_path / "w.duckdb")
    assert (s.as_of, s.regime, s.boundaries) == (as_of, regime, boundaries)


@pytest.mark.parametrize("text", ["2024", "2024-2026", "24-25", "2024/2025"])
def test_a_school_year_must_be_two_consecutive_years(text):
    with pytest.raises(ValueError, match="2024-2025"):
        settings.parse_school_year(text)


def test_unknown_period_regime_or_boundaries_are_refused(tmp_path):
    args = ("2024-2025", "DN", tmp_path / "r.xlsx", tmp_path / "inbox", tmp_path / "w.duckdb")
    with pytest.raises(ValueError, match="DN, CN"):
        settings.resolve("2024-2025", "GK", *args[2:])
    with pytest.raises(ValueError, match="tt24, tt25"):
        settings.resolve(*args, regime="tt99")
    with pytest.raises(ValueError, match="2024, 2025"):
        settings.resolve(*args, boundaries="2030")


def test_the_pseudonym_key_comes_from_the_environment_else_a_private_file_beside_the_warehouse(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(settings.KEY_ENV, raising=False)
    first = settings.pseudonym_key(tmp_path / "w.duckdb")
    key_file = tmp_path / ".pseudonym_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert settings.pseudonym_key(tmp_path / "w.duckdb") == first  # stable across runs
    monkeypatch.setenv(settings.KEY_ENV, "from-the-environment")
    assert settings.pseudonym_key(tmp_path / "w.duckdb") == b"from-the-environment"
