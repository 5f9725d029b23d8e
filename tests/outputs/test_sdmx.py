"""SDMX exchange: the structure message and the SDMX-CSV files read back with sdmx1, a hand-worked
case, and every cell of a generated province's cells.csv once in cells.sdmx.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb
import pytest

from pipelines import catalog, warehouse
from pipelines.aggregate import INDICATOR_COLUMNS
from pipelines.outputs import sdmx as sdmx_export
from tests.conftest import SHARED_SCHOOLS

SCHOOL, PHONG, SO = "66643001", "643", "66"
OTHER_PROVINCE_SCHOOL = "67601001"  # in the warehouse, not among this run's units


def _tiny_warehouse() -> duckdb.DuckDBPyConnection:
    """A hand-made warehouse: one school under one Phòng and Sở, a few cells and indicators."""
    con = duckdb.connect()
    con.execute("CREATE TABLE units (level VARCHAR, unit_code VARCHAR, name_vi VARCHAR, "
                "parent_level VARCHAR, parent_code VARCHAR)")  # fmt: skip
    con.execute(
        "INSERT INTO units VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
        ["school", SCHOOL, "Trường Tiểu học Hoa Sen", "phong", PHONG,
         "phong", PHONG, "Phòng Giáo dục và Đào tạo Thành phố Buôn Ma Thuột", "so", SO,
         "so", SO, "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "bo", "BO",
         "bo", "BO", "Bộ Giáo dục và Đào tạo", None, None],
    )  # fmt: skip
    con.execute(
        "CREATE TABLE cells (school_year VARCHAR, period VARCHAR, regime VARCHAR, form VARCHAR, "
        "level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR, value BIGINT, "
        "boundaries VARCHAR DEFAULT '2024')"
    )  # fmt: skip (the warehouse's columns)
    cells = [
        # row 37 = Tổng quy mô (pupils), sheet III, learner columns
        ("DN", "02-TH-DN", "school", SCHOOL, 37, "T.all", 312),
        ("DN", "02-TH-DN", "school", SCHOOL, 37, "T.female", 150),
        ("DN", "02-TH-DN", "school", SCHOOL, 37, "CL.ethnic_female", 41),
        # row 80 = principals, staff columns: a contract split stays in COL only
        ("DN", "02-TH-DN", "phong", PHONG, 80, "CL.vc_indefinite", 9),
        # row 1 = schools, ownership columns
        ("DN", "02-TH-DN", "so", SO, 1, "TT", 3),
        # 01-MN-DN row 83 = children enrolled; Dân lập is the people-founded ownership
        ("DN", "01-MN-DN", "school", SCHOOL, 83, "DL.ethnic", 12),
        # budget: stored in whole đồng (the workbook prints 1,500.0 triệu đồng)
        ("DN", "01-MN-DN-NS", "so", SO, 15, "estimate_fy", 1_500_000_000),
        # the same period run earlier under TT 25: its form (another id) stays in the warehouse
        ("DN", "02.DN-TH", "school", SCHOOL, 37, "T.all", 310),
        # neither of these belongs to the run: another province's school, another period
        ("DN", "02-TH-DN", "school", OTHER_PROVINCE_SCHOOL, 37, "T.all", 999),
        ("CN", "02-TH-CN", "school", SCHOOL, 1, "T.all", 298),
    ]
    con.executemany(
        "INSERT INTO cells VALUES ('2024-2025', ?, CASE WHEN ? LIKE '%.%' THEN 'tt25' ELSE 'tt24' END, ?, ?, ?, ?, ?, ?, "
        "DEFAULT)",
        [(period, form, form, *rest) for period, form, *rest in cells],
    )
    con.execute(f"CREATE TABLE indicators ({', '.join(f'{c} VARCHAR' for c in INDICATOR_COLUMNS)})")
    blank = dict.fromkeys(INDICATOR_COLUMNS)
    rows = [
        # pupils per class at the Phòng: 312 / 12 = 26
        {"indicator_id": "2106.1", "numerator": 312, "denominator": 12, "value": 26.0, "level": "phong",
         "unit_code": PHONG, "boundaries": "2024"},
        # a ratio over no class is not computable
        {"indicator_id": "2106.2", "numerator": 5, "denominator": 0, "value": None, "level": "phong",
         "unit_code": PHONG, "boundaries": "2024"},
        # the same indicator on the other boundary version is not this run's
        {"indicator_id": "2106.1", "numerator": 312, "denominator": 12, "value": 26.0, "level": "so",
         "unit_code": SO, "boundaries": "2025"},
    ]  # fmt: skip
    for row in rows:
        values = {**blank, "school_year": "2024-2025", "period": "DN", "form": "02-TH-DN", "name_vi": "x",
                  "name_en": "x", "status": "sourced", **row}  # fmt: skip
        con.execute(
            f"INSERT INTO indicators VALUES ({', '.join('?' * len(INDICATOR_COLUMNS))})",
            [None if values[c] is None else str(values[c]) for c in INDICATOR_COLUMNS],
        )
    return con


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdmx_tiny")
    con = _tiny_warehouse()
    result = sdmx_export.export_sdmx(con, out, "2024-2025", "DN", "2024", catalog.forms_for("tt24", "DN"))
    structure = sdmx_export.read_structure(out / sdmx_export.STRUCTURE_FILE)
    return out, result, structure


def _observations(message) -> list[tuple[dict[str, str], str, dict[str, str]]]:
    return [
        ({k: kv.value for k, kv in obs.dimension.values.items()}, obs.value,
         {k: av.value for k, av in obs.attached_attribute.items()})
        for ds in message.data for obs in ds.obs
    ]  # fmt: skip


def test_the_structure_message_reads_back_with_its_two_dsds(tiny):
    _, _, structure = tiny
    cells_dsd = structure.structure["DSD_EDU_FORM_CELLS"]
    assert [d.id for d in cells_dsd.dimensions.components] == [
        "REF_AREA", "UNIT_LEVEL", "FORM", "ROW", "COL", "SEX", "ETHNICITY", "OWNERSHIP", "TIME_PERIOD"
    ]  # fmt: skip
    assert [m.id for m in cells_dsd.measures.components] == ["OBS_VALUE"]
    assert {"SCHOOL_YEAR", "UNIT_MEASURE"} <= {a.id for a in cells_dsd.attributes.components}
    ind_dsd = structure.structure["DSD_EDU_INDICATORS"]
    assert [d.id for d in ind_dsd.dimensions.components] == [
        "REF_AREA",
        "UNIT_LEVEL",
        "INDICATOR",
        "TIME_PERIOD",
    ]
    assert {"NUMERATOR", "DENOMINATOR"} <= {a.id for a in ind_dsd.attributes.components}
    assert cells_dsd.maintainer.id == "VN_EDUSTAT"
    # The status travels as an annotation (sdmx1 2.28 reads those of dataflows and concept schemes;
    # it does not keep a DSD's own, which the file carries too).
    for artefact in (*structure.dataflow.values(), structure.concept_scheme["CS_EDUSTAT"]):
        assert artefact.get_annotation(id="EDUSTAT_STATUS").title == "inferred"
    assert {c.id for c in structure.codelist["CL_SEX"]} == {"_T", "F"}
    assert str(structure.codelist["CL_SEX"]["F"].name["vi"]) == "Nữ"
    # the run's units only, with their names
    assert {c.id for c in structure.codelist["CL_AREA"]} == {SCHOOL, PHONG, SO, "BO"}
    assert str(structure.codelist["CL_AREA"][SCHOOL].name["vi"]) == "Trường Tiểu học Hoa Sen"
    row = structure.codelist["CL_ROW"]["02-TH-DN_37"]
    assert str(row.name["en"]) == "02-TH-ĐN, row 37: Total enrolment"
    column = structure.codelist["CL_COL"]["CL_ethnic_female"]  # printed "Công lập / Dân tộc thiểu số - Nữ"
    assert (str(column.name["vi"]), str(column.name["en"])) == (
        "Công lập / Dân tộc thiểu số - Nữ",
        "Public / Ethnic minority - Female",
    )


def test_hand_worked_cells_get_their_sex_ethnicity_and_ownership(tiny):
    out, result, structure = tiny
    message = sdmx_export.read_data(out / sdmx_export.CELLS_FILE, structure, "DF_EDU_FORM_CELLS")
    got = {(d["FORM"], d["REF_AREA"], d["ROW"], d["COL"]): (d, v, a) for d, v, a in _observations(message)}
    assert result.cells == len(got) == 8  # the other province's school and the CN cell stay out

    def dims(form, unit, row, col):
        d, _, _ = got[(form, unit, row, col)]
        return d["UNIT_LEVEL"], d["SEX"], d["ETHNICITY"], d["OWNERSHIP"], d["TIME_PERIOD"]

    assert dims("02-TH-DN", SCHOOL, "02-TH-DN_37", "T_all") == ("school", "_T", "_T", "_T", "2024-09-30")
    assert dims("02-TH-DN", SCHOOL, "02-TH-DN_37", "T_female") == ("school", "F", "_T", "_T", "2024-09-30")
    assert dims("02-TH-DN", SCHOOL, "02-TH-DN_37", "CL_ethnic_female") == (
        "school",
        "F",
        "EM",
        "PUB",
        "2024-09-30",
    )
    assert dims("02-TH-DN", PHONG, "02-TH-DN_80", "CL_vc_indefinite") == (
        "phong",
        "_T",
        "_T",
        "PUB",
        "2024-09-30",
    )
    assert dims("02-TH-DN", SO, "02-TH-DN_1", "TT") == ("so", "_T", "_T", "PRIV", "2024-09-30")
    assert dims("01-MN-DN", SCHOOL, "01-MN-DN_83", "DL_ethnic") == (
        "school",
        "_T",
        "EM",
        "PEOPLE",
        "2024-09-30",
    )
    assert dims("01-MN-DN-NS", SO, "01-MN-DN-NS_15", "estimate_fy") == ("so", "_T", "_T", "_T", "2024-09-30")
    # the TT 25 form: its dots become underscores, its regime and status travel as attributes
    d, value, attrs = got[("02_DN-TH", SCHOOL, "02_DN-TH_37", "T_all")]
    assert (int(value), attrs["REGIME"], attrs["FORM_STATUS"]) == (310, "tt25", "provisional")
    values = {k: int(v) for k, (_, v, _) in got.items()}
    assert values[("02-TH-DN", SCHOOL, "02-TH-DN_37", "T_female")] == 150
    assert values[("01-MN-DN-NS", SO, "01-MN-DN-NS_15", "estimate_fy")] == 1_500_000_000  # đồng, not triệu
    units = {k: a["UNIT_MEASURE"] for k, (_, _, a) in got.items()}
    assert units[("02-TH-DN", SCHOOL, "02-TH-DN_37", "T_all")] == "PS"
    assert units[("02-TH-DN", SO, "02-TH-DN_1", "TT")] == "SCHOOL"
    assert units[("01-MN-DN-NS", SO, "01-MN-DN-NS_15", "estimate_fy")] == "VND"
    _, _, attrs = got[("02-TH-DN", SCHOOL, "02-TH-DN_37", "T_all")]
    assert (attrs["SCHOOL_YEAR"], attrs["REPORT_PERIOD"], attrs["BOUNDARIES"], attrs["FORM_STATUS"]) == (
        "2024-2025", "DN", "2024", "official"
    )  # fmt: skip


def test_hand_worked_indicators_keep_numerator_and_denominator(tiny):
    out, result, structure = tiny
    message = sdmx_export.read_data(out / sdmx_export.INDICATORS_FILE, structure, "DF_EDU_INDICATORS")
    got = {(d["REF_AREA"], d["INDICATOR"]): (v, a) for d, v, a in _observations(message)}
    assert result.indicators == len(got) == 2  # the 2025-boundaries row is another map's
    value, attrs = got[(PHONG, "2106_1")]
    assert float(value) == 26.0 and (attrs["NUMERATOR"], attrs["DENOMINATOR"]) == ("312", "12")
    value, attrs = got[(PHONG, "2106_2")]
    assert math.isnan(float(value)) and attrs["DENOMINATOR"] == "0"


def test_every_code_in_the_data_files_is_in_its_code_list(tiny):
    out, _, structure = tiny
    codes = sdmx_export.dimension_codes(structure)
    for name in (sdmx_export.CELLS_FILE, sdmx_export.INDICATORS_FILE):
        with (out / name).open(encoding="utf-8", newline="") as fh:
            for line in csv.DictReader(fh):
                for column, allowed in codes.items():
                    if column in line:
                        assert line[column] in allowed, (name, column, line[column])


def test_a_folder_with_an_apostrophe_gets_the_same_files(tiny, tmp_path):
    """The output folder is never pasted into SQL: a name like "it's" breaks no COPY."""
    out = tmp_path / "it's here"
    con = _tiny_warehouse()
    result = sdmx_export.export_sdmx(con, out, "2024-2025", "DN", "2024", catalog.forms_for("tt24", "DN"))
    assert (result.cells, result.indicators) == (tiny[1].cells, tiny[1].indicators)
    for name in (sdmx_export.CELLS_FILE, sdmx_export.INDICATORS_FILE):
        assert (out / name).read_bytes() == (tiny[0] / name).read_bytes()


def test_time_period_is_the_as_of_date():
    assert sdmx_export.time_period("2024-2025", "DN") == "2024-09-30"
    assert sdmx_export.time_period("2024-2025", "CN") == "2025-05-31"


def test_every_column_and_row_of_every_form_maps():
    """A column's SEX / ETHNICITY / OWNERSHIP agree with its key ("CL.ethnic_female": F, EM, PUB)."""
    ownership = {"T": "_T", "CL": "PUB", "TT": "PRIV", "DL": "PEOPLE"}
    for regime in ("tt24", "tt25"):
        for period in ("DN", "CN"):
            for form in catalog.forms_for(regime, period):
                assert sdmx_export.sdmx_id(form.form)
                for row in form.cell_rows:
                    assert sdmx_export.unit_measure(row)
                for cs in form.column_sets.values():
                    for col in cs.columns:
                        dims = sdmx_export.column_dimensions(col)
                        first, _, split = col.key.partition(".")
                        assert dims["SEX"] == ("F" if split.endswith("female") else "_T"), col.key
                        assert dims["ETHNICITY"] == ("EM" if split.startswith("ethnic") else "_T"), col.key
                        assert dims["OWNERSHIP"] == ownership.get(first, "_T"), col.key


