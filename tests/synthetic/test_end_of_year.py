"""The end of year derived from a generated start of year: the same learners (plus arrivals) with
dated changes, a result for the learners enrolled at the end, the summary counting what the files
hold, an unreadable file skipped, the same files for the same seed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines.synthetic.end_of_year import generate_end_of_year
from pipelines.synthetic.learners import enrolled_on
from tests.synthetic.conftest import gen, load, two_digits

END = dt.date(2025, 5, 31)
BROKEN = "66643999_2024_1.json"


@pytest.fixture(scope="module")
def end_of_year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("end_of_year")
    gen(folder / "DN", 8, seed=1)
    (folder / "DN" / "inbox" / BROKEN).write_text('{"MaTruongHoc": "66643999", ', encoding="utf-8")
    return folder, generate_end_of_year(folder / "DN", folder / "CN", seed=3)


def test_learners_changes_and_results_as_counted(end_of_year):
    folder, summary = end_of_year
    starts = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "DN" / "inbox").glob("*.json"))
              if p.name != BROKEN}  # fmt: skip
    ends = load(folder / "CN")
    assert (summary.n_schools, summary.n_skipped) == (8, 1) and len(ends) == 8
    n_in = n_out = n_dropouts = n_learners = n_results = 0
    for name, start in starts.items():
        end = ends[name.replace("_2024_1.json", "_2024_2.json")]
        assert (end["NamHoc"], end["LoaiDongBo"]) == (2024, 2)
        assert end["TruongHocInfo"]["TongSoHocSinh"] == len(end["LstHocSinh"])
        before = {p["ClientId"]: p for p in start["LstHocSinh"]}
        kept, arrived = end["LstHocSinh"][: len(before)], end["LstHocSinh"][len(before) :]
        assert [p["ClientId"] for p in kept] == list(before)
        for p in kept:
            status, was = two_digits(p["TrangThai"]), two_digits(before[p["ClientId"]]["TrangThai"])
            if status != was:  # changed during the year: only learners studying at the start
                assert was == "01" and status in ("04", "05", "08", "09", "11", "12")
                n_out += status in ("04", "08")
                n_dropouts += status in ("05", "09")
        for p in arrived:
            assert p["ClientId"] not in before and p["MaHocSinh"].startswith(end["MaTruongHoc"])
            assert two_digits(p["TrangThai"]) in ("02", "06")
        enrolled = {p["ClientId"] for p in end["LstHocSinh"] if enrolled_on(p, END)}
        assert {r["ClientId"] for r in end["LstKetQuaHocTap"]} <= enrolled
        n_in += len(arrived)
        n_learners += len(end["LstHocSinh"])
        n_results += len(end["LstKetQuaHocTap"])
    assert (summary.n_transfers_in, summary.n_transfers_out, summary.n_dropouts) == (n_in, n_out, n_dropouts)
    assert (summary.n_learners, summary.n_results) == (n_learners, n_results)
    assert n_in and n_out and n_dropouts and n_results


def test_same_seed_same_files_and_the_start_untouched(end_of_year, tmp_path):
    folder, summary = end_of_year
    again = generate_end_of_year(folder / "DN", tmp_path / "CN", seed=3)
    assert again.n_learners == summary.n_learners
    for path in sorted((folder / "CN" / "inbox").glob("*.json")):
        assert path.read_bytes() == (tmp_path / "CN" / "inbox" / path.name).read_bytes()
    gen(tmp_path / "DN", 8, seed=1)  # the start of year as generated: its files are not touched
    for path in sorted((tmp_path / "DN" / "inbox").glob("*.json")):
        assert path.read_bytes() == (folder / "DN" / "inbox" / path.name).read_bytes()
