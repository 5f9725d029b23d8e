"""pipelines/analysis.py on a tiny hand-made warehouse holding the contract views it reads (as tables
with the contract's columns): two Phòng (Đồi, Sông) of one Sở, three schools sending files through
the October window, one run's problems. Every expected figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from pipelines.analyst import analysis

YEAR, BEFORE = "2024-2025", "2023-2024"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("""
        CREATE TABLE form_cells (school_year VARCHAR, period VARCHAR, regime VARCHAR, form VARCHAR,
            boundaries VARCHAR, level VARCHAR, unit_code VARCHAR, unit_name VARCHAR, row_code INTEGER,
            col_key VARCHAR, value BIGINT);
        INSERT INTO form_cells VALUES
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'DOI', 'Phòng Đồi', 40, 'T.all', 10),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'DOI', 'Phòng Đồi', 40, 'T.female', 6),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'DOI', 'Phòng Đồi', 41, 'T.all', 8),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'DOI', 'Phòng Đồi', 41, 'T.female', 3),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'DOI', 'Phòng Đồi', 37, 'T.all', 18),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'SONG', 'Phòng Sông', 44, 'T.all', 5),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'phong', 'SONG', 'Phòng Sông', 44, 'T.female', 5),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2024', 'so', 'SO', 'Sở', 37, 'T.all', 23),
            ('2024-2025', 'DN', 'tt24', '02-TH-DN', '2025', 'so', 'SO', 'Sở', 37, 'T.all', 23),
            ('2023-2024', 'DN', 'tt24', '02-TH-DN', '2024', 'so', 'SO', 'Sở', 37, 'T.all', 20);
        CREATE TABLE indicator_values (school_year VARCHAR, period VARCHAR, boundaries VARCHAR,
            indicator_id VARCHAR, name_vi VARCHAR, name_en VARCHAR, level VARCHAR, unit_code VARCHAR,
            unit_name VARCHAR, numerator BIGINT, denominator BIGINT, value DOUBLE);
        INSERT INTO indicator_values VALUES
            ('2023-2024', 'DN', '2024', '2105', 'Số học sinh', 'Pupils', 'so', 'SO', 'Sở', 20, NULL, 20),
            ('2024-2025', 'DN', '2024', '2105', 'Số học sinh', 'Pupils', 'so', 'SO', 'Sở', 23, NULL, 23),
            ('2023-2024', 'DN', '2024', 'NEW', 'Mới', 'New', 'so', 'SO', 'Sở', 0, NULL, 0),
            ('2024-2025', 'DN', '2024', 'NEW', 'Mới', 'New', 'so', 'SO', 'Sở', 4, NULL, 4),
            ('2024-2025', 'DN', '2024', 'ONLY', 'Chỉ năm nay', 'This year only', 'so', 'SO', 'Sở', 7, NULL, 7),
            ('2024-2025', 'DN', '2025', '2105', 'Số học sinh', 'Pupils', 'so', 'SO', 'Sở', 99, NULL, 99),
            ('2024-2025', 'DN', '2024', '2106.2', 'HS/lớp', 'Pupils per class', 'so', 'SO', 'Sở', 270, 10, 27),
            ('2024-2025', 'DN', '2024', '2106.2', 'HS/lớp', 'Pupils per class', 'phong', 'DOI', 'Phòng Đồi', 100, 4, 25),
            ('2024-2025', 'DN', '2024', '2106.2', 'HS/lớp', 'Pupils per class', 'phong', 'SONG', 'Phòng Sông', 120, 4, 30),
            ('2024-2025', 'DN', '2024', '2106.2', 'HS/lớp', 'Pupils per class', 'phong', 'NUI', 'Phòng Núi', 50, 2, 25),
            ('2024-2025', 'DN', '2024', '2106.2', 'HS/lớp', 'Pupils per class', 'phong', 'RONG', 'Phòng Rỗng', 0, 0, NULL);
        CREATE TABLE unit_hierarchy (boundaries VARCHAR, level VARCHAR, unit_code VARCHAR, valid_from DATE,
            valid_to DATE);
        INSERT INTO unit_hierarchy VALUES
            ('2024', 'school', 'A', DATE '2024-09-01', NULL), ('2024', 'school', 'B', DATE '2024-09-01', NULL),
            ('2024', 'school', 'C', DATE '2024-09-01', NULL), ('2024', 'school', 'D', DATE '2024-09-01', NULL),
            ('2024', 'school', 'CLOSED', DATE '2023-09-01', DATE '2024-09-15'),
            ('2025', 'school', 'A', DATE '2024-09-01', NULL);
        CREATE TABLE submission_log (school_year VARCHAR, period VARCHAR, school_code VARCHAR, version INTEGER,
            arrived_at TIMESTAMP);
        INSERT INTO submission_log VALUES
            ('2024-2025', 'DN', 'A', 1, TIMESTAMP '2024-10-01 09:00'),
            ('2024-2025', 'DN', 'A', 2, TIMESTAMP '2024-10-03 10:00'),
            ('2024-2025', 'DN', 'B', 1, TIMESTAMP '2024-10-03 08:00'),
            ('2024-2025', 'DN', 'C', 1, TIMESTAMP '2024-10-12 15:00'),
            ('2023-2024', 'DN', 'A', 1, TIMESTAMP '2023-10-02 09:00');
        CREATE TABLE validation_problems (run_id VARCHAR, school_year VARCHAR, period VARCHAR, rule_id VARCHAR,
            severity VARCHAR, school_code VARCHAR);
        INSERT INTO validation_problems VALUES
            ('r1', '2024-2025', 'DN', 'learner.a', 'error', 'A'), ('r1', '2024-2025', 'DN', 'learner.a', 'error', 'A'),
            ('r1', '2024-2025', 'DN', 'learner.a', 'error', 'B'), ('r1', '2024-2025', 'DN', 'school.b', 'warning', 'A'),
            ('r2', '2024-2025', 'DN', 'learner.a', 'error', 'A'), ('r9', '2024-2025', 'CN', 'learner.a', 'error', 'A');
        CREATE TABLE file_log (run_id VARCHAR, school_year VARCHAR, period VARCHAR, school_code VARCHAR,
            status VARCHAR, reason VARCHAR);
        INSERT INTO file_log VALUES ('r1', '2024-2025', 'DN', 'C', 'rejected', 'file.unreadable'),
            ('r1', '2024-2025', 'DN', 'A', 'loaded', NULL);
    """)  # fmt: skip
    con.close()
    return path


@pytest.fixture()
def con(warehouse):
    con = analysis.connect(warehouse)
    yield con
    con.close()


def test_the_warehouse_is_opened_read_only(con, tmp_path):
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE scribble (x INTEGER)")
    with pytest.raises(FileNotFoundError):
        analysis.connect(tmp_path / "nowhere.duckdb")


def test_years_boundaries_and_one_cell(con):
    assert analysis.school_years(con) == [BEFORE, YEAR]
    assert analysis.boundaries_of(con, YEAR) == "2024"  # more cells than on 2025
    assert analysis.so_code(con, YEAR) == "SO"
    assert analysis.cell_value(con, YEAR, "02-TH-DN", "so", "SO", 37, "T.all") == 23  # not 46: one version
    assert analysis.cell_value(con, YEAR, "02-TH-DN", "so", "SO", 38, "T.all") == 0  # absent cell


def test_enrolment_lists_every_grade_of_every_phong_with_boys_as_all_minus_girls(con):
    df = analysis.enrolment_by_phong_grade_sex(con, YEAR)
    rows = [tuple(r) for r in df[["phong_code", "grade", "pupils", "female", "male"]].itertuples(index=False)]
    assert rows == [
        ("DOI", 1, 10, 6, 4), ("DOI", 2, 8, 3, 5), ("DOI", 3, 0, 0, 0), ("DOI", 4, 0, 0, 0), ("DOI", 5, 0, 0, 0),
        ("SONG", 1, 0, 0, 0), ("SONG", 2, 0, 0, 0), ("SONG", 3, 0, 0, 0), ("SONG", 4, 0, 0, 0), ("SONG", 5, 5, 5, 0),
    ]  # fmt: skip
    assert set(df["phong_name"]) == {"Phòng Đồi", "Phòng Sông"}


def test_indicator_change_from_the_previous_year(con):
    df = analysis.indicator_change(con, YEAR, BEFORE).set_index("indicator_id")
    assert (df.loc["2105", "previous"], df.loc["2105", "current"], df.loc["2105", "change"]) == (20, 23, 3)
    assert df.loc["2105", "change_pct"] == 15.0  # 3 / 20
    assert df.loc["NEW", "change"] == 4 and math.isnan(df.loc["NEW", "change_pct"])  # from 0: no percentage
    assert math.isnan(df.loc["ONLY", "previous"]) and math.isnan(df.loc["ONLY", "change"])
    assert sorted(df.index) == ["2105", "2106.2", "NEW", "ONLY"]  # the Sở's indicators on version 2024


def test_submissions_per_day_through_the_window(con):
    df = analysis.submissions_per_day(con, YEAR)
    rows = [
        tuple(r) for r in df[["files", "new_schools", "schools_received", "expected"]].itertuples(index=False)
    ]
    # A on 1/10 (and again 3/10), B on 3/10, C on 12/10; A-D expected (CLOSED closed before 30/9).
    assert [d.date() for d in df["day"]] == [
        dt.date(2024, 10, 1),
        dt.date(2024, 10, 3),
        dt.date(2024, 10, 12),
    ]
    assert rows == [(1, 1, 1, 4), (2, 1, 2, 4), (1, 1, 3, 4)]
    assert list(df["share_received"]) == [25.0, 50.0, 75.0]
    assert {d.date() for d in df["deadline"]} == {dt.date(2024, 10, 10)}  # schools: 10/10 (deadlines.yaml)


def test_problems_per_run_by_rule_with_rejected_files(con):
    df = analysis.problems_per_run(con)
    columns = ["run_id", "run_no", "rule_id", "severity", "problems", "schools"]
    rows = [tuple(r) for r in df[columns].itertuples(index=False)]
    # The CN run r9 is another period; r2, the second DN run of the year, found A's problem again.
    assert rows == [
        ("r1", 1, "learner.a", "error", 3, 2),
        ("r1", 1, "file.unreadable", "error", 1, 1),
        ("r1", 1, "school.b", "warning", 1, 1),
        ("r2", 2, "learner.a", "error", 1, 1),
    ]
    assert set(df["school_year"]) == {YEAR}


def test_ranking_highest_first_ties_share_a_rank_gap_to_the_so(con):
    df = analysis.ranking(con, "2106.2", YEAR)
    rows = [tuple(r) for r in df[["rank", "unit_code", "value", "vs_so"]].itertuples(index=False)]
    # Phòng Rỗng has no classes: no value, not ranked.
    assert rows == [(1, "SONG", 30.0, 3.0), (2, "DOI", 25.0, -2.0), (2, "NUI", 25.0, -2.0)]
    assert analysis.indicator_name(con, "2106.2") == ("HS/lớp", "Pupils per class")


def test_key_figure_is_one_named_line(capsys):
    assert (
        analysis.key_figure("Học sinh", "pupils", 14053)
        == "Số liệu chính / key figure: Học sinh / pupils = 14,053"
    )
    assert analysis.key_figure("HS/lớp", "per class", 22.7).endswith("= 22.70")
    assert capsys.readouterr().out.count("key figure") == 2


def test_charts_are_the_same_bytes_every_time(tmp_path):
    paths = []
    for name in ("first", "second"):
        fig, ax = analysis.figure(4, 3)
        ax.bar(["Lớp 1", "Lớp 2"], [10, 8])
        ax.set_title("Học sinh / pupils")
        paths.append(analysis.save_chart(fig, tmp_path / "charts", name))
    first, second = (p.read_bytes() for p in paths)
    assert first == second and first[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in first and b"tIME" not in first  # no library stamp, no time chunk


def test_strip_outputs_leaves_the_text_and_nothing_of_the_run(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(14053)", execution_count=3)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="14053\n")]
    code.metadata["execution"] = {"iopub.status.idle": "2026-11-30T07:33:09Z"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Học sinh / pupils"), code]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, str(path))
    assert analysis.strip_outputs(path) is True
    clean = nbformat.read(str(path), as_version=4)
    assert [c.source for c in clean.cells] == ["# Học sinh / pupils", "print(14053)"]
    assert clean.cells[1].outputs == [] and clean.cells[1].execution_count is None
    assert "execution" not in clean.cells[1].metadata and "language_info" not in clean.metadata
    assert analysis.strip_outputs(path) is False  # nothing left to clear
