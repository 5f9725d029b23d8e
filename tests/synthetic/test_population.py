"""population.csv: learners tallied by age and sex, and the file one calendar year earlier."""

from __future__ import annotations

import csv

from pipelines.synthetic.population import previous_population, tally_learners, write_population


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


def test_learners_tallied_by_age_and_sex():
    tally = {}
    learners = [
        {"NgaySinh": "2018-05-01T00:00:00.0", "GioiTinh": "02"},
        {"NgaySinh": "01/02/2018", "GioiTinh": 2},
        {"NgaySinh": "2019-12-31", "GioiTinh": "1"},
        {"NgaySinh": "1990-01-01", "GioiTinh": 1},  # 34: past the last age
        {"NgaySinh": None, "GioiTinh": 1},
        {"NgaySinh": "2018-01-01", "GioiTinh": 3},
    ]
    tally_learners(tally, learners, 2024)
    tally_learners(tally, learners[:1], 2024)
    assert tally == {(6, 2): 3, (5, 1): 1}


def test_population_of_every_age_and_sex_the_so_the_sum_of_its_phongs(tmp_path):
    enrolled = {"643": {(6, 1): 120, (6, 2): 110, (4, 1): 60}, "1": {(16, 2): 40}}
    write_population(tmp_path / "a.csv", "66", enrolled, 2024, seed=4)
    write_population(tmp_path / "b.csv", "66", enrolled, 2024, seed=4)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with (tmp_path / "a.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cells = {(r["level"], r["unit_code"], int(r["age"]), r["sex"]): int(r["population"]) for r in rows}
    assert {r["year"] for r in rows} == {"2024"}
    assert [u for u in dict.fromkeys(r["unit_code"] for r in rows)] == [
        "1",
        "643",
        "66",
    ]  # Phòng by code, then Sở
    for unit, level in (("643", "phong"), ("1", "phong"), ("66", "so")):
        assert {(a, s) for (lv, u, a, s) in cells if u == unit} == {
            (a, s) for a in range(26) for s in ("01", "02")
        }
        assert all(cells[(level, unit, a, s)] >= 1 for a in range(26) for s in ("01", "02"))
    for a in range(26):
        for s in ("01", "02"):
            assert cells[("so", "66", a, s)] == cells[("phong", "643", a, s)] + cells[("phong", "1", a, s)]
    # 120 boys aged 6 in a band (6-10) the schools enrol at 93-102 %: the band's mean over the share.
    assert 120 / 5 / 1.02 * 0.96 - 1 <= cells[("phong", "643", 6, "01")] <= 120 / 5 / 0.93 * 1.04 + 1
