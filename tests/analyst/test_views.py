"""The analysts' contract (issue 7): views in every run's warehouse and every release, as the
dictionary declares them.

A hand-made province: Sở 66 with Phòng 643 (school A, public) and Phòng 644 (school B, public).
A has one grade-1 class of three pupils, two of them girls (Kinh); B one grade-2 class of two boys,
one of them Ê Đê (ethnic minority). By hand, 02-TH-ĐN row 37 "Tổng quy mô": A T.all 3, CL.female 2;
B T.all 2, T.ethnic 1; Phòng 643 = A, Phòng 644 = B, Sở 66 T.all 5.
"""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines import catalog, cli, warehouse
from pipelines.analyst import releases as release
from pipelines.catalog import views as catalog_views
from pipelines.outputs import docs as rule_docs
from tests.conftest import (
    klass,
    payload,
    pupil,
    run_through_aggregate,
    school_info,
    write_inbox,
    write_registry,
)

A, B = "66643001", "66644001"
PUPILS = {
    A: [("lan", 2, "01", "2018-03-15"), ("mai", 2, "01", "2018-07-02"), ("minh", 1, "01", "2018-11-20")],
    B: [("khoa", 1, "03", "2017-05-09"), ("tuan", 1, "01", "2017-01-30")],
}
GRADE = {A: 1, B: 2}

# The minimum columns of each contract view (docs/dictionary.md may list more, never fewer).
CONTRACT = {
    "form_cells": "school_year period regime form form_title_vi form_title_en boundaries level unit_code unit_name "
    "row_code row_label_vi row_label_en col_key col_label_vi col_label_en value",
    "indicator_values": "school_year period boundaries form indicator_id name_vi name_en status level unit_code "
    "unit_name numerator denominator value numerator_rate denominator_rate",
    "unit_hierarchy": "boundaries level unit_code name_vi parent_level parent_code valid_from valid_to",
    "schools": "school_code school_name phong_code so_code level_group ownership region_group",
    "learners": "school_year period school_code learner_key grade class_code female ethnic birth_year age status "
    "enrolled",
    "staff_members": "school_year period school_code staff_key staff_group position qualification female ethnic age",
    "validation_problems": "run_id school_year period checked_at rule_id severity entity school_code file "
    "record_index field message_vi message_en",
    "submission_log": "school_year period school_code version sha256 arrived_at superseded_at is_current state",
    "learner_counts": "school_year period school_code phong_code so_code grade female ethnic age enrolled learners",
    "file_log": "run_id school_year period file sha256 school_code status reason message_vi message_en",
    "ledger": "run_id school_year period input source position school_code outcome reason message_vi message_en",
}


