"""schemas/sdmx.yaml: SdmxFile, its codes and structures."""

from __future__ import annotations

import pytest

from pipelines.catalog import CatalogError, sdmx
from tests.catalog.conftest import assert_problem

FILE = "sdmx.yaml"
SDMX = """\
status: inferred
status_note_vi: Suy luận.
status_note_en: Inferred.
version: '1.0'
agency: {id: VN_TEST, name_vi: Thử, name_en: Test}
time_period: as_of_date
column_terms:
  'TRUE': {}
  female: {SEX: F}
units_of_measure:
  người: PS
codelists:
  CL_SEX:
    name_vi: Giới tính
    name_en: Sex
    codes:
      _T: [Tổng số, Total]
      F: [Nữ, Female]
  CL_UNIT_MEASURE:
    name_vi: Đơn vị tính
    name_en: Unit of measure
    codes:
      PS: [Người, Persons]
concepts:
  REF_AREA: [Đơn vị, Unit]
  SEX: [Giới tính, Sex]
  TIME_PERIOD: [Ngày, Date]
  OBS_VALUE: [Giá trị, Value]
  UNIT_MEASURE: [Đơn vị tính, Unit]
structures:
  cells:
    id: DSD_CELLS
    dataflow: DF_CELLS
    name_vi: Ô
    name_en: Cells
    dimensions: {REF_AREA: CL_AREA, SEX: CL_SEX, TIME_PERIOD: null}
    attributes: {UNIT_MEASURE: CL_UNIT_MEASURE}
  indicators:
    id: DSD_IND
    dataflow: DF_IND
    name_vi: Chỉ tiêu
    name_en: Indicators
    dimensions: {REF_AREA: CL_AREA, TIME_PERIOD: null}
    attributes: {}
"""


def load(schemas, text: str = SDMX) -> sdmx.SdmxFile:
    schemas.write(FILE, text)
    return sdmx.spec(schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_a_valid_file_loads(schemas):
    sp = load(schemas)
    assert (sp.agency.id, sp.version, sp.column_terms["female"], sp.units_of_measure["người"]) == ("VN_TEST", "1.0", {"SEX": "F"}, "PS")  # fmt: skip
    assert sp.codelists["CL_SEX"].codes["F"] == ("Nữ", "Female")
    assert sp.structures["cells"].dimensions["TIME_PERIOD"] is None


def test_codes_a_column_term_or_unit_names_are_in_their_lists(schemas):
    err = fails(schemas, SDMX.replace("female: {SEX: F}", "female: {SEX: W}"))
    assert_problem(err, FILE, "column_terms.female.SEX", 9, "unknown SEX code 'W'")
    err = fails(schemas, SDMX.replace("female: {SEX: F}", "female: {GENDER: F}"))
    assert_problem(err, FILE, "column_terms.female.GENDER", 9, "'SEX', 'ETHNICITY' or 'OWNERSHIP'")
    err = fails(schemas, SDMX.replace("người: PS", "người: PERSONS"))
    assert_problem(err, FILE, "units_of_measure.người", 11, "unknown UNIT_MEASURE code 'PERSONS'")


def test_structures_name_concepts_and_code_lists(schemas):
    err = fails(schemas, SDMX.replace("SEX: CL_SEX, TIME", "SEX: CL_GENDER, TIME"))
    assert_problem(err, FILE, "structures.cells.dimensions.SEX", schemas.line(FILE, "CL_GENDER"), "unknown code list CL_GENDER")  # fmt: skip
    err = fails(
        schemas,
        SDMX.replace("attributes: {UNIT_MEASURE: CL_UNIT_MEASURE}", "attributes: {UNIT: CL_UNIT_MEASURE}"),
    )
    assert_problem(
        err, FILE, "structures.cells.attributes.UNIT", schemas.line(FILE, "{UNIT: "), "no concept UNIT"
    )


def test_types_and_keys(schemas):
    err = fails(schemas, SDMX.replace("version: '1.0'", "version: 1.0"))
    assert_problem(err, FILE, "version", 4, "valid string")
    err = fails(schemas, SDMX.replace("F: [Nữ, Female]", "F: [Nữ]"))
    assert_problem(
        err, FILE, "codelists.CL_SEX.codes.F[1]", schemas.line(FILE, "F: [Nữ]"), "missing item [1]"
    )
    err = fails(schemas, SDMX.replace("time_period: as_of_date", "time_period: year"))
    assert_problem(err, FILE, "time_period", 6, "'as_of_date'")
    err = fails(schemas, SDMX.replace("agency: {id: VN_TEST", "agency: {id: VN.TEST"))
    assert_problem(err, FILE, "agency.id", 5, "should match pattern")


def test_the_real_file_loads():
    sp = sdmx.spec()
    assert set(sp.structures) == {"cells", "indicators"}
    assert set(sp.codelists) >= {"CL_SEX", "CL_ETHNICITY", "CL_OWNERSHIP", "CL_UNIT_MEASURE"}
