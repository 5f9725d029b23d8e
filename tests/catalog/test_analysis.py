"""schemas/analysis.yaml: what the notebooks read of the forms, checked against the form catalogue."""

from __future__ import annotations

import pytest

from pipelines.catalog import CatalogError
from pipelines.catalog.analysis import CommuneCells, EnrolmentCells, commune_cells, enrolment_cells

GOOD = """
enrolment:
  regime: tt24
  form: 02-TH-DN
  total: {row: 37, column: T.all}
  all_column: T.all
  female_column: T.female
  grades: {41: 2, 40: 1}
"""


def _load(tmp_path, text: str) -> EnrolmentCells:
    path = tmp_path / "analysis.yaml"
    path.write_text(text, encoding="utf-8")
    return enrolment_cells(path)


def test_the_real_file_names_the_primary_form_and_its_grade_rows():
    cells = enrolment_cells()
    assert (cells.form, cells.total_row, cells.total_column) == ("02-TH-DN", 37, "T.all")
    assert cells.grade_rows == ((40, 1), (41, 2), (42, 3), (43, 4), (44, 5))


def test_grades_come_in_grade_order(tmp_path):
    assert _load(tmp_path, GOOD).grade_rows == ((40, 1), (41, 2))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("form: 02-TH-DN", "form: 02-TH-XX"), "no form '02-TH-XX' in regime 'tt24'"),
        (("{row: 37,", "{row: 9999,"), "enrolment.total: form 02-TH-DN (tt24) has no row 9999"),
        (("{41: 2,", "{41: 2, 999: 3,"), "has no row 999"),
        (("female_column: T.female", "female_column: T.girls"), "column 'T.girls' is not printed on row"),
        (("  all_column: T.all\n", ""), "missing keys ['all_column']"),
        (("{41: 2, 40: 1}", "{41: 1, 40: 1}"), "a grade is given twice"),
        (("{41: 2,", "{forty: 2,"), "a row code is a whole number"),
    ],
)
def test_a_mistake_names_the_file_and_the_key(tmp_path, change, message):
    with pytest.raises(CatalogError, match="analysis.yaml") as err:
        _load(tmp_path, GOOD.replace(*change))
    assert message in str(err.value)


COMMUNES = """
enrolment: {}
communes:
  regime: tt24
  levels:
    primary:
      form: 02-TH-DN
      schools: [[1, T]]
      multi_level_schools: [[135, T]]
      classes: [[27, T]]
      learners: [[37, T.all]]
      teachers: [[96, T.all]]
"""


def _communes(tmp_path, text: str) -> CommuneCells:
    path = tmp_path / "analysis.yaml"
    path.write_text(text, encoding="utf-8")
    return commune_cells(path)


def test_the_real_file_names_the_three_levels_a_commune_manages():
    cells = commune_cells()
    assert [(lv.level, lv.form) for lv in cells.levels] == [
        ("preschool", "01-MN-DN"), ("primary", "02-TH-DN"), ("lower_secondary", "03-THCS-DN")]  # fmt: skip
    primary = cells.levels[1].cells
    # The primary form's pupils (r37) over its classes (r27): indicator 2106.2's numerator and denominator.
    assert ("learners", 37, "T.all") in primary and ("classes", 27, "T") in primary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("form: 02-TH-DN", "form: 02-TH-XX"), "communes.levels.primary: no form '02-TH-XX'"),
        (("[[135, T]]", "[[9999, T]]"), "has no row 9999"),
        (("[[37, T.all]]", "[[37, T]]"), "column 'T' is not printed on row 37"),
        (("      teachers: [[96, T.all]]\n", ""), "missing keys ['teachers']"),
        (("[[27, T]]", "[27, T]"), "expected [row, column]"),
    ],
)
def test_a_mistake_in_the_communes_section_names_the_file_and_the_key(tmp_path, change, message):
    with pytest.raises(CatalogError, match="analysis.yaml") as err:
        _communes(tmp_path, COMMUNES.replace(*change))
    assert message in str(err.value)
