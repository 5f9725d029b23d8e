"""The previous school year's end of year (CN) derived from a generated start-of-year province:
cohort-consistent with it, clean through the pipeline, deterministic for a seed."""

from __future__ import annotations

import json

import pytest

from pipelines import generate, generate_eoy, pipeline, warehouse
from pipelines import settings as settings_mod


def _load(folder):
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "inbox").glob("*.json"))
    }


def _code(value):
    return f"{int(value):02d}"


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("previous_year")
    generate.generate_province("66", "2024-2025", "DN", 6, 3, tmp_path / "DN", 0.0)
    summary = generate_eoy.generate_previous_year(tmp_path / "DN", tmp_path / "PY", seed=3)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2023-2024", "CN", tmp_path / "PY" / "registry.xlsx", tmp_path / "PY" / "inbox",
                                 tmp_path / "warehouse.duckdb", tmp_path / "out", run_id="test-run",
                                 processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return tmp_path, summary, s


def test_previous_year_files_parse_as_last_years_end(previous):
    folder, summary, _ = previous
    files = _load(folder / "PY")
    assert summary.n_schools == len(files) > 0
    assert summary.n_leavers and summary.n_repeaters and summary.n_results
    assert (folder / "PY" / "registry.xlsx").is_file()
    for name, payload in files.items():
        assert name.endswith("_2023_2.json")
        assert payload["NamHoc"] == 2023 and payload["LoaiDongBo"] == 2
        assert payload["TruongHocInfo"]["NamHoc"] == 2023
        classes = {c["MaLopHoc"]: _code(c["KhoiHoc"]) for c in payload["LstLopHocInfo"]}
        assert all(classes[p["MaLopHocDn"]] == _code(p["KhoiHoc"]) for p in payload["LstHocSinh"])


def test_pupils_of_this_year_were_last_year_one_grade_lower_or_repeating(previous):
    folder, _, _ = previous
    now, before = _load(folder / "DN"), _load(folder / "PY")
    promoted = repeated = 0
    for name, payload in now.items():
        last = before.get(name.replace("_2024_1.json", "_2023_2.json"))
        if last is None:  # preschool and GDTX files are not written
            continue
        learners = {p["ClientId"]: p for p in last["LstHocSinh"]}
        results = {r["ClientId"]: r for r in last["LstKetQuaHocTap"]}
        for p in payload["LstHocSinh"]:
            status, entry = _code(p["TrangThai"]), _code(p["LoaiNhapHoc"])
            if status == "02":
                assert p["ClientId"] not in learners  # transferred in this year
            elif _code(p["KhoiHoc"]) == "02" and entry == "04":
                q = learners[p["ClientId"]]
                assert (_code(q["KhoiHoc"]), q["MaHocSinh"]) == ("01", p["MaHocSinh"])
                assert results[p["ClientId"]]["LenLop"] == 1
                promoted += 1
            elif entry == "03":
                assert _code(learners[p["ClientId"]]["KhoiHoc"]) == _code(p["KhoiHoc"])
                assert results[p["ClientId"]]["LenLop"] == 2
                repeated += 1
    assert promoted and repeated


def test_previous_year_runs_clean(previous):
    _, summary, s = previous
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM result").fetchall() == [(summary.n_results,)]


def test_previous_year_is_deterministic(previous, tmp_path):
    folder, summary, _ = previous
    again = generate_eoy.generate_previous_year(folder / "DN", tmp_path / "PY", seed=3)
    assert again.n_results == summary.n_results
    for path in sorted((folder / "PY" / "inbox").glob("*.json")):
        assert path.read_bytes() == (tmp_path / "PY" / "inbox" / path.name).read_bytes()


def test_cli_generates_the_previous_year(previous, tmp_path, capsys):
    from pipelines import cli

    folder, _, _ = previous
    assert cli.main(["generate", "--period", "CN", "--previous-year", "--from-dn", str(folder / "DN"),
                     "--seed", "3", "--out", str(tmp_path / "prev")]) == 0  # fmt: skip
    for path in (folder / "PY" / "inbox").glob("*.json"):
        assert path.read_bytes() == (tmp_path / "prev" / "inbox" / path.name).read_bytes()
    assert "cuối năm học trước" in capsys.readouterr().out
    assert cli.main(["generate", "--period", "DN", "--previous-year", "--out", str(tmp_path / "x")]) == 2
