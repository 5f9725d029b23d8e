"""schemas/analysis.yaml: what the notebooks read of the forms, checked against the form catalogue."""

from __future__ import annotations

import pytest

from pipelines.catalog import CatalogError
from pipelines.catalog.analysis import EnrolmentCells, enrolment_cells

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
