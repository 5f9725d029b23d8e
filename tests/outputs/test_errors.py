"""Validation reports on a tiny hand-made province: a school's error list, the Phòng and Sở
summaries, and the rule catalogue kept in step with the rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines import catalog, cli, warehouse
from pipelines import run as pipeline
from pipelines.outputs import docs as rule_docs
from pipelines.outputs import errors as error_reports
from pipelines.outputs import problems as school_problems
from pipelines.outputs.workbook import dump_workbook
from pipelines.settings import PROJECT_ROOT
from tests.conftest import (
    error_column,
    error_list,
    klass,
    payload,
    pupil,
    run_through_aggregate,
    school_info,
    write_inbox,
    write_registry,
)

A, B, C, D = "66643001", "66643002", "66643003", "66644001"  # A, B, C in Phòng 643; D in Phòng 644


def _school(code: str, phong: str) -> dict:
    return {"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường Tiểu học {code}", "CAP_HOC": "1", "TRANG_THAI": 1,
            "ID_SO": "66", "ID_PHONG": phong, "MA_QUAN_HUYEN": phong}  # fmt: skip


def _province(root: Path) -> tuple[Path, Path]:
    registry = write_registry(root / "registry.xlsx", [_school(A, "643"), _school(B, "643"), _school(C, "643"),
                                                       _school(D, "644")])  # fmt: skip
    inbox = write_inbox(root / "inbox", {
        # A: pupil 2 (disabled, no disability type) is an error; pupil 3 (grade 1 in a grade-2
        # class) a warning.
        f"{A}_2024_1.json": payload(A, school_info(A), [klass("1A", 1), klass("2A", 2)], [
            pupil("a1", "1A", 1, 2, "01", "2018-03-01"),
            pupil("a2", "1A", 1, 1, "01", "2018-05-02", KhuyetTat=1),
            pupil("a3", "2A", 1, 2, "01", "2018-01-20"),
        ]),
        # B: nothing wrong.
        f"{B}_2024_1.json": payload(B, school_info(B), [klass("1A", 1)], [pupil("b1", "1A", 1, 1, "01", "2018-02-02")]),
        # C: a file of another school year, rejected whole (1 school record, 1 class, 2 pupils).
        f"{C}_2023_1.json": payload(C, school_info(C, NamHoc=2023), [klass("1A", 1)], [
            pupil("c1", "1A", 1, 1, "01", "2017-02-02"), pupil("c2", "1A", 1, 2, "01", "2017-03-03")], year=2023),
        # D: the same pupil twice (the error is on the hashed ClientId: its value is never printed).
        f"{D}_2024_1.json": payload(D, school_info(D), [klass("1A", 1)], [
            pupil("d1", "1A", 1, 1, "01", "2018-02-02"),
            pupil("d1", "1A", 1, 1, "01", "2018-02-02", MaHocSinh="HSd1-other")]),
    })  # fmt: skip
    return registry, inbox


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("quality")
    registry, inbox = _province(root)
    s = run_through_aggregate(root, registry, inbox)
    with warehouse.connect(s.warehouse) as con:
        result = error_reports.write_reports(con, s)
    return s, result


def _personal(inbox: Path) -> set[str]:
    """Every name and personal identifier of the inputs, and their pseudonyms in the warehouse."""
    import json

    values = set()
    for path in inbox.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        for p in data["LstHocSinh"]:
            values |= {p["ClientId"], p["MaHocSinh"], p["HoTen"], p["NgaySinh"][:7]}
    return values


@pytest.mark.slow
def test_a_school_with_one_error_and_one_warning_gets_exactly_those_rows(run):
    s, _ = run
    folder = s.out / "errors" / "643"
    rows = error_list(folder / f"{A}.csv")
    assert len(rows) == 2
    assert error_column(rows, "STT") == ["1", "2"]
    assert error_column(rows, "Mức độ") == ["Lỗi", "Cảnh báo"]
    assert error_column(rows, "Mã quy tắc") == [
        "learner.disability_type_missing",
        "learner.grade_differs_from_class",
    ]
    assert error_column(rows, "Đối tượng") == ["Học sinh", "Học sinh"]
    assert error_column(rows, "Tệp") == [f"{A}_2024_1.json"] * 2
    assert error_column(rows, "Danh sách") == ["LstHocSinh", "LstHocSinh"]
    assert error_column(rows, "Thứ tự bản ghi") == ["2", "3"]  # the 2nd and 3rd pupil, counted from 1
    assert error_column(rows, "Mã lớp") == ["1A", "2A"]
    assert error_column(rows, "Khối") == ["01", "01"]
    assert error_column(rows, "Trường dữ liệu") == ["MaLoaiKhuyetTat", "KhoiHoc"]
    assert error_column(rows, "Giá trị") == ["", "01"]
    assert all(error_column(rows, "Nội dung lỗi")) and all(error_column(rows, "Cách sửa"))
    # The workbook: a sheet per form the school reports (here 02-TH-ĐN: its figures add up, so empty)
    # and "Tệp và hồ sơ" with the record problems, under a Vietnamese and an English heading row: the
    # list as the school's software names it, the record's number counted from 1, its class, the
    # field's Vietnamese name.
    wb = load_workbook(folder / f"{A}.xlsx")
    assert wb.sheetnames == ["02-TH-ĐN", "Tệp và hồ sơ"]
    ws = wb["Tệp và hồ sơ"]
    values = list(ws.iter_rows(values_only=True))
    heads = next(i for i, r in enumerate(values) if r[0] == "STT")
    assert values[heads + 1][:4] == ("No.", "Severity", "List", "Record no., from 1")
    assert ws.freeze_panes == f"A{heads + 3}"  # the headings stay in view
    assert ws.auto_filter.ref.startswith(f"A{heads + 2}:")
    body = [r for r in values[heads + 2 :] if any(r)]
    assert [r[9] for r in body] == error_column(rows, "Mã quy tắc")
    assert [(r[2], r[3], r[4]) for r in body] == [("Học sinh", 2, "1A"), ("Học sinh", 3, "2A")]
    assert [r[5] for r in body] == ["Mã loại khuyết tật (MaLoaiKhuyetTat)", "Khối học (KhoiHoc)"]
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == f"${heads + 1}:${heads + 2}"


@pytest.mark.slow
def test_no_personal_value_or_pseudonym_reaches_the_reports(run):
    s, _ = run
    personal = _personal(s.inbox)
    with warehouse.connect(s.warehouse) as con:
        for src in catalog.sources():
            for f in src.fields:
                if f.pii:
                    personal |= {
                        v for (v,) in con.execute(f'SELECT "{f.name}" FROM {src.table}').fetchall() if v
                    }
    assert len(personal) > 10
    rows = error_list(s.out / "errors" / "644" / f"{D}.csv")
    assert error_column(rows, "Mã quy tắc") == ["learner.duplicate"]
    assert error_column(rows, "Trường dữ liệu") == ["ClientId"]
    assert error_column(rows, "Giá trị") == [school_problems.HIDDEN]
    assert error_column(rows, "Thứ tự bản ghi") == ["2"]
    for path in (s.out / "errors").rglob("*"):
        if path.suffix == ".csv":
            text = path.read_text(encoding="utf-8-sig")
        elif path.suffix == ".xlsx":
            wb = load_workbook(path, read_only=True)
            text = "\n".join(
                str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r if v
            )
            wb.close()
        else:
            continue
        found = [v for v in personal if v in text]
        assert not found, (path, found[:3])


@pytest.mark.slow
def test_a_school_without_problems_gets_no_file_but_its_line_in_the_summary(run):
    s, _ = run
    assert not list((s.out / "errors").rglob(f"{B}.*"))
    schools = error_list(s.out / "errors" / "summary_phong_643_schools.csv")
    b = next(r for r in schools if r["Mã trường (School code)"] == B)
    assert (b["Lỗi (Errors)"], b["Cảnh báo (Warnings)"], b["Tệp bị từ chối (File rejected)"]) == (
        "0",
        "0",
        "Không",
    )
    assert (b["Bản ghi nhận (Records in)"], b["Đã nạp (Loaded)"], b["Bị loại (Quarantined)"]) == (
        "3",
        "3",
        "0",
    )


@pytest.mark.slow
def test_the_phong_summary_counts_by_rule_and_by_school(run):
    s, _ = run
    rules = error_list(s.out / "errors" / "summary_phong_643_rules.csv")
    got = {r["Mã quy tắc (Rule)"]: (r["Mức độ (Severity)"], r["Số lỗi (Problems)"], r["Số trường (Schools affected)"],
                                     r["Số bản ghi bị loại (Records excluded)"]) for r in rules}  # fmt: skip
    # C's rejected file held 1 school record, 1 class and 2 pupils: 4 records never loaded.
    assert got == {
        "learner.disability_type_missing": ("Lỗi", "1", "1", "1"),
        "file.wrong_period": ("Lỗi", "1", "1", "4"),
        "learner.grade_differs_from_class": ("Cảnh báo", "1", "1", "0"),
    }
    assert [r["Mã quy tắc (Rule)"] for r in rules][-1] == "learner.grade_differs_from_class"  # errors first
    schools = {
        r["Mã trường (School code)"]: r
        for r in error_list(s.out / "errors" / "summary_phong_643_schools.csv")
    }
    assert sorted(schools) == [A, B, C]  # D is in Phòng 644
    keys = ("Bản ghi nhận (Records in)", "Đã nạp (Loaded)", "Bị loại (Quarantined)", "Lỗi (Errors)",
            "Cảnh báo (Warnings)", "Đã nhận tệp (File received)", "Tệp bị từ chối (File rejected)",
            "Bản ghi trong tệp bị từ chối (Records in rejected files)")  # fmt: skip
    # A: 1 school record + 2 classes + 3 pupils; pupil 2 quarantined.
    assert tuple(schools[A][k] for k in keys) == ("6", "5", "1", "1", "1", "Có", "Không", "0")
    assert tuple(schools[C][k] for k in keys) == ("0", "0", "0", "1", "0", "Có", "Có", "4")
    assert {r["Phòng GDĐT (Phòng)"] for r in schools.values()} == {"643"}
    # The workbook has both tables.
    wb = load_workbook(s.out / "errors" / "summary_phong_643.xlsx")
    assert wb.sheetnames == ["Theo quy tắc", "Theo trường"]


@pytest.mark.slow
def test_records_in_are_loaded_plus_quarantined_for_every_school_of_the_so(run):
    s, _ = run
    schools = error_list(s.out / "errors" / "summary_so_66_schools.csv")
    assert sorted(r["Mã trường (School code)"] for r in schools) == [A, B, C, D]
    for r in schools:
        assert int(r["Bản ghi nhận (Records in)"]) == int(r["Đã nạp (Loaded)"]) + int(
            r["Bị loại (Quarantined)"]
        ), r
    with warehouse.connect(s.warehouse) as con:
        staged = sum(
            con.execute(f"SELECT count(*) FROM {src.table}").fetchall()[0][0] for src in catalog.sources()
        )
    assert sum(int(r["Bản ghi nhận (Records in)"]) for r in schools) == staged
    d = next(r for r in schools if r["Mã trường (School code)"] == D)
    assert (d["Bị loại (Quarantined)"], d["Phòng GDĐT (Phòng)"]) == ("1", "644")
    rules = {
        r["Mã quy tắc (Rule)"]: r["Số trường (Schools affected)"]
        for r in error_list(s.out / "errors" / "summary_so_66_rules.csv")
    }
    assert rules == {"learner.disability_type_missing": "1", "learner.duplicate": "1", "file.wrong_period": "1",
                     "learner.grade_differs_from_class": "1"}  # fmt: skip


@pytest.mark.slow
def test_reports_are_reproducible_and_stale_files_go(run, tmp_path):
    s, _ = run
    first = {p.relative_to(s.out): p.read_bytes() for p in (s.out / "errors").rglob("*.csv")}
    dumps = {p.relative_to(s.out): dump_workbook(p) for p in (s.out / "errors").rglob("*.xlsx")}
    stale = s.out / "errors" / "643" / f"{B}.csv"
    stale.write_text("old", encoding="utf-8")
    with warehouse.connect(s.warehouse) as con:
        error_reports.write_reports(con, s)
    assert not stale.exists()
    assert {p.relative_to(s.out): p.read_bytes() for p in (s.out / "errors").rglob("*.csv")} == first
    assert {p.relative_to(s.out): dump_workbook(p) for p in (s.out / "errors").rglob("*.xlsx")} == dumps
    assert first[Path("errors") / "643" / f"{A}.csv"].startswith("\ufeff".encode())  # BOM for Excel


@pytest.mark.slow
def test_export_writes_the_reports_and_the_catalogue(tmp_path):
    registry, inbox = _province(tmp_path)
    s = run_through_aggregate(tmp_path, registry, inbox)
    pipeline.export_step(s)
    assert (s.out / "errors" / "643" / f"{A}.xlsx").exists()
    assert (s.out / "errors" / "summary_so_66.xlsx").exists()
    assert (s.out / "rules.md").read_text(encoding="utf-8") == rule_docs.render_markdown(
        rule_docs.catalogue()
    )
    assert (s.out / "rules.html").exists()
    assert (s.out / "fields.md").exists()


def test_the_catalogue_lists_every_rule_with_its_source():
    rows = rule_docs.catalogue()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert r["severity"] in ("error", "warning") and r["message_vi"] and r["message_en"], r
        assert r["source"].startswith(("schemas/sources/", "schemas/forms/", "pipelines/")), r
    md = rule_docs.render_markdown(rows)
    page = rule_docs.render_html(rows)
    for rid in ids:
        assert f"`{rid}`" in md and f'id="{rid}"' in page


def test_file_rules_are_those_ingest_writes():
    text = "".join(
        p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "pipelines" / "ingest").glob("*.py")
    )
    assert set(re.findall(r'"(file\.[a-z_]+)"', text)) == {rid for rid, _, _ in school_problems.FILE_RULES}


def test_docs_rules_md_is_up_to_date():
    """docs/rules.md, docs/rules.html and docs/fields.md are generated: after changing a rule or a
    field (schemas/sources/*.yaml, pipelines/validate.py) or a form relation (schemas/forms/), regenerate
    them with `edustat rules` (or `.venv/bin/python -m pipelines rules`) and commit them."""
    rows = rule_docs.catalogue()
    for name, text in (
        ("rules.md", rule_docs.render_markdown(rows)),
        ("rules.html", rule_docs.render_html(rows)),
        ("fields.md", rule_docs.render_fields()),
    ):
        committed = (rule_docs.DOCS_DIR / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"docs/{name} is out of date with the schemas: run `edustat rules` and commit it"
        )


def test_rules_command_writes_the_catalogue(tmp_path, capsys):
    assert cli.main(["rules", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "rules.md").read_text(encoding="utf-8") == rule_docs.render_markdown(
        rule_docs.catalogue()
    )
    out = capsys.readouterr().out
    assert str(tmp_path / "rules.html") in out and str(tmp_path / "fields.md") in out
    assert "## Học sinh / Learner (`learner`)" in (tmp_path / "fields.md").read_text(encoding="utf-8")


def test_a_list_is_written_again_only_when_its_problems_change(run):
    """School A has one error and one warning. Written again from the same problems, A's list is
    kept as it is (not rewritten); without the warning it has one row; with it again, two."""
    s, _ = run
    a_csv = s.out / "errors" / "643" / f"{A}.csv"
    before = a_csv.read_bytes()
    stamp = a_csv.stat().st_mtime_ns
    with warehouse.connect(s.warehouse) as con:
        problems = school_problems.run_problems(con, s.run_id)
        error_reports.write_reports(con, s, problems)
        assert a_csv.stat().st_mtime_ns == stamp  # the same inputs: the file is kept
        fewer = [p for p in problems if not (p.school_code == A and p.severity == "warning")]
        error_reports.write_reports(con, s, fewer)
        assert len(a_csv.read_text(encoding="utf-8-sig").splitlines()) == 1 + 1  # heading + the error
        error_reports.write_reports(con, s, problems)
    assert a_csv.read_bytes() == before