def _school(code: str) -> dict:
    learners = [pupil(f"{code}-{name}", f"{code}-K", GRADE[code], sex, eth, born)
                for name, sex, eth, born in PUPILS[code]]  # fmt: skip
    return payload(code, school_info(code), [klass(f"{code}-K", GRADE[code])], learners)


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """One run through aggregation, and a release of it."""
    root = tmp_path_factory.mktemp("views")
    registry = write_registry(root / "registry.xlsx", [
        {"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường Tiểu học {code}", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": phong} for code, phong in ((A, "643"), (B, "644"))])  # fmt: skip
    inbox = write_inbox(root / "inbox", {f"{code}_2024_1.json": _school(code) for code in (A, B)})
    s = run_through_aggregate(root, registry, inbox)
    rel = release.create_release("2024-2025", "DN", s.warehouse, name="r1", releases=root / "releases")
    return {"wh": s.warehouse, "release": rel}


@pytest.fixture(params=["warehouse", "release"])
def db(request, province):
    con = (duckdb.connect(str(province["wh"]), read_only=True, config=warehouse.engine_config())
           if request.param == "warehouse" else release.connect(province["release"]))  # fmt: skip
    yield con
    con.close()


@pytest.mark.slow
def test_every_view_has_exactly_the_dictionarys_columns_and_types(db):
    declared: dict[str, list[tuple[str, str]]] = {}
    for view, column, dtype, *_ in db.execute(
        "SELECT * FROM data_dictionary WHERE column_name IS NOT NULL"
    ).fetchall():
        declared.setdefault(view, []).append((column, dtype))
    assert set(declared) >= set(CONTRACT)
    found = {r[0] for r in db.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    for view, columns in declared.items():
        assert view in found, f"view {view} is missing"
        described = [(name, dtype) for name, dtype, *_ in db.execute(f"DESCRIBE {view}").fetchall()]
        assert described == columns, view
        missing = set(CONTRACT.get(view, "").split()) - {c for c, _ in columns}
        assert not missing, f"{view} lost contract columns {missing}"
    # The table is what schemas/views.yaml declares, one row per view (column NULL) and per column.
    assert sorted(db.execute("SELECT * FROM data_dictionary").fetchall(), key=str) == sorted(
        catalog_views.dictionary_rows(), key=str
    )


@pytest.mark.slow
def test_contract_types_that_analysts_rely_on(db):
    types = dict(((v, c), t) for v, c, t, *_ in db.execute("SELECT * FROM data_dictionary").fetchall())
    assert types[("form_cells", "value")] == "BIGINT"
    assert types[("form_cells", "row_code")] == "INTEGER"
    assert types[("indicator_values", "value")] == "DOUBLE"
    assert types[("learners", "female")] == "BOOLEAN"
    assert types[("submission_log", "is_current")] == "BOOLEAN"


@pytest.mark.slow
def test_form_cells_are_the_cells_with_their_labels(db):
    key = "school_year, period, regime, form, boundaries, level, unit_code, row_code, col_key, value"
    cells = db.execute(f"SELECT {key} FROM cells").fetchall()
    assert len(cells) > 0
    assert sorted(db.execute(f"SELECT {key} FROM form_cells").fetchall()) == sorted(cells)
    # Row 37 of 02-TH-ĐN (schemas/forms/tt24/02-TH-DN.yaml): "3.1. Tổng quy mô", column J (6) "Công lập / Nữ".
    row = db.execute(
        "SELECT form_code_printed, form_title_vi, form_title_en, row_tt, row_label_vi, row_label_en, col_number, "
        "col_label_vi, col_label_en, unit_name, value FROM form_cells "
        "WHERE form = '02-TH-DN' AND level = 'school' AND unit_code = ? AND row_code = 37 AND col_key = 'CL.female'",
        [A],
    ).fetchall()
    assert row == [("02-TH-ĐN", "BÁO CÁO THỐNG KÊ GIÁO DỤC TIỂU HỌC", "Primary education statistics report", "3.1.",
                    "Tổng quy mô", "Total enrolment", 6, "Công lập / Nữ", "Public / Female",
                    f"Trường Tiểu học {A}", 2)]  # fmt: skip
    totals = dict(db.execute(
        "SELECT level || ':' || unit_code, value FROM form_cells WHERE form = '02-TH-DN' AND row_code = 37 "
        "AND col_key = 'T.all'").fetchall())  # fmt: skip
    assert totals == {f"school:{A}": 3, f"school:{B}": 2, "phong:643": 3, "phong:644": 2, "so:66": 5}
    ethnic = db.execute("SELECT unit_name, col_label_en, value FROM form_cells WHERE form = '02-TH-DN' "
                        "AND level = 'phong' AND row_code = 37 AND col_key = 'T.ethnic'").fetchall()  # fmt: skip
    # 644 in schemas/hierarchy/education_units_pre2025.csv.
    assert ethnic == [("Phòng Giáo dục và Đào tạo Thị Xã Buôn Hồ", "Total / Ethnic minority - Total", 1)]


@pytest.mark.slow
def test_records_views_are_the_runs_pupils_and_schools(db):
    rows = db.execute("SELECT school_code, grade, female, ethnic, birth_year, age, enrolled, school_year, period "
                      "FROM learners ORDER BY ALL").fetchall()  # fmt: skip
    expected = sorted(
        (code, GRADE[code], sex == 2, eth != "01", int(born[:4]), 2024 - int(born[:4]), True, "2024-2025", "DN")
        for code, people in PUPILS.items() for _name, sex, eth, born in people
    )  # fmt: skip
    assert rows == expected
    schools = db.execute("SELECT school_code, school_name, phong_code, so_code, ownership FROM schools "
                         "ORDER BY 1").fetchall()  # fmt: skip
    assert schools == [
        (A, f"Trường Tiểu học {A}", "643", "66", "CL"),
        (B, f"Trường Tiểu học {B}", "644", "66", "CL"),
    ]
    # The counts: A has two girls and a boy in grade 1, all Kinh, born 2018 (age 6); B a Kinh boy born 2017
    # and an ethnic-minority boy (03) born 2017, grade 2.
    counts = db.execute("SELECT school_code, phong_code, so_code, grade, female, ethnic, age, learners "
                        "FROM learner_counts ORDER BY ALL").fetchall()  # fmt: skip
    assert counts == [(A, "643", "66", 1, False, False, 6, 1), (A, "643", "66", 1, True, False, 6, 2),
                      (B, "644", "66", 2, False, False, 7, 1), (B, "644", "66", 2, False, True, 7, 1)]  # fmt: skip
    files = db.execute(
        "SELECT school_code, status, reason, learner_records FROM file_log ORDER BY 1"
    ).fetchall()
    assert files == [(A, "loaded", None, 3), (B, "loaded", None, 2)]
    log = db.execute(
        "SELECT school_code, version, is_current, state FROM submission_log ORDER BY 1"
    ).fetchall()
    # Received: the run records each submission at ingest and moves the schools on at export (not run here).
    assert log == [(A, 1, True, "received"), (B, 1, True, "received")]


@pytest.mark.slow
def test_the_ledger_view_holds_every_input_of_the_run(db):
    """Two registry rows, two files, and in A's file the school, one class and three pupils, in B's
    the school, one class and two pupils: 9 records, all counted (no defect in this province)."""
    counts = db.execute(
        "SELECT input, outcome, reason, count(*) FROM ledger GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert counts == [("inbox_entry", "counted", None, 2), ("record", "counted", None, 9),
                      ("registry_row", "counted", None, 2)]  # fmt: skip
    pupils = db.execute(
        "SELECT school_code, position FROM ledger WHERE position LIKE 'LstHocSinh%' ORDER BY ALL"
    )
    assert pupils.fetchall() == [(A, "LstHocSinh[0]"), (A, "LstHocSinh[1]"), (A, "LstHocSinh[2]"),
                                 (B, "LstHocSinh[0]"), (B, "LstHocSinh[1]")]  # fmt: skip


def test_the_ledger_view_on_a_hand_made_ledger(tmp_path):
    """A hand-made ledger of two periods: the view shows each input with its one outcome and reason,
    typed as the dictionary declares, and what was not counted is one query away."""
    from pipelines.analyst import views as analyst_views
    from pipelines.ingest import ledger as ingest_ledger

    missing = ("Không có trong danh sách trường", "Not in the registry")
    dn = [
        ("registry_row", "registry.xlsx", "5", A, "counted", None, None, None),
        ("registry_row", "registry.xlsx", "6", B, "not_expected", "registry.inactive", "Trường không hoạt động",
         "School not active"),
        ("inbox_entry", "inbox", f"643/{A}_2024_1.json", A, "counted", None, None, None),
        ("inbox_entry", "inbox", "643/ghi-chu.txt", None, "not_read", "entry.not_data", "Không phải tệp dữ liệu",
         "Not a data file"),
        ("inbox_entry", "inbox", "66643999_2024_1.json", "66643999", "rejected", "school.unknown", *missing),
        ("record", f"643/{A}_2024_1.json", "TruongHocInfo", A, "counted", None, None, None),
        ("record", f"643/{A}_2024_1.json", "LstHocSinh[0]", A, "counted", None, None, None),
        ("record", f"643/{A}_2024_1.json", "LstHocSinh[1]", A, "excluded", "learner.MaDanToc.codelist",
         "Giá trị của MaDanToc không có trong danh mục", "Value of MaDanToc not in code list"),
    ]  # fmt: skip
    cn = [("registry_row", "registry.xlsx", "5", A, "counted", None, None, None)]
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest_ledger.add(con, "run-dn", "2024-2025", "DN", dn)
        ingest_ledger.add(con, "run-cn", "2024-2025", "CN", cn)
        # The view as create_views makes it (the others need a run's typed tables: not made here).
        view = next(v for v in catalog_views.views() if v.name == "ledger")
        con.execute(f"CREATE VIEW ledger AS {analyst_views.view_sql(view)}")
        columns = [(c, t) for c, t, *_ in con.execute("DESCRIBE ledger").fetchall()]
        assert columns == [(c, "VARCHAR") for c in CONTRACT["ledger"].split()]
        by_outcome = con.execute(
            "SELECT period, input, outcome, count(*) FROM ledger GROUP BY ALL ORDER BY ALL"
        )
        assert by_outcome.fetchall() == [
            ("CN", "registry_row", "counted", 1),
            ("DN", "inbox_entry", "counted", 1), ("DN", "inbox_entry", "not_read", 1),
            ("DN", "inbox_entry", "rejected", 1), ("DN", "record", "counted", 2), ("DN", "record", "excluded", 1),
            ("DN", "registry_row", "counted", 1), ("DN", "registry_row", "not_expected", 1),
        ]  # fmt: skip
        not_counted = con.execute("SELECT position, outcome, reason, message_en FROM ledger "
                                  "WHERE period = 'DN' AND outcome <> 'counted' ORDER BY position").fetchall()  # fmt: skip
        assert not_counted == [
            ("6", "not_expected", "registry.inactive", "School not active"),
            ("643/ghi-chu.txt", "not_read", "entry.not_data", "Not a data file"),
            ("66643999_2024_1.json", "rejected", "school.unknown", "Not in the registry"),
            ("LstHocSinh[1]", "excluded", "learner.MaDanToc.codelist", "Value of MaDanToc not in code list"),
        ]
        assert con.execute("SELECT DISTINCT run_id FROM ledger WHERE period = 'DN'").fetchall() == [
            ("run-dn",)
        ]


@pytest.mark.slow
def test_no_view_shows_a_personal_field_in_clear(db):
    """Names, pupil codes and birth dates of the inputs appear in no view; keys are keyed hashes."""
    secrets = set()
    for code, people in PUPILS.items():
        for name, _sex, _eth, born in people:
            pid = f"{code}-{name}"
            secrets |= {pid, f"HS{pid}", f"Học Sinh {pid}", born}
    view_names = [v.name for v in catalog_views.views()]
    for view in view_names:
        for row in db.execute(f"SELECT * FROM {view}").fetchall():
            for value in row:
                assert str(value) not in secrets, (view, value)
                assert not any(s in str(value) for s in secrets if len(s) > 10), (view, value)
    keys = [k for (k,) in db.execute("SELECT learner_key FROM learners").fetchall()]
    assert len(set(keys)) == 5 and all(re.fullmatch(r"[0-9a-f]{16,}", k) for k in keys)
    # No view column is a personal field as sent: each one that comes from a pii field is derived.
    pii = {f"{s.entity}.{f.name}" for s in catalog.sources() for f in s.fields if f.pii}
    for v in catalog_views.views():
        for c in v.columns:
            assert c.source not in pii or c.derived, (v.name, c.name)
            assert c.name not in {"HoTen", "TenCanBo", "MaHocSinh", "NgaySinh", "ClientId", "MaCanBo"}


def test_every_form_column_header_has_an_english_label():
    for form in catalog_views.all_forms():
        for cs in form.column_sets.values():
            for c in cs.columns:
                assert catalog_views.column_label_en(c.header_vi)
    assert (
        catalog_views.column_label_en("Công lập / Dân tộc thiểu số - Nữ")
        == "Public / Ethnic minority - Female"
    )


def test_docs_dictionary_md_is_up_to_date():
    """docs/dictionary.md is generated from schemas/views.yaml (and the sources and code lists): after
    changing a view, regenerate it with `edustat rules` and commit it."""
    committed = (catalog.SCHEMAS.parent / "docs" / rule_docs.DICTIONARY_DOC).read_text(encoding="utf-8")
    assert committed == rule_docs.render_dictionary(), (
        "docs/dictionary.md is out of date with schemas/views.yaml: run `edustat rules` and commit it"
    )


def test_rules_command_writes_the_dictionary(tmp_path, capsys):
    assert cli.main(["rules", "--out", str(tmp_path / "docs")]) == 0
    assert str(tmp_path / "docs" / "dictionary.md") in capsys.readouterr().out
    text = (tmp_path / "docs" / "dictionary.md").read_text(encoding="utf-8")
    for view in CONTRACT:
        assert f"## `{view}`" in text
    # Sex of a learner: derived from GioiTinh of LstHocSinh; the grade code keeps DM_KHOI (grade.csv),
    # linked relative to the page.
    assert "| `female` | BOOLEAN |  | suy ra từ / derived from `LstHocSinh.GioiTinh` |" in text
    link = re.search(r"\| `grade_code` \| VARCHAR \| \[grade\]\(([^)]+)\)", text).group(1)
    assert (tmp_path / "docs" / link).resolve() == catalog.SCHEMAS / "codelists" / "grade.csv"
