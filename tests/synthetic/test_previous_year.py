"""The previous school year's end of year (CN) derived from a generated start-of-year province:
cohort-consistent with it for general schools, preschools and GDTX centres, with dated transfers
in and out during the year, clean through the pipeline, deterministic for a seed.

The province (25 institutions, seed 5) holds primary, PTCS, THCS and THPT schools, preschools of
every kind generated (mầm non, mẫu giáo) and the provincial GDTX centre. This year = 2024-2025 (DN,
as of 30/9/2024); last year = 2023-2024, as of 31/5/2024, its changes dated after 30/9/2023."""

from __future__ import annotations

import pytest

from pipelines import warehouse
from pipelines.synthetic import province as generate
from pipelines.synthetic.previous_year import PreviousYearSummary, generate_previous_year
from tests.synthetic.conftest import END, SEMESTER_2, START, date_of, kind_of, load, pairs, two_digits

pytestmark = pytest.mark.slow  # generates and runs a province of two school years


def test_every_school_gets_last_years_end_file(previous):
    folder, summary, _ = previous
    files = load(folder / "PY")
    kinds = {kind_of(p) for _, p, _ in pairs(folder)}
    assert kinds == {"general", "MN", "GDTX"}  # the province exercises every ladder
    assert summary.n_schools == len(files) == len(load(folder / "DN"))  # preschools and GDTX too
    assert summary.n_empty == summary.n_skipped == 0
    assert summary.n_leavers and summary.n_repeaters and summary.n_results
    assert summary.n_transfers_in and summary.n_transfers_out and summary.n_dropouts
    assert (folder / "PY" / "registry.xlsx").is_file()
    for name, payload in files.items():
        assert name.endswith("_2023_2.json")
        assert payload["NamHoc"] == 2023 and payload["LoaiDongBo"] == 2
        assert payload["TruongHocInfo"]["NamHoc"] == 2023
        classes = {c["MaLopHoc"]: two_digits(c["KhoiHoc"]) for c in payload["LstLopHocInfo"]}
        assert all(classes[p["MaLopHocDn"]] == two_digits(p["KhoiHoc"]) for p in payload["LstHocSinh"])
        assert payload["TruongHocInfo"]["TongSoHocSinh"] == len(payload["LstHocSinh"])


def test_transfers_and_dropouts_during_last_year(previous):
    """Transfers out and dropouts are dated in last year (semester code by date), are not in this
    year's file, and dropouts carry a reason; transfers in are dated in last year, carry
    LoaiNhapHoc 1 and are in this year's file of the same school; the summary counts them."""
    folder, summary, _ = previous
    n_in = n_out = n_drop = 0
    kinds_in, kinds_out = set(), set()
    for now, last, kind in pairs(folder):
        ids_now = {p["ClientId"] for p in now["LstHocSinh"]}
        national_now = {p["MaHocSinh"] for p in now["LstHocSinh"]}
        for q in last["LstHocSinh"]:
            status = two_digits(q["TrangThai"])
            if status == "01":
                assert "NgayTrangThai" not in q
                continue
            day = date_of(q["NgayTrangThai"])
            if status in ("04", "05", "08", "09"):
                assert START < day <= END
                assert status in (("04", "05") if day < SEMESTER_2 else ("08", "09"))
                assert q["ClientId"] not in ids_now and q["MaHocSinh"] not in national_now
                if status in ("05", "09"):
                    assert q["MaLyDoThoiHoc"]
                    n_drop += 1
                else:
                    n_out += 1
                    kinds_out.add(kind)
            elif status in ("02", "06"):
                assert START < day <= END
                assert status == ("02" if day < SEMESTER_2 else "06")
                assert two_digits(q["LoaiNhapHoc"]) == "01" and q["ClientId"] in ids_now
                n_in += 1
                kinds_in.add(kind)
            else:  # left in the summer after 31/5: counted at the end
                assert status in ("11", "12") and END < day and q["ClientId"] not in ids_now
    assert (n_in, n_out, n_drop) == (summary.n_transfers_in, summary.n_transfers_out, summary.n_dropouts)
    assert kinds_out == {"general", "MN", "GDTX"} and {"general", "MN"} <= kinds_in


def test_previous_year_runs_clean(previous):
    _, summary, s = previous
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM result").fetchall() == [(summary.n_results,)]


def _changes_by_status(folder, kind, statuses):
    """Learners of the files of a kind with one of the statuses (general schools: grades 1-5)."""
    return sum(
        1
        for _, last, k in pairs(folder)
        if k == kind
        for q in last["LstHocSinh"]
        if two_digits(q["TrangThai"]) in statuses and (k != "general" or two_digits(q["KhoiHoc"]) <= "05")
    )


