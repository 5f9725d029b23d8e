"""The previous school year's end of year (CN) derived from a generated start-of-year province:
cohort-consistent with it for general schools, preschools and GDTX centres, with dated transfers
in and out during the year, clean through the pipeline, deterministic for a seed.

The province (25 institutions, seed 5) holds primary, PTCS, THCS and THPT schools, preschools of
every kind generated (mầm non, mẫu giáo) and the provincial GDTX centre. This year = 2024-2025 (DN,
as of 30/9/2024); last year = 2023-2024, as of 31/5/2024, its changes dated after 30/9/2023."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pipelines import run as pipeline
from pipelines import settings as settings_mod
from pipelines import warehouse
from pipelines.synthetic import province as generate
from pipelines.synthetic.learners import enrolled_on
from pipelines.synthetic.population import previous_population
from pipelines.synthetic.previous_start import generate_previous_start, rewind_to_start
from pipelines.synthetic.previous_year import PreviousYearSummary, generate_previous_year

START, END = dt.date(2023, 9, 30), dt.date(2024, 5, 31)  # last year's start and as-of dates
SEMESTER_2 = dt.date(2024, 1, 16)
BANDS = ("01", "02", "03", "04", "05", "06")
GDTX = {"13", "14", "15", "18", "19", "23"}


def _load(folder):
    return {
        p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "inbox").glob("*.json"))
    }


def _code(value):
    return None if value is None else f"{int(float(value)):02d}"


def _day(value):
    return dt.date.fromisoformat(str(value)[:10])


def _kind(payload):
    codes = {_code(p["KhoiHoc"]) for p in payload["LstHocSinh"]}
    if codes <= {"16", "17"}:
        return "MN"
    return "GDTX" if codes <= GDTX else "general"


def _pairs(folder):
    """(this year's DN payload, last year's CN payload, kind) per school."""
    now, before = _load(folder / "DN"), _load(folder / "PY")
    return [(p, before[name.replace("_2024_1.json", "_2023_2.json")], _kind(p)) for name, p in now.items()]


def _truthy(value):
    return str(value) in ("1", "True", "true")


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("previous_year")
    generate.generate_province("66", "2024-2025", "DN", 25, 5, tmp_path / "DN", 0.0)
    summary = generate_previous_year(tmp_path / "DN", tmp_path / "PY", seed=5)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2023-2024", "CN", tmp_path / "PY" / "registry.xlsx", tmp_path / "PY" / "inbox",
                                 tmp_path / "warehouse.duckdb", tmp_path / "out", run_id="test-run",
                                 processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return tmp_path, summary, s


def test_every_school_gets_last_years_end_file(previous):
    folder, summary, _ = previous
    files = _load(folder / "PY")
    kinds = {_kind(p) for _, p, _ in _pairs(folder)}
    assert kinds == {"general", "MN", "GDTX"}  # the province exercises every ladder
    assert summary.n_schools == len(files) == len(_load(folder / "DN"))  # preschools and GDTX too
    assert summary.n_empty == summary.n_skipped == 0
    assert summary.n_leavers and summary.n_repeaters and summary.n_results
    assert summary.n_transfers_in and summary.n_transfers_out and summary.n_dropouts
    assert (folder / "PY" / "registry.xlsx").is_file()
    for name, payload in files.items():
        assert name.endswith("_2023_2.json")
        assert payload["NamHoc"] == 2023 and payload["LoaiDongBo"] == 2
        assert payload["TruongHocInfo"]["NamHoc"] == 2023
        classes = {c["MaLopHoc"]: _code(c["KhoiHoc"]) for c in payload["LstLopHocInfo"]}
        assert all(classes[p["MaLopHocDn"]] == _code(p["KhoiHoc"]) for p in payload["LstHocSinh"])
        assert payload["TruongHocInfo"]["TongSoHocSinh"] == len(payload["LstHocSinh"])


def test_pupils_of_this_year_were_last_year_one_grade_lower_or_repeating(previous):
    folder, _, _ = previous
    promoted = repeated = 0
    for now, last, kind in _pairs(folder):
        if kind != "general":
            continue
        learners = {p["ClientId"]: p for p in last["LstHocSinh"]}
        results = {r["ClientId"]: r for r in last["LstKetQuaHocTap"]}
        for p in now["LstHocSinh"]:
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


def test_preschool_children_are_this_years_children_one_age_band_younger(previous):
    """Every child of last year's file is in this year's DN of the same school one age band up (a
    class of the next band; of the next band or above when this year's class mixes ages), unless
    they left during or after the year (dated), or were in the school's last band (finished it).
    Conversely a child of this year in an unmixed class of band 03-06, not new (IsTuyenMoiMn), was
    in the school last year when the school runs the block of the band below."""
    folder, _, _ = previous
    carried = finished = 0
    for now, last, kind in _pairs(folder):
        if kind != "MN":
            continue
        class_now = {c["MaLopHoc"]: c for c in now["LstLopHocInfo"]}
        class_last = {c["MaLopHoc"]: c for c in last["LstLopHocInfo"]}
        bands_now = {c["MaNhomTuoiMn"] for c in class_now.values()}
        blocks_now = {_code(c["KhoiHoc"]) for c in class_now.values()}
        this_year = {p["ClientId"]: p for p in now["LstHocSinh"]}
        national_ids = {p["MaHocSinh"] for p in now["LstHocSinh"]}
        for q in last["LstHocSinh"]:
            c = class_last[q["MaLopHocDn"]]
            band = c["MaNhomTuoiMn"]
            assert _code(c.get("LopGhepDoTuoi")) == "00"  # last year's classes are rebuilt by band
            assert _code(q["KhoiHoc"]) == ("16" if band <= "03" else "17")
            assert "MaLyDoThoiHoc" not in q or _code(q["TrangThai"]) in ("05", "09", "12")
            p = this_year.get(q["ClientId"])
            if p is not None:
                assert p["MaHocSinh"] == q["MaHocSinh"]
                c_now = class_now[p["MaLopHocDn"]]
                up = BANDS[BANDS.index(band) + 1]
                if _code(c_now.get("LopGhepDoTuoi")) == "00":
                    assert c_now["MaNhomTuoiMn"] == up
                else:
                    assert c_now["MaNhomTuoiMn"] >= up
                carried += 1
                continue
            assert q["MaHocSinh"] not in national_ids
            status = _code(q["TrangThai"])
            if status == "01":  # finished the school's last band: no class of the next band now
                assert band == "06" or BANDS[BANDS.index(band) + 1] not in bands_now
                finished += 1
            else:
                assert status in ("04", "05", "08", "09", "11", "12")
        for p in now["LstHocSinh"]:
            c_now = class_now[p["MaLopHocDn"]]
            band = c_now["MaNhomTuoiMn"]
            below = BANDS[BANDS.index(band) - 1]
            if (band >= "03" and _code(c_now.get("LopGhepDoTuoi")) == "00" and not _truthy(p.get("IsTuyenMoiMn"))
                    and ("16" if below <= "03" else "17") in blocks_now):  # fmt: skip
                assert p["ClientId"] in {q["ClientId"] for q in last["LstHocSinh"]}, p
    assert carried > 100 and finished > 10


def test_gdtx_learners_were_one_programme_year_lower_or_repeating(previous):
    """Lớp 11 GDTX (14) ← lớp 10 GDTX (13), lớp 12 (15) ← lớp 11 (14): a carried learner was one code
    lower and promoted, or in the same code with LenLop 2 (a repeater now); the THPT programme's
    learners enrolled on 31/5 all have a TT 22/2021 result with conduct."""
    folder, _, _ = previous
    seen = 0
    for now, last, kind in _pairs(folder):
        if kind != "GDTX":
            continue
        this_year = {p["ClientId"]: p for p in now["LstHocSinh"]}
        codes_now = {_code(p["KhoiHoc"]) for p in now["LstHocSinh"]}
        results = {r["ClientId"]: r for r in last["LstKetQuaHocTap"]}
        for q in last["LstHocSinh"]:
            code, status = _code(q["KhoiHoc"]), _code(q["TrangThai"])
            enrolled = status in ("01", "02", "06", "11", "12")
            if code in ("13", "14", "15") and enrolled:
                r = results[q["ClientId"]]
                assert r["KetQuaHocTap"] in (1, 2, 3, 4) and r["RenLuyen"] in (1, 2, 3, 4)
            p = this_year.get(q["ClientId"])
            if p is None:
                assert (
                    status != "01"
                    or f"{int(code) + 1:02d}" not in codes_now
                    or code in ("15", "23", "18", "19")
                )
                continue
            seen += 1
            if _code(p["LoaiNhapHoc"]) == "03":
                assert code == _code(p["KhoiHoc"]) and results[q["ClientId"]]["LenLop"] == 2
            else:
                assert int(code) + 1 == int(_code(p["KhoiHoc"])) and results[q["ClientId"]]["LenLop"] == 1
        for p in now["LstHocSinh"]:  # this year's lớp 11-12 GDTX, promoted: last year's learners
            if _code(p["KhoiHoc"]) in ("14", "15") and _code(p["LoaiNhapHoc"]) == "04":
                assert p["ClientId"] in {q["ClientId"] for q in last["LstHocSinh"]}
    assert seen > 50


def test_transfers_and_dropouts_during_last_year(previous):
    """Transfers out and dropouts are dated in last year (semester code by date), are not in this
    year's file, and dropouts carry a reason; transfers in are dated in last year, carry
    LoaiNhapHoc 1 and are in this year's file of the same school; the summary counts them."""
    folder, summary, _ = previous
    n_in = n_out = n_drop = 0
    kinds_in, kinds_out = set(), set()
    for now, last, kind in _pairs(folder):
        ids_now = {p["ClientId"] for p in now["LstHocSinh"]}
        national_now = {p["MaHocSinh"] for p in now["LstHocSinh"]}
        for q in last["LstHocSinh"]:
            status = _code(q["TrangThai"])
            if status == "01":
                assert "NgayTrangThai" not in q
                continue
            day = _day(q["NgayTrangThai"])
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
                assert _code(q["LoaiNhapHoc"]) == "01" and q["ClientId"] in ids_now
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
        for _, last, k in _pairs(folder)
        if k == kind
        for q in last["LstHocSinh"]
        if _code(q["TrangThai"]) in statuses and (k != "general" or _code(q["KhoiHoc"]) <= "05")
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
    """TH.completion_rate and THCS.graduation_rate of 2023-2024 count last year's grade-5 completers
    and grade-9 graduates of the files (every one enrolled on 31/5); their denominators (grade 1 of
    2019-2020, grade 6 of 2020-2021) are not in the warehouse, so the rates are not computable."""
    folder, _, s = previous
    completers = graduates = 0
    for _, last, kind in _pairs(folder):
        if kind != "general":
            continue
        grades = {q["ClientId"]: _code(q["KhoiHoc"]) for q in last["LstHocSinh"]}
        for r in last["LstKetQuaHocTap"]:
            completers += grades[r["ClientId"]] == "05" and r.get("HoanThanhChuongTrinh") == 1
            graduates += grades[r["ClientId"]] == "09" and r.get("TotNghiep") == 1
    with warehouse.connect(s.warehouse) as con:
        got = {
            i: (num, value)
            for i, num, value in con.execute(
                "SELECT indicator_id, numerator, value FROM indicators WHERE level = 'so' AND indicator_id IN "
                "('TH.completion_rate', 'THCS.graduation_rate')"
            ).fetchall()
        }
    assert completers > 0 and graduates > 0
    assert got == {"TH.completion_rate": (completers, None), "THCS.graduation_rate": (graduates, None)}


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


def test_previous_start_is_last_years_end_on_30_september(previous, tmp_path):
    """generate_previous_start: the same schools as last year's end file, each holding exactly the
    learners that file has enrolled on 30/9/2023, as a start-of-year file of 2023."""
    folder, _, _ = previous
    summary = generate_previous_start(folder / "DN", tmp_path / "PS", seed=5)
    ends = _load(folder / "PY")
    starts = _load(tmp_path / "PS")
    assert sorted(starts) == sorted(name.replace("_2023_2.json", "_2023_1.json") for name in ends)
    n = 0
    for name, end in ends.items():
        start = starts[name.replace("_2023_2.json", "_2023_1.json")]
        there = [p["ClientId"] for p in end["LstHocSinh"] if enrolled_on(p, START)]
        assert [p["ClientId"] for p in start["LstHocSinh"]] == there
        assert start["LoaiDongBo"] == 1 and start["NamHoc"] == 2023
        assert all(
            _code(p["TrangThai"]) == "01" or _day(p["NgayTrangThai"]) <= START for p in start["LstHocSinh"]
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