def test_an_unknown_column_term_stops_the_export():
    column = catalog.Column("T.rural", "E", 1, "Nông thôn", "rural")
    with pytest.raises(catalog.CatalogError, match="rural"):
        sdmx_export.column_dimensions(column)


@pytest.fixture(scope="module")
def province(shared_province):
    """The session's generated province run end to end (tests/conftest.py; the export step wrote
    OUT/sdmx), read only here."""
    return shared_province[1]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_every_cell_of_cells_csv_is_once_in_cells_sdmx_csv(province):
    out = province.out
    cells = _read_csv(out / "cells.csv")
    sdmx_rows = _read_csv(out / "sdmx" / sdmx_export.CELLS_FILE)
    assert len(cells) > 1000 and len(sdmx_rows) == len(cells)
    keyed: dict[tuple, list[str]] = {}
    for r in sdmx_rows:
        keyed.setdefault((r["UNIT_LEVEL"], r["REF_AREA"], r["FORM"], r["ROW"], r["COL"]), []).append(
            r["OBS_VALUE"]
        )
    for c in cells:
        form = sdmx_export.sdmx_id(c["form"])
        key = (c["level"], c["unit_code"], form, f"{form}_{c['row_code']}", sdmx_export.sdmx_id(c["col_key"]))
        assert keyed.get(key) == [c["value"]], key
    assert {r["TIME_PERIOD"] for r in sdmx_rows} == {"2024-09-30"}


