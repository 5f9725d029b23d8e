"""A tiny schemas folder of hand-made files, and how a test checks a CatalogError's file, key path
and line. Each test writes the files it needs (a valid one, or a valid one with one mistake) under
tmp_path/schemas and points the loader at it with `root`."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.catalog import CatalogError

GENDER_CSV = "code,name_vi,name_en,source\n01,Nam,Male,test\n02,Nữ,Female,test\n"
GRADE_CSV = "code,name_vi,name_en,source\n01,Khối 1,Grade 1,test\n02,Khối 2,Grade 2,test\n"

LEARNER = """\
entity: learner
json_path: LstHocSinh
label_vi: Học sinh
label_en: Learner
fields:
  - {name: ClientId, type: string, required: true, max_length: 50}
  - {name: HoTen, type: string, pii: hash}
  - {name: NgaySinh, type: date, pii: year_month}
  - {name: GioiTinh, type: code, codelist: gender, required: true}
  - {name: KhoiHoc, type: code, codelist: grade}
  - {name: MaLopHocDn, type: string}
rules:
  - id: learner.duplicate
    severity: error
    duplicate_of: [ClientId]
    field: ClientId
    message_vi: Học sinh bị khai báo trùng
    message_en: Pupil listed twice
  - id: learner.class_not_found
    severity: error
    missing_in: {entity: class, field: MaLopHoc, via: MaLopHocDn}
    field: MaLopHocDn
    message_vi: Lớp không có
    message_en: Class not found
  - id: learner.too_many
    kind: outlier
    severity: warning
    scope: province
    field: KhoiHoc
    params: {ratio: 1.5}
    query: SELECT b.row_id FROM b WHERE $ratio > 1
    message_vi: Quá nhiều
    message_en: Too many
"""

CLASS = """\
entity: class
json_path: LstLopHocInfo
label_vi: Lớp
label_en: Class
fields:
  - {name: MaLopHoc, type: string, required: true}
  - {name: KhoiHoc, type: code, codelist: grade}
"""

FORM = """\
form: 01-X-DN
code_printed: 01-X-ĐN
regime: tt24
period: DN
education_level: '01'
status: inferred
status_note: A test form.
source: tests
title_vi: BIỂU THỬ
title_en: Test form
period_vi: Kỳ đầu năm học
as_of_vi: (có đến 30 tháng 9 năm {start_year})
scope:
  school: 'TRUE'
  learner: enrolled
school_attributes:
  n_classes:
    entity: class
sheets:
- name: Trường
  heading_vi: I. TRƯỜNG
  column_set: schools
  title_block: true
- name: Học sinh
  heading_vi: II. HỌC SINH
  column_set: pupils
column_sets:
  schools:
    dims: []
    columns:
    - {key: T, excel_col: E, number: 1, header_vi: Tổng số, filter: 'TRUE'}
  pupils:
    dims: [female]
    columns:
    - {key: T.all, excel_col: E, number: 1, header_vi: Tổng số, filter: 'TRUE'}
    - {key: T.female, excel_col: F, number: 2, header_vi: Nữ, filter: female}
column_relations:
  pupils:
  - {check: T.female <= T.all, basis: I}
rows:
- sheet: Trường
  tt: I
  label_vi: Trường
  label_en: Schools (section)
- code: 1
  sheet: Trường
  label_vi: Tổng số trường
  label_en: Schools
  unit: trường
  entity: school
  filter: n_classes > 0
- code: 2
  sheet: Học sinh
  label_vi: Học sinh
  label_en: Pupils
  unit: người
  entity: learner
  relations:
  - {check: r2 >= r3, basis: L}
- code: 3
  sheet: Học sinh
  label_vi: Học sinh lớp 1
  label_en: Grade 1 pupils
  unit: người
  entity: learner
  filter: grade = 1
  not_applicable: [T.female]
"""

EXTENSION = """\
# The test grid under a later regime.
extends: tt24/01-X-DN
form: 01.DN-X
code_printed: 01.ĐN-X
regime: tt25
status: provisional
status_note: Borrowed grid.
source: tests
"""


@dataclass
class Schemas:
    """A schemas folder under tmp_path: write files into it, find the line of a snippet."""

    root: Path

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def line(self, rel: str, snippet: str, nth: int = 1) -> int:
        """The line (from 1) of the nth line of a file that holds a snippet."""
        hits = [
            i
            for i, text in enumerate((self.root / rel).read_text(encoding="utf-8").splitlines(), 1)
            if snippet in text
        ]
        return hits[nth - 1]


@pytest.fixture
def schemas(tmp_path: Path) -> Schemas:
    s = Schemas(tmp_path / "schemas")
    s.write("codelists/gender.csv", GENDER_CSV)
    s.write("codelists/grade.csv", GRADE_CSV)
    return s


def assert_problem(error: CatalogError, file: str, path: str, line: int, words: str = "") -> None:
    """The error names the file (from the project root), the key path and the line, and says `words`."""
    text = str(error)
    assert f"schemas/{file}, line {line}, {path}: " in text, text
    assert words in text, text
    first = next(p for p in error.problems if p.path == path)
    assert (first.file, first.line) == (f"schemas/{file}", line)
