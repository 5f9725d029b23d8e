"""End of year (CN): 02-TH-CN cells worked out by hand for two small schools, and a generated
end-of-year province run through the pipeline without a broken relation.

School A (66643001, Phòng 643, public, delta) and school B (66644001, Phòng 644, private,
mountain), Sở 66. School year 2024-2025, LoaiDongBo 2: start of the year 30/9/2024, as-of date
31/5/2025. Ethnic minority = not Kinh (01).

School A (classes 1A grade 1, 5A grade 5):
  a1 girl Kinh, grade 1, studying; HTT, promoted                      → start, end, assessed
  a2 boy Tày, grade 1, studying; CHT, repeats (LenLop 2)              → start, end, assessed
  a3 boy Kinh, grade 1, transferred out 15/11/2024 (04)               → start, transfer out
  a4 girl Tày, grade 5, dropped out 10/2/2025 (09), reason 01         → start, dropout
  a5 girl Kinh, grade 5, studying; HTXS, promoted, completed          → start, end, assessed, completion
  a6 boy Kinh, grade 5, transferred in 1/3/2025 (06); HT, promoted,
     completed                                                         → transfer in, end, assessed, completion
  a7 boy Kinh, grade 5, studying; result "2" (a secondary code)        → start, end; result quarantined:
                                                                          not assessed
  a8 girl Kinh, grade 1, transferred out 15/9/2024 (before the start)  → nowhere
  a9 boy Kinh, grade 5, dropped out 20/6/2025 (12, after 31/5); HT,
     summer re-assessment (LenLop 3), no completion                    → start, end, assessed
School B (class 3A grade 3):
  b1 girl Chăm (17), grade 3, studying; HTT, promoted                 → start, end, assessed
  b2 boy Kinh, grade 3, dropped out 20/10/2024 (05), reason 03        → start, dropout
  b3 girl Kinh, grade 3, transferred in 5/10/2024 (02); HT, promoted  → transfer in, end, assessed
  a result for an unknown pupil "bx"                                   → quarantined
"""

from __future__ import annotations

import json

import pytest

from pipelines import catalog, warehouse
from pipelines import run as pipeline
from pipelines import settings as settings_mod
from pipelines.synthetic import end_of_year as generate_eoy
from pipelines.synthetic import province as generate
from tests.conftest import klass, payload, pupil, school_info, write_inbox, write_registry

A, B = "66643001", "66644001"