# Row codes of (start, transfers in, re-admitted, transfers out, dropouts, end) in each form.
CHANGE_ROWS = {
    "01-MN-CN": (1, 2, 3, 4, 5, 6),
    "05-GDTX-CN": (1, 2, 3, 4, 5, 6),
    "02-TH-CN": (1, 7, 8, 9, 10, 11),
}


@pytest.mark.parametrize(
    ("form", "kind"),
    [("01-MN-CN", "MN"), ("05-GDTX-CN", "GDTX"), ("02-TH-CN", "general")],
)
def test_end_of_year_forms_count_last_years_changes(previous, form, kind):
    """The Sở's transfer and dropout rows equal the dated changes of the files (02-TH-CN: of grades
    1-5), the start + in + re-admitted = end + out + dropouts balance holds, and none of the form's
    relations is broken."""
    folder, _, s = previous
    with warehouse.connect(s.warehouse) as con:
        cells = dict(
            con.execute(
                "SELECT row_code, value FROM cells WHERE form = ? AND level = 'so' AND col_key = 'T.all'",
                [form],
            ).fetchall()
        )
        broken = con.execute("SELECT count(*) FROM relation_violations WHERE form = ?", [form]).fetchone()[0]
    assert broken == 0
    start, arrived, readmitted, out, dropouts, end = (cells.get(r, 0) for r in CHANGE_ROWS[form])
    assert arrived == _changes_by_status(folder, kind, {"02", "06"}) > 0
    assert out == _changes_by_status(folder, kind, {"04", "08"}) > 0
    assert dropouts == _changes_by_status(folder, kind, {"05", "09"}) > 0
    assert readmitted == 0
    assert start + arrived == end + out + dropouts > 0


def test_cohort_indicators_take_last_years_completers(previous):
    """TH.completion_rate and THCS.completion_rate (the cohort rates; issue 16 gave the name
    graduation rate to graduates over the year's candidates) of 2023-2024 count last year's grade-5 completers
    and grade-9 graduates of the files (every one enrolled on 31/5); their denominators (grade 1 of
    2019-2020, grade 6 of 2020-2021) are not in the warehouse, so the rates are not computable."""
    folder, _, s = previous
    completers = graduates = 0
    for _, last, kind in pairs(folder):
        if kind != "general":
            continue
        grades = {q["ClientId"]: two_digits(q["KhoiHoc"]) for q in last["LstHocSinh"]}
        for r in last["LstKetQuaHocTap"]:
            completers += grades[r["ClientId"]] == "05" and r.get("HoanThanhChuongTrinh") == 1
            graduates += grades[r["ClientId"]] == "09" and r.get("TotNghiep") == 1
    with warehouse.connect(s.warehouse) as con:
        got = {
            i: (num, value)
            for i, num, value in con.execute(
                "SELECT indicator_id, numerator, value FROM indicators WHERE level = 'so' AND indicator_id IN "
                "('TH.completion_rate', 'THCS.completion_rate')"
            ).fetchall()
        }
    assert completers > 0 and graduates > 0
    assert got == {"TH.completion_rate": (completers, None), "THCS.completion_rate": (graduates, None)}


def test_previous_year_is_deterministic(previous, tmp_path):
    folder, summary, _ = previous
    again = generate_previous_year(folder / "DN", tmp_path / "PY", seed=5)
    assert again == PreviousYearSummary(**{**summary.__dict__, "out": tmp_path / "PY",
                                                        "registry": tmp_path / "PY" / "registry.xlsx",
                                                        "inbox": tmp_path / "PY" / "inbox"})  # fmt: skip
    for path in sorted((folder / "PY" / "inbox").glob("*.json")):
        assert path.read_bytes() == (tmp_path / "PY" / "inbox" / path.name).read_bytes()


def test_this_years_files_are_untouched(previous):
    folder, _, _ = previous
    dn_again = folder / "DN-again"
    generate.generate_province("66", "2024-2025", "DN", 25, 5, dn_again, 0.0)
    for path in sorted((folder / "DN" / "inbox").glob("*.json")):
        assert path.read_bytes() == (dn_again / "inbox" / path.name).read_bytes()


def test_cli_generates_the_previous_year(previous, tmp_path, capsys):
    from pipelines import cli

    folder, _, _ = previous
    assert cli.main(["generate", "--period", "CN", "--previous-year", "--from-dn", str(folder / "DN"),
                     "--seed", "5", "--out", str(tmp_path / "prev")]) == 0  # fmt: skip
    for path in (folder / "PY" / "inbox").glob("*.json"):
        assert path.read_bytes() == (tmp_path / "prev" / "inbox" / path.name).read_bytes()
    assert "cuối năm học trước" in capsys.readouterr().out
    assert cli.main(["generate", "--period", "DN", "--previous-year", "--out", str(tmp_path / "x")]) == 2