@pytest.mark.slow
def test_the_province_files_read_back_with_sdmx1(province):
    folder = province.out / "sdmx"
    structure = sdmx_export.read_structure(folder / sdmx_export.STRUCTURE_FILE)
    cells = sdmx_export.read_data(folder / sdmx_export.CELLS_FILE, structure, "DF_EDU_FORM_CELLS")
    indicators = sdmx_export.read_data(folder / sdmx_export.INDICATORS_FILE, structure, "DF_EDU_INDICATORS")
    n_cells = sum(len(ds.obs) for ds in cells.data)
    assert n_cells == len(_read_csv(province.out / "cells.csv"))
    n_ind = sum(len(ds.obs) for ds in indicators.data)
    assert n_ind == len(_read_csv(province.out / "indicators.csv")) > 0
    with warehouse.connect(province.warehouse) as con:
        schools = {c for (c,) in con.execute("SELECT unit_code FROM units WHERE level = 'school'").fetchall()}
    assert len(schools) == SHARED_SCHOOLS and schools <= {c.id for c in structure.codelist["CL_AREA"]}


def test_the_cells_file_is_in_the_text_order_of_its_codes(tmp_path):
    """Rows 5, 37 and 100 of one school: as text the row ids sort 100, 37, 5 (the file sorts on the
    codes' ranks, which must give the codes' own order)."""
    con = _tiny_warehouse()
    con.executemany(
        "INSERT INTO cells VALUES ('2024-2025', 'DN', 'tt24', '02-TH-DN', 'school', ?, ?, 'T.all', ?, DEFAULT)",
        [(SCHOOL, 5, 1), (SCHOOL, 100, 2)],
    )
    sdmx_export.export_sdmx(con, tmp_path, "2024-2025", "DN", "2024", catalog.forms_for("tt24", "DN"))
    lines = (tmp_path / sdmx_export.CELLS_FILE).read_text(encoding="utf-8").splitlines()[1:]
    keys = [tuple(line.split(",")[3:8]) for line in lines]  # REF_AREA, UNIT_LEVEL, FORM, ROW, COL
    school = [(row, col) for area, level, form, row, col in keys if (form, level) == ("02-TH-DN", "school")]
    assert school == [("02-TH-DN_100", "T_all"), ("02-TH-DN_37", "CL_ethnic_female"), ("02-TH-DN_37", "T_all"),
                      ("02-TH-DN_37", "T_female"), ("02-TH-DN_5", "T_all")]  # fmt: skip
    level = {"school": 0, "phong": 1, "so": 2}
    assert keys == sorted(keys, key=lambda k: (k[2], level[k[1]], k[0], k[3], k[4]))