def run_end_of_year(folder, registry, inbox) -> settings_mod.Settings:
    """tests.conftest.run_through_aggregate for the end-of-year period (CN)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2024-2025", "CN", registry, inbox, folder / "warehouse.duckdb", folder / "out",
                                 run_id="test-run", processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    return s


def eoy_payload(code, info, classes, learners, results):
    p = payload(code, info, classes, learners)
    p["LoaiDongBo"] = 2
    p["LstKetQuaHocTap"] = results
    return p


def result(pid, learning, promotion, **extra):
    return {"ClientId": pid, "KetQuaHocTap": learning, "LenLop": promotion, **extra}


@pytest.fixture(scope="module")
def eoy_settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("end_of_year")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": A, "TEN_TRUONG_HOC": "Trường TH A", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": B, "TEN_TRUONG_HOC": "Trường TH B", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "644", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 644},
    ])  # fmt: skip
    school_a = eoy_payload(
        A,
        school_info(A),
        [klass("1A", 1), klass("5A", 5)],
        [
            pupil("a1", "1A", 1, 2, "01", "2018-03-01"),
            pupil("a2", "1A", 1, 1, "02", "2018-05-02"),
            pupil("a3", "1A", 1, 1, "01", "2018-07-07", status=4, NgayTrangThai="2024-11-15"),
            pupil(
                "a4", "5A", 5, 2, "02", "2014-01-20", status=9, NgayTrangThai="2025-02-10", MaLyDoThoiHoc="01"
            ),
            pupil("a5", "5A", 5, 2, "01", "2014-02-02"),
            pupil("a6", "5A", 5, 1, "01", "2014-03-03", status=6, NgayTrangThai="01/03/2025", LoaiNhapHoc=1),
            pupil("a7", "5A", 5, 1, "01", "2014-04-04"),
            pupil("a8", "1A", 1, 2, "01", "2018-08-08", status=4, NgayTrangThai="2024-09-15"),
            pupil(
                "a9",
                "5A",
                5,
                1,
                "01",
                "2014-05-05",
                status=12,
                NgayTrangThai="2025-06-20",
                MaLyDoThoiHoc="06",
            ),
        ],
        [
            result("a1", "HTT", 1),
            result("a2", "CHT", 2),
            result("a5", "HTXS", 1, HoanThanhChuongTrinh=1),
            result("a6", "HT", "1", HoanThanhChuongTrinh=True),
            result("a7", 2, 1, HoanThanhChuongTrinh=1),
            result("a9", "HT", 3, HoanThanhChuongTrinh=0),
        ],
    )
    school_b = eoy_payload(
        B,
        school_info(B, LoaiHinhDaoTao="09", MaVung="04"),
        [klass("3A", 3)],
        [
            pupil("b1", "3A", 3, 2, "17", "2016-04-04"),
            pupil(
                "b2", "3A", 3, 1, "01", "2016-05-05", status=5, NgayTrangThai="2024-10-20", MaLyDoThoiHoc=3
            ),
            pupil("b3", "3A", 3, 2, "01", "2016-06-06", status=2, NgayTrangThai="2024-10-05", LoaiNhapHoc=1),
        ],
        [result("b1", "HTT", 1), result("b3", "HT", 1), result("bx", "HT", 1)],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{A}_2024_2.json": school_a, f"{B}_2024_2.json": school_b})
    return run_end_of_year(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def eoy_cells(eoy_settings):
    with warehouse.connect(eoy_settings.warehouse) as con:
        rows = con.execute(
            "SELECT level, unit_code, row_code, col_key, value FROM cells WHERE form = '02-TH-CN'"
        ).fetchall()
    return {(level, unit, row, col): value for level, unit, row, col, value in rows}


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row) and v != 0}


COLS = ("all", "female", "ethnic", "ethnic_female")


def pupils(cl=(0, 0, 0, 0), tt=(0, 0, 0, 0)) -> dict[str, int]:
    """Non-zero cells of a pupil row from the CL and TT quadruples (all, female, ethnic, ethnic female)."""
    out = {}
    for group, values in (("CL", cl), ("TT", tt)):
        out.update({f"{group}.{c}": v for c, v in zip(COLS, values, strict=True)})
    out.update({f"T.{c}": a + b for c, a, b in zip(COLS, cl, tt, strict=True)})
    return {k: v for k, v in out.items() if v}


# Row codes of 02-TH-CN (schemas/forms/tt24/02-TH-CN.yaml).
START, START_G1, START_G3, START_G5 = 1, 2, 4, 6
IN, READMITTED, OUT, DROPOUT = 7, 8, 9, 10
END, END_G1, END_G3, END_G5 = 11, 12, 14, 16
DROP_G3, DROP_G5 = 19, 21
DROP_REASON_01, DROP_REASON_03 = 22, 24
ASSESSED, NOT_ASSESSED, HTXS, HTT, HT, CHT = 32, 33, 34, 35, 36, 37
ASSESSED_G1, G1_HTT, G1_CHT = 38, 40, 42
ASSESSED_G3, G3_HTT, G3_HT = 48, 50, 51
ASSESSED_G5, G5_HTXS, G5_HT = 58, 59, 61
PROMOTED, PROMOTED_G1, PROMOTED_G3, PROMOTED_G5 = 63, 64, 66, 68
REPEATERS, REPEATERS_G1 = 69, 70
SUMMER, SUMMER_G5 = 75, 80
COMPLETED_PRIMARY = 81

EXPECTED_A = {
    START: pupils(cl=(7, 3, 2, 1)),  # a1 a2 a3 a4 a5 a7 a9
    START_G1: pupils(cl=(3, 1, 1, 0)),  # a1 a2 a3
    START_G5: pupils(cl=(4, 2, 1, 1)),  # a4 a5 a7 a9
    IN: pupils(cl=(1, 0, 0, 0)),  # a6
    OUT: pupils(cl=(1, 0, 0, 0)),  # a3 (a8 left before the start)
    DROPOUT: pupils(cl=(1, 1, 1, 1)),  # a4 (a9 leaves after 31/5)
    END: pupils(cl=(6, 2, 1, 0)),  # a1 a2 a5 a6 a7 a9
    END_G1: pupils(cl=(2, 1, 1, 0)),
    END_G5: pupils(cl=(4, 1, 0, 0)),
    DROP_G5: pupils(cl=(1, 1, 1, 1)),
    DROP_REASON_01: pupils(cl=(1, 1, 1, 1)),
    ASSESSED: pupils(cl=(5, 2, 1, 0)),  # a1 a2 a5 a6 a9
    NOT_ASSESSED: pupils(cl=(1, 0, 0, 0)),  # a7: its result is on the wrong scale
    HTXS: pupils(cl=(1, 1, 0, 0)),  # a5
    HTT: pupils(cl=(1, 1, 0, 0)),  # a1
    HT: pupils(cl=(2, 0, 0, 0)),  # a6 a9
    CHT: pupils(cl=(1, 0, 1, 0)),  # a2
    ASSESSED_G1: pupils(cl=(2, 1, 1, 0)),
    G1_HTT: pupils(cl=(1, 1, 0, 0)),
    G1_CHT: pupils(cl=(1, 0, 1, 0)),
    ASSESSED_G5: pupils(cl=(3, 1, 0, 0)),
    G5_HTXS: pupils(cl=(1, 1, 0, 0)),
    G5_HT: pupils(cl=(2, 0, 0, 0)),
    PROMOTED: pupils(cl=(3, 2, 0, 0)),  # a1 a5 a6
    PROMOTED_G1: pupils(cl=(1, 1, 0, 0)),
    PROMOTED_G5: pupils(cl=(2, 1, 0, 0)),
    REPEATERS: pupils(cl=(1, 0, 1, 0)),  # a2
    REPEATERS_G1: pupils(cl=(1, 0, 1, 0)),
    SUMMER: pupils(cl=(1, 0, 0, 0)),  # a9
    SUMMER_G5: pupils(cl=(1, 0, 0, 0)),
    COMPLETED_PRIMARY: pupils(cl=(2, 1, 0, 0)),  # a5 a6 (a7 not assessed, a9 flag 0)
}
EXPECTED_B = {
    START: pupils(tt=(2, 1, 1, 1)),  # b1 b2 (b3 arrived after 30/9)
    START_G3: pupils(tt=(2, 1, 1, 1)),
    IN: pupils(tt=(1, 1, 0, 0)),  # b3
    DROPOUT: pupils(tt=(1, 0, 0, 0)),  # b2
    END: pupils(tt=(2, 2, 1, 1)),  # b1 b3
    END_G3: pupils(tt=(2, 2, 1, 1)),
    DROP_G3: pupils(tt=(1, 0, 0, 0)),
    DROP_REASON_03: pupils(tt=(1, 0, 0, 0)),
    ASSESSED: pupils(tt=(2, 2, 1, 1)),
    HTT: pupils(tt=(1, 1, 1, 1)),  # b1
    HT: pupils(tt=(1, 1, 0, 0)),  # b3
    ASSESSED_G3: pupils(tt=(2, 2, 1, 1)),
    G3_HTT: pupils(tt=(1, 1, 1, 1)),
    G3_HT: pupils(tt=(1, 1, 0, 0)),
    PROMOTED: pupils(tt=(2, 2, 1, 1)),
    PROMOTED_G3: pupils(tt=(2, 2, 1, 1)),
}
ALL_ROWS = [r.code for r in catalog.form("tt24", "02-TH-CN").cell_rows]


@pytest.mark.slow
@pytest.mark.parametrize("row", ALL_ROWS)
def test_end_of_year_rows_of_each_school_match_hand_count(eoy_cells, row):
    assert _row(eoy_cells, "school", A, row) == EXPECTED_A.get(row, {})
    assert _row(eoy_cells, "school", B, row) == EXPECTED_B.get(row, {})


@pytest.mark.slow
@pytest.mark.parametrize("row", ALL_ROWS)
def test_end_of_year_rows_roll_up_to_phong_and_so(eoy_cells, row):
    a, b = EXPECTED_A.get(row, {}), EXPECTED_B.get(row, {})
    assert _row(eoy_cells, "phong", "643", row) == a
    assert _row(eoy_cells, "phong", "644", row) == b
    assert _row(eoy_cells, "so", "66", row) == {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}


@pytest.mark.slow
def test_hand_case_breaks_no_relation_and_quarantines_the_bad_results(eoy_settings):
    with warehouse.connect(eoy_settings.warehouse) as con:
        violations = con.execute(
            "SELECT count(*) FROM relation_violations WHERE run_id = 'test-run'"
        ).fetchall()
        problems = con.execute(
            "SELECT rule_id, school_code, record_index FROM validation_results WHERE entity = 'result' ORDER BY 1"
        ).fetchall()
        changes = con.execute(
            "SELECT school_code, change, dropout_reason FROM learner_change ORDER BY 1, 2, 3"
        ).fetchall()
        results = con.execute("SELECT count(*), count(*) FILTER (WHERE enrolled) FROM result").fetchall()
    assert violations == [(0,)]
    assert problems == [("result.learner_not_found", B, 2), ("result.scheme_mismatch", A, 4)]
    assert changes == [
        (A, "dropout", "01"), (A, "transfer_in", None), (A, "transfer_out", None),
        (B, "dropout", "03"), (B, "transfer_in", None),
    ]  # fmt: skip
    assert results == [(7, 7)]  # a1 a2 a5 a6 a9 b1 b3


@pytest.mark.slow
def test_start_of_year_files_are_rejected_in_the_end_of_year_run(tmp_path):
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": A, "TEN_TRUONG_HOC": "Trường TH A", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
    ])  # fmt: skip
    dn = payload(A, school_info(A), [klass("1A", 1)], [pupil("a1", "1A", 1, 2, "01", "2018-03-01")])
    inbox = write_inbox(tmp_path / "inbox", {f"{A}_2024_1.json": dn})
    s = run_end_of_year(tmp_path, registry, inbox)
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT status, reason FROM files").fetchall() == [
            ("rejected", "sync.other_period")  # not expected in this period: listed, not loaded
        ]
    assert s.as_of.isoformat() == "2025-05-31"


@pytest.mark.slow
def test_export_prints_the_end_of_year_date(eoy_settings):
    import openpyxl

    pipeline.export_step(eoy_settings)
    wb = openpyxl.load_workbook(eoy_settings.out / "forms" / "so" / "66" / "02-TH-CN.xlsx", read_only=True)
    texts = [v for row in wb["I"].iter_rows(max_row=5, values_only=True) for v in row if isinstance(v, str)]
    assert "Kỳ cuối năm học" in texts
    assert "(có đến 31 tháng 5 năm 2025)" in texts


# --- generated end-of-year province ----------------------------------------------------------


@pytest.fixture(scope="module")
def generated_eoy(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("generated_eoy")
    generate.generate_province("66", "2024-2025", "DN", 12, 5, tmp_path / "DN", 0.0)
    (tmp_path / "DN" / "inbox" / "broken.json").write_text("{not json", encoding="utf-8")
    summary = generate_eoy.generate_end_of_year(tmp_path / "DN", tmp_path / "CN", seed=5)
    s = run_end_of_year(tmp_path, tmp_path / "CN" / "registry.xlsx", tmp_path / "CN" / "inbox")
    return tmp_path, summary, s


@pytest.mark.slow
def test_generated_end_of_year_is_deterministic_and_skips_malformed_files(generated_eoy, tmp_path):
    folder, summary, _ = generated_eoy
    assert summary.n_skipped == 1
    assert summary.n_transfers_in and summary.n_transfers_out and summary.n_dropouts and summary.n_results
    again = generate_eoy.generate_end_of_year(folder / "DN", tmp_path / "CN", seed=5)
    assert again.n_results == summary.n_results
    for path in sorted((folder / "CN" / "inbox").glob("*.json")):
        assert path.read_bytes() == (tmp_path / "CN" / "inbox" / path.name).read_bytes()
        assert path.name.endswith("_2024_2.json")
        assert json.loads(path.read_text(encoding="utf-8"))["LoaiDongBo"] == 2


@pytest.mark.slow
def test_generated_end_of_year_runs_clean(generated_eoy):
    _, summary, s = generated_eoy
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
        forms = {r[0] for r in con.execute("SELECT DISTINCT form FROM cells").fetchall()}
        so = dict(
            con.execute(
                "SELECT row_code, value FROM cells WHERE form = '02-TH-CN' AND level = 'so' AND col_key = 'T.all'"
            ).fetchall()
        )
        n_results = con.execute("SELECT count(*) FROM result").fetchall()[0][0]
        levels = con.execute(
            "SELECT count(*) FILTER (WHERE grade BETWEEN 1 AND 5), count(*) FILTER (WHERE grade BETWEEN 6 AND 9), "
            "count(*) FILTER (WHERE grade BETWEEN 10 AND 12), count(*) FILTER (WHERE grade_code IN ('16', '17')), "
            "count(*) FILTER (WHERE gdtx_programme IS NOT NULL) FROM learner"
        ).fetchall()[0]
    # Every level with pupils gets its end-of-year form.
    names = ("02-TH-CN", "03-THCS-CN", "04-THPT-CN", "01-MN-CN", "05-GDTX-CN")
    assert forms == {f for f, n in zip(names, levels, strict=True) if n}
    assert n_results == summary.n_results
    # Repeaters are a small share of the assessed primary pupils; completion only in grade 5.
    assert 0 < so.get(REPEATERS, 0) <= 0.04 * so[ASSESSED]
    assert 0 < so[COMPLETED_PRIMARY] <= so[ASSESSED_G5]


def test_cli_generates_the_end_of_year(tmp_path, capsys):
    from pipelines import cli

    assert cli.main(["generate", "--period", "CN", "--province", "66", "--school-year", "2024-2025",
                     "--schools", "3", "--seed", "2", "--out", str(tmp_path / "gen")]) == 0  # fmt: skip
    assert (tmp_path / "gen" / "DN" / "registry.xlsx").is_file()
    assert sorted(p.name[-7:] for p in (tmp_path / "gen" / "inbox").glob("*.json")) == ["_2.json"] * 3
    assert cli.main(["generate", "--period", "CN", "--from-dn", str(tmp_path / "gen" / "DN"), "--seed", "2",
                     "--out", str(tmp_path / "again")]) == 0  # fmt: skip
    for path in (tmp_path / "gen" / "inbox").glob("*.json"):
        assert path.read_bytes() == (tmp_path / "again" / "inbox" / path.name).read_bytes()
    assert (
        cli.main(["generate", "--period", "DN", "--out", str(tmp_path / "x")]) == 2
    )  # DN needs the province
    assert "Đã tạo cuối năm" in capsys.readouterr().out


@pytest.mark.slow
def test_rates_are_end_of_year_counts_over_start_of_year_pupils(eoy_settings):
    """Sở: 9 pupils at the start (7 in A, 2 in B); 2 dropouts (a4, b2), 1 repeater (a2),
    5 promoted (a1 a5 a6 b1 b3): 2/9, 1/9 and 5/9 in per cent."""
    with warehouse.connect(eoy_settings.warehouse) as con:
        got = {
            ind: (num, den, value)
            for ind, num, den, value in con.execute(
                "SELECT indicator_id, numerator, denominator, value FROM indicators WHERE level = 'so'"
            ).fetchall()
        }
    assert got["TH.dropout_rate"] == (2, 9, 22.22)
    assert got["TH.repetition_rate"] == (1, 9, 11.11)
    assert got["TH.promotion_rate"] == (5, 9, 55.56)


@pytest.mark.slow
def test_primary_completion_rate_divides_by_grade_one_four_years_earlier(tmp_path, monkeypatch):
    """School A had 4 pupils in grade 1 in 2020-2021 (DN); in 2024-2025 (CN) 1 of its 2 grade-5 pupils
    completes primary: 1/4 = 25 %. School B has no 2020-2021 data: its rate is not computable."""
    monkeypatch.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": c, "TEN_TRUONG_HOC": c, "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66", "ID_PHONG": "643"}
        for c in (A, B)
    ])  # fmt: skip
    earlier = payload(
        A, school_info(A, NamHoc=2020), [klass("1A", 1)],
        [pupil(f"e{i}", "1A", 1, 2, "01", "2014-01-01") for i in range(4)], year=2020,
    )  # fmt: skip
    s_dn = settings_mod.resolve("2020-2021", "DN", registry, write_inbox(tmp_path / "dn", {f"{A}.json": earlier}),
                                tmp_path / "w.duckdb", tmp_path / "out-dn", run_id="dn-2020", processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s_dn)
    fives = [pupil("f1", "5A", 5, 2, "01", "2014-01-01"), pupil("f2", "5A", 5, 1, "01", "2014-02-02")]
    now = {
        f"{A}.json": eoy_payload(A, school_info(A), [klass("5A", 5)], fives,
                                 [result("f1", "HT", 1, HoanThanhChuongTrinh=1), result("f2", "CHT", 2)]),
        f"{B}.json": eoy_payload(B, school_info(B), [klass("5A", 5)], fives[:1],
                                 [result("f1", "HT", 1, HoanThanhChuongTrinh=1)]),
    }  # fmt: skip
    s_cn = settings_mod.resolve("2024-2025", "CN", registry, write_inbox(tmp_path / "cn", now),
                                tmp_path / "w.duckdb", tmp_path / "out-cn", run_id="cn-2024", processes=1)  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s_cn)
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        got = {
            (level, unit): (num, den, value)
            for level, unit, num, den, value in con.execute(
                "SELECT level, unit_code, numerator, denominator, value FROM indicators "
                "WHERE indicator_id = 'TH.completion_rate'"
            ).fetchall()
        }
    assert got[("school", A)] == (1, 4, 25.0)
    assert got[("school", B)] == (1, 0, None)
    assert got[("phong", "643")] == (2, 4, 50.0)  # the Phòng's grade-1 pupils of 2020-2021 were A's four
