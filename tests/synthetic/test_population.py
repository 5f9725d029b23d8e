"""population.csv: learners tallied by age and sex, and the file one calendar year earlier."""

from __future__ import annotations

from pipelines.synthetic.population import previous_population


def test_previous_population_is_this_years_one_calendar_year_earlier(tmp_path):
    (tmp_path / "population.csv").write_text(
        "level,unit_code,year,age,sex,population\n"
        "phong,643,2024,0,01,100\nphong,643,2024,1,01,110\nphong,643,2024,2,01,120\n"
        "phong,643,2024,0,02,90\nphong,643,2024,1,02,95\nphong,643,2024,2,02,97\n",
        encoding="utf-8",
    )
    out = previous_population(tmp_path / "population.csv", tmp_path / "before.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[1:] == [
        "phong,643,2023,0,01,100", "phong,643,2023,1,01,110", "phong,643,2023,2,01,120",
        "phong,643,2023,0,02,90", "phong,643,2023,1,02,95", "phong,643,2023,2,02,97",
    ]  # fmt: skip
