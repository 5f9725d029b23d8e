"""schemas/views.yaml: ViewsFile, the views' sources and code lists, and no personal field shown as sent."""

from __future__ import annotations

import pytest

from pipelines.catalog import CatalogError, views
from tests.catalog.conftest import CLASS, LEARNER, assert_problem

FILE = "views.yaml"
VIEWS = """\
tables:
- name: learner_cube
  sql: SELECT grade, count(*) AS learners FROM learner GROUP BY ALL
column_terms:
  Tổng số: Total
  Nữ: Female
  Dân tộc thiểu số: Ethnic minority
views:
- name: learners
  meaning_vi: Học sinh
  meaning_en: Learners
  sql: SELECT * FROM learner
  columns:
  - {name: learner_key, type: VARCHAR, source: learner.ClientId, derived: true, meaning_vi: Khoá, meaning_en: Key}
  - {name: sex, type: VARCHAR, source: learner.GioiTinh, meaning_vi: Giới tính, meaning_en: Sex}
  - {name: birth_year, type: INTEGER, source: learner.NgaySinh, derived: true, meaning_vi: Năm sinh, meaning_en: Birth year}
  - {name: grade, type: VARCHAR, codelist: grade, meaning_vi: Khối, meaning_en: Grade}
"""


def load(schemas, text: str = VIEWS):
    schemas.write("sources/learner.yaml", LEARNER)
    schemas.write("sources/class.yaml", CLASS)
    schemas.write(FILE, text)
    return views.views(schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_valid_views_load(schemas):
    (view,) = load(schemas)
    assert (view.name, [c.name for c in view.columns]) == (
        "learners",
        ["learner_key", "sex", "birth_year", "grade"],
    )
    key, sex, born, grade = view.columns
    assert (key.source, key.derived, sex.derived, grade.codelist) == (
        "learner.ClientId",
        True,
        False,
        "grade",
    )
    assert views.support_tables(schemas.root) == (("learner_cube", "SELECT grade, count(*) AS learners FROM learner GROUP BY ALL"),)  # fmt: skip
    assert views.column_terms(schemas.root)["Nữ"] == "Female"
    assert (
        views.column_label_en("Tổng số / Dân tộc thiểu số - Nữ", schemas.root)
        == "Total / Ethnic minority - Female"
    )
    with pytest.raises(CatalogError, match="no English for 'Nam'"):
        views.column_label_en("Tổng số / Nam", schemas.root)


def test_a_view_showing_a_personal_field_as_sent(schemas):
    err = fails(schemas, VIEWS.replace("source: learner.NgaySinh, derived: true", "source: learner.NgaySinh"))
    line = schemas.line(FILE, "name: birth_year")
    assert_problem(
        err,
        FILE,
        "views[0].columns[2].source",
        line,
        "learner.NgaySinh is a personal field (pii: year_month)",
    )


def test_a_column_source_that_is_no_field(schemas):
    err = fails(schemas, VIEWS.replace("source: learner.GioiTinh", "source: learner.Gender"))
    assert_problem(err, FILE, "views[0].columns[1].source", schemas.line(FILE, "learner.Gender"), "learner has no field Gender")  # fmt: skip
    err = fails(schemas, VIEWS.replace("source: learner.GioiTinh", "source: pupil.GioiTinh"))
    assert_problem(err, FILE, "views[0].columns[1].source", schemas.line(FILE, "pupil.GioiTinh"), "no schemas/sources/pupil.yaml")  # fmt: skip
    err = fails(schemas, VIEWS.replace("source: learner.GioiTinh", "source: GioiTinh"))
    assert_problem(
        err,
        FILE,
        "views[0].columns[1].source",
        schemas.line(FILE, "source: GioiTinh"),
        "should match pattern",
    )


def test_a_code_list_that_does_not_exist(schemas):
    err = fails(schemas, VIEWS.replace("codelist: grade", "codelist: grades"))
    assert_problem(
        err, FILE, "views[0].columns[3].codelist", schemas.line(FILE, "grades"), "no code list grades"
    )


def test_types_names_and_duplicates(schemas):
    err = fails(schemas, VIEWS.replace("type: INTEGER", "type: INT"))
    assert_problem(err, FILE, "views[0].columns[2].type", schemas.line(FILE, "type: INT"), "'BIGINT'")
    err = fails(schemas, VIEWS.replace("name: grade,", "name: sex,"))
    assert_problem(
        err, FILE, "views[0].columns[3].name", schemas.line(FILE, "{name: sex,", 2), "duplicate column sex"
    )
    err = fails(schemas, VIEWS.replace("- name: learners", "- name: Learners"))
    assert_problem(err, FILE, "views[0].name", schemas.line(FILE, "Learners"), "should match pattern")
    err = fails(schemas, VIEWS.replace("- name: learners", "- name: learner_cube"))
    assert_problem(
        err, FILE, "views[0].name", schemas.line(FILE, "learner_cube", 2), "duplicate view or table name"
    )
    err = fails(schemas, VIEWS.replace("column_terms:", "column_term:"))
    assert_problem(err, FILE, "column_term", 4, "did you mean 'column_terms'")


def test_the_real_views_load_and_keep_personal_fields_out():
    found = views.views()
    assert len(found) == 12 and all(isinstance(v.columns, tuple) for v in found)
    for v in found:
        for c in v.columns:
            if c.source and c.source_field.pii:
                assert c.derived, f"{v.name}.{c.name}"
    assert {f.form for f in views.all_forms()} >= {"01-MN-DN", "02.DN-TH"}
    assert views.dictionary_rows()[0][0] == found[0].name
