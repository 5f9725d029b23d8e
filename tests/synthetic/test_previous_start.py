"""The previous year's start: last year's end file wound back to 30/9, through the API and the CLI."""

from __future__ import annotations

from pipelines.synthetic.learners import enrolled_on
from pipelines.synthetic.previous_start import generate_previous_start, rewind_to_start
from tests.synthetic.conftest import START, date_of, load, two_digits


def test_rewind_to_start_keeps_who_was_there_on_30_september():
    """Last year's end file of a school, wound back to 30/9/2023: the pupil who arrived in November is
    not there yet, the two who left after 30/9 were still studying, the one who arrived in September
    stays as sent; results go, and the file becomes a start-of-year one."""
    end_file = {
        "MaTruongHoc": "66643001", "NamHoc": 2023, "LoaiDongBo": 2,
        "TruongHocInfo": {"MaTruongHoc": "66643001", "NamHoc": 2023, "TongSoHocSinh": 5},
        "LstHocSinh": [
            {"ClientId": "staying", "KhoiHoc": 3, "TrangThai": 1},
            {"ClientId": "arrived-november", "KhoiHoc": 3, "TrangThai": "02",
             "NgayTrangThai": "2023-11-05T00:00:00.0", "LoaiNhapHoc": "1"},
            {"ClientId": "moved-february", "KhoiHoc": 4, "TrangThai": 4, "NgayTrangThai": "2024-02-01T00:00:00.0"},
            {"ClientId": "dropped-december", "KhoiHoc": 5, "TrangThai": "05",
             "NgayTrangThai": "01/12/2023", "MaLyDoThoiHoc": "01"},
            {"ClientId": "arrived-september", "KhoiHoc": 2, "TrangThai": "02",
             "NgayTrangThai": "2023-09-10T00:00:00.0"},
        ],
        "LstKetQuaHocTap": [{"ClientId": "staying", "KetQuaHocTap": "HT", "LenLop": 1}],
    }  # fmt: skip
    start, dropped, restored = rewind_to_start(end_file)
    assert (dropped, restored) == (1, 2)
    assert [p["ClientId"] for p in start["LstHocSinh"]] == [
        "staying", "moved-february", "dropped-december", "arrived-september"
    ]  # fmt: skip
    moved, dropout = start["LstHocSinh"][1], start["LstHocSinh"][2]
    assert moved == {"ClientId": "moved-february", "KhoiHoc": 4, "TrangThai": 1}  # the file's integer style
    assert dropout == {"ClientId": "dropped-december", "KhoiHoc": 5, "TrangThai": "01"}
    assert start["LstHocSinh"][3]["TrangThai"] == "02"
    assert start["LoaiDongBo"] == 1 and "LstKetQuaHocTap" not in start
    assert start["TruongHocInfo"]["TongSoHocSinh"] == 4
    assert end_file["LoaiDongBo"] == 2 and len(end_file["LstHocSinh"]) == 5  # the input is not changed


def test_previous_start_is_last_years_end_on_30_september(previous, tmp_path):
    """generate_previous_start: the same schools as last year's end file, each holding exactly the
    learners that file has enrolled on 30/9/2023, as a start-of-year file of 2023."""
    folder, _, _ = previous
    summary = generate_previous_start(folder / "DN", tmp_path / "PS", seed=5)
    ends = load(folder / "PY")
    starts = load(tmp_path / "PS")
    assert sorted(starts) == sorted(name.replace("_2023_2.json", "_2023_1.json") for name in ends)
    n = 0
    for name, end in ends.items():
        start = starts[name.replace("_2023_2.json", "_2023_1.json")]
        there = [p["ClientId"] for p in end["LstHocSinh"] if enrolled_on(p, START)]
        assert [p["ClientId"] for p in start["LstHocSinh"]] == there
        assert start["LoaiDongBo"] == 1 and start["NamHoc"] == 2023
        assert all(
            two_digits(p["TrangThai"]) == "01" or date_of(p["NgayTrangThai"]) <= START
            for p in start["LstHocSinh"]
        )
        n += len(there)
    assert summary.n_learners == n and summary.n_schools == len(ends)
    assert (tmp_path / "PS" / "registry.xlsx").read_bytes() == (folder / "DN" / "registry.xlsx").read_bytes()
    assert summary.population is not None and summary.population.read_text().count(",2023,") > 0


def test_cli_generates_the_previous_start(previous, tmp_path, capsys):
    from pipelines import cli

    folder, _, _ = previous
    assert cli.main(["generate", "--period", "DN", "--previous-year", "--from-dn", str(folder / "DN"),
                     "--seed", "5", "--out", str(tmp_path / "start")]) == 0  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "start" / "inbox").glob("*.json"))
    assert names == sorted(
        p.name.replace("_2023_2.json", "_2023_1.json") for p in (folder / "PY" / "inbox").glob("*.json")
    )
    assert "đầu năm học trước" in capsys.readouterr().out
    assert cli.main(["generate", "--period", "DN", "--previous-year", "--from-dn", str(tmp_path / "none"),
                     "--out", str(tmp_path / "x")]) == 2  # fmt: skip
