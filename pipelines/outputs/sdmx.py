"""SDMX exchange of a run's cells and indicators: a structure message and two SDMX-CSV files.

`OUT/sdmx/structure.xml` is an SDMX-ML 2.1 structure message built with the `sdmx1` information
model (agency, concept scheme, code lists, the data structure definitions and dataflows of
`schemas/sdmx.yaml`); `cells.sdmx.csv` and `indicators.sdmx.csv` are SDMX-CSV 2.0 (the version
sdmx1's reader reads), written by DuckDB from the warehouse (pipelines/sql/outputs/sdmx.sql) with
the code mappings as small join tables, so a province of a million cells costs one query written
straight to the file, not a million Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import catalog, warehouse
from pipelines.catalog import CatalogError, Form, views
from pipelines.catalog.sdmx import CROSS_DIMENSIONS, spec
from pipelines.settings import PERIODS, parse_school_year

__all__ = [
    "SdmxResult",
    "build_structure",
    "column_dimensions",
    "export_sdmx",
    "sdmx_forms",
    "stage_cells",
    "unstage_cells",
    "write_data",
    "write_structure",
    "read_data",
    "read_structure",
    "sdmx_id",
    "spec",
    "time_period",
]

STRUCTURE_FILE, CELLS_FILE, INDICATORS_FILE = "structure.xml", "cells.sdmx.csv", "indicators.sdmx.csv"
TOTAL = "_T"
CONCEPT_SCHEME = "CS_EDUSTAT"
# SDMX 2.1 IDType: no dots, so "T.all" travels as "T_all" and "01.DN-MN" as "01_DN-MN".
_ID = re.compile(r"[A-Za-z0-9_@$\-]+")
# The SDMX-CSV action of every row: "I" (information), a complete data set for the run's units.
ACTION = "I"
STATUS_ANNOTATION = "EDUSTAT_STATUS"


@dataclass(frozen=True)
class SdmxResult:
    folder: Path
    cells: int
    indicators: int


def sdmx_id(text: str) -> str:
    """An edustat key as an SDMX identifier (dots become underscores)."""
    out = str(text).replace(".", "_")
    if not _ID.fullmatch(out):
        raise CatalogError(f"{text!r} cannot be an SDMX identifier")
    return out


def row_id(form: Form, code: int) -> str:
    """A row's code carries its form: row 37 means something else on every form."""
    return f"{sdmx_id(form.form)}_{code}"


def time_period(school_year: str, period: str) -> str:
    """The period's as-of date (30/9 of the start year for DN, 31/5 of the end year for CN)."""
    years, month, day = PERIODS[period]
    return date(parse_school_year(school_year) + years, month, day).isoformat()


def column_dimensions(column: catalog.Column) -> dict[str, str]:
    """SEX, ETHNICITY and OWNERSHIP of a form column, from the AND-terms of its filter."""
    terms = spec().column_terms
    out = dict.fromkeys(CROSS_DIMENSIONS, TOTAL)
    for term in (t.strip() for t in re.split(r"\s+AND\s+", column.filter)):
        if term not in terms:
            raise CatalogError(f"sdmx.yaml column_terms: no mapping for {term!r} (column {column.key})")
        out.update(terms[term])
    return out


def unit_measure(row: catalog.Row) -> str:
    units = spec().units_of_measure
    if row.unit not in units:
        raise CatalogError(f"sdmx.yaml units_of_measure: no code for {row.unit!r} (row {row.code})")
    return units[row.unit]


def _column_rows(forms: Sequence[Form]) -> list[tuple[str, str, str, str, str, str]]:
    """(form, col_key, COL, SEX, ETHNICITY, OWNERSHIP) of every printed column of the forms."""
    seen: dict[tuple[str, str], tuple[str, str, str, str, str, str]] = {}
    for f in forms:
        for cs in f.column_sets.values():
            for col in cs.columns:
                dims = column_dimensions(col)
                seen[(f.form, col.key)] = (
                    f.form,
                    col.key,
                    sdmx_id(col.key),
                    *(dims[d] for d in CROSS_DIMENSIONS),
                )
    return list(seen.values())


# ---------------------------------------------------------------------------------------------
# The structure message


def _name(obj: Any, vi: str, en: str) -> None:
    obj.name["vi"] = vi
    obj.name["en"] = en


def _annotate_status(m: Any, obj: Any) -> None:
    """The structure's status (inferred) as an annotation a receiving system can read."""
    sp = spec()
    note = m.Annotation(id=STATUS_ANNOTATION, title=sp.status, type=STATUS_ANNOTATION)
    note.text["vi"] = sp.status_note_vi
    note.text["en"] = sp.status_note_en
    obj.annotations.append(note)


def _codelist(
    m: Any, agency: Any, cl_id: str, name: tuple[str, str], codes: Iterable[tuple[str, str, str]]
) -> Any:
    cl = m.Codelist(
        id=cl_id, maintainer=agency, version=spec().version, is_final=False, is_external_reference=False
    )
    _name(cl, *name)
    for code, vi, en in codes:
        c = m.Code(id=code)
        _name(c, vi, en)
        cl.append(c)
    return cl


def build_structure(
    forms: Sequence[Form],
    units: Iterable[tuple[str, str, str]],
    indicators: Sequence[catalog.Indicator],
    prepared: datetime | None = None,
) -> Any:
    """The SDMX-ML 2.1 structure message of a run: code lists, concepts, both DSDs and dataflows.

    `units` are the run's (level, unit_code, name); the reporting-unit code list holds them.
    """
    import sdmx.message
    from sdmx.model import common, v21

    sp = spec()
    version = sp.version
    agency = common.Agency(id=sp.agency.id)
    _name(agency, sp.agency.name_vi, sp.agency.name_en)
    ma = {"maintainer": agency, "version": version, "is_final": False, "is_external_reference": False}

    lists: dict[str, Any] = {}
    for cl_id, cl in sp.codelists.items():
        codes = ((str(k), v[0], v[1]) for k, v in cl.codes.items())
        lists[cl_id] = _codelist(v21, agency, cl_id, (cl.name_vi, cl.name_en), codes)
    areas: dict[str, tuple[str, str, str]] = {}
    for _level, code, name in sorted(units, key=lambda u: (u[0] != "bo", u[1])):
        areas.setdefault(code, (sdmx_id(code), name, name))  # proper names read the same in English
    lists["CL_AREA"] = _codelist(
        v21, agency, "CL_AREA", ("Đơn vị báo cáo", "Reporting units"), areas.values()
    )
    lists["CL_FORM"] = _codelist(
        v21, agency, "CL_FORM", ("Biểu mẫu thống kê", "Statistical forms"),
        ((sdmx_id(f.form), f"{f.code_printed} — {f.title_vi}", f"{f.code_printed} — {f.title_en}") for f in forms),
    )  # fmt: skip
    lists["CL_ROW"] = _codelist(
        v21, agency, "CL_ROW", ("Chỉ tiêu của biểu (mã số)", "Rows of the forms (printed code)"),
        ((row_id(f, r.code), f"{f.code_printed}, mã số {r.code}: {r.label_vi}",
          f"{f.code_printed}, row {r.code}: {r.label_en}") for f in forms for r in f.cell_rows),
    )  # fmt: skip
    columns: dict[str, tuple[str, str, str]] = {}
    for f in forms:
        for cs in f.column_sets.values():
            for col in cs.columns:
                head = " ".join(col.header_vi.split())
                columns.setdefault(col.key, (sdmx_id(col.key), head, views.column_label_en(col.header_vi)))
    lists["CL_COL"] = _codelist(
        v21, agency, "CL_COL", ("Cột của biểu", "Columns of the forms"), columns.values()
    )
    lists["CL_INDICATOR"] = _codelist(
        v21, agency, "CL_INDICATOR", ("Chỉ tiêu thống kê quốc gia", "National statistical indicators"),
        ((sdmx_id(i.id), i.name_vi, i.name_en) for i in indicators),
    )  # fmt: skip

    concepts = common.ConceptScheme(id=CONCEPT_SCHEME, **ma)
    _name(concepts, "Khái niệm của edustat", "edustat concepts")
    for cid, (vi, en) in sp.concepts.items():
        c = common.Concept(id=cid)
        _name(c, vi, en)
        concepts.append(c)

    msg = sdmx.message.StructureMessage(
        header=sdmx.message.Header(
            id="EDUSTAT_STRUCTURE", prepared=prepared or datetime.now().replace(microsecond=0),
            sender=agency, test=False,
        )
    )  # fmt: skip
    agencies = common.AgencyScheme(id="AGENCIES", **ma)
    agencies.append(agency)
    msg.organisation_scheme[agencies.id] = agencies
    _annotate_status(v21, concepts)
    msg.concept_scheme[concepts.id] = concepts
    used: set[str] = set()
    for part in sp.structures.values():
        dsd = v21.DataStructureDefinition(id=part.id, **ma)
        _name(dsd, part.name_vi, part.name_en)
        for order, (dim, cl_id) in enumerate(part.dimensions.items(), start=1):
            if dim == "TIME_PERIOD":
                facet = common.Facet(value_type=common.FacetValueType.observationalTimePeriod)
                rep = common.Representation(non_enumerated=[facet])
                component: Any = common.TimeDimension(id=dim, order=order, local_representation=rep)
            else:
                rep = common.Representation(enumerated=lists[cl_id])
                component = common.Dimension(id=dim, order=order, local_representation=rep)
                used.add(cl_id)
            component.concept_identity = concepts[dim]
            dsd.dimensions.append(component)
        dsd.measures.append(v21.PrimaryMeasure(id="OBS_VALUE", concept_identity=concepts["OBS_VALUE"]))
        for att, cl_id in part.attributes.items():
            if cl_id:
                rep = common.Representation(enumerated=lists[cl_id])
                used.add(cl_id)
            else:
                rep = common.Representation(
                    non_enumerated=[common.Facet(value_type=common.FacetValueType.string)]
                )
            dsd.attributes.append(
                common.DataAttribute(
                    id=att, concept_identity=concepts[att], local_representation=rep,
                    related_to=v21.PrimaryMeasureRelationship(), usage_status=common.UsageStatus.conditional,
                )
            )  # fmt: skip
        _annotate_status(v21, dsd)
        msg.structure[dsd.id] = dsd
        flow = v21.DataflowDefinition(id=part.dataflow, structure=dsd, **ma)
        _name(flow, part.name_vi, part.name_en)
        _annotate_status(v21, flow)
        msg.dataflow[flow.id] = flow
    for cl_id in sorted(used):
        msg.codelist[cl_id] = lists[cl_id]
    return msg


def structure_id(part: str) -> str:
    """The STRUCTURE_ID of an SDMX-CSV file: the dataflow's short URN, e.g. VN_EDUSTAT:DF_EDU_FORM_CELLS(1.0)."""
    sp = spec()
    return f"{sp.agency.id}:{sp.structures[part].dataflow}({sp.version})"


# ---------------------------------------------------------------------------------------------
# The data files


def _mapping_tables(con: duckdb.DuckDBPyConnection, forms: Sequence[Form]) -> None:
    con.execute(warehouse.sql("outputs/sdmx", "form_map"))
    warehouse.insert_rows(con, "_sdmx_form", [(f.form, sdmx_id(f.form), f.status) for f in forms])
    con.execute(warehouse.sql("outputs/sdmx", "row_map"))
    warehouse.insert_rows(
        con,
        "_sdmx_row",
        [(f.form, r.code, row_id(f, r.code), unit_measure(r)) for f in forms for r in f.cell_rows],
    )
    con.execute(warehouse.sql("outputs/sdmx", "col_map"))
    warehouse.insert_rows(con, "_sdmx_col", _column_rows(forms))
    con.execute(warehouse.sql("outputs/sdmx", "rank_maps"))


STAGED_CELLS = "_export_cells"  # the period's cells as the output files print them (stage_cells)


def stage_cells(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> str:
    """The period's cells of the run's units, in cells.csv's order, materialised once as a TEMP table
    (export.sql stage_cells) that cells.csv, cells.parquet and cells.sdmx.csv are all written from;
    its name. Dropped with unstage_cells (a TEMP table also goes with the connection)."""
    con.execute(warehouse.sql("outputs/export", "stage_cells", staged=STAGED_CELLS),
                {"school_year": school_year, "period": period})  # fmt: skip
    return STAGED_CELLS


def unstage_cells(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(warehouse.sql("outputs/export", "unstage_cells", staged=STAGED_CELLS))


def sdmx_forms(forms: Sequence[Form], of_cells: Iterable[tuple[str, str]]) -> tuple[Form, ...]:
    """The run's forms, and those of another regime the warehouse still holds for the period (a
    period run again under --regime keeps the other regime's differently named forms, and cells.csv
    lists them): every cell of cells.csv travels. `of_cells`: (regime, form) of the period's cells."""
    by_id = {f.form: f for f in forms}
    for regime, name in of_cells:
        by_id.setdefault(name, catalog.form(regime, name))
    return tuple(by_id.values())


def write_structure(con: duckdb.DuckDBPyConnection, out: Path, forms: Sequence[Form]) -> None:
    """structure.xml of the forms (sdmx_forms) and the run's units: it changes with the catalogue and
    the units only, not with the cells."""
    import sdmx

    out.mkdir(parents=True, exist_ok=True)
    units = con.execute(warehouse.sql("outputs/sdmx", "units")).fetchall()
    by_form = {f.base_form or f.form for f in forms}
    indicators = [i for i in catalog.indicators() if i.form in by_form]
    msg = build_structure(forms, units, indicators)
    (out / STRUCTURE_FILE).write_bytes(sdmx.to_xml(msg, pretty_print=True))


def write_data(con: duckdb.DuckDBPyConnection, out: Path, school_year: str, period: str, boundaries: str,
               forms: Sequence[Form], staged: str) -> SdmxResult:  # fmt: skip
    """cells.sdmx.csv (from the staged cells) and indicators.sdmx.csv of the forms (sdmx_forms)."""
    out.mkdir(parents=True, exist_ok=True)
    of_period = {"school_year": school_year, "period": period}
    _mapping_tables(con, forms)
    common = {"action": ACTION, "time_period": time_period(school_year, period)}
    # A cell whose form, row or column the catalogue does not know would travel with an empty code.
    n_cells, unmapped = con.execute(warehouse.sql("outputs/sdmx", "cells_check", staged=staged)).fetchall()[0]
    if unmapped:
        raise CatalogError(f"{unmapped} cells have a form, row or column outside the catalogue's forms")
    cells = {**common, "structure_id": structure_id("cells"), "boundaries": boundaries}
    con.sql(warehouse.sql("outputs/sdmx", "cells", staged=staged), params=cells).write_csv(
        str(out / CELLS_FILE), header=True
    )

    of_boundaries = {**of_period, "boundaries": boundaries}
    ind = {**of_boundaries, **common, "structure_id": structure_id("indicators")}
    con.sql(warehouse.sql("outputs/sdmx", "indicators"), params=ind).write_csv(
        str(out / INDICATORS_FILE), header=True
    )
    n_ind = warehouse.scalar(con, warehouse.sql("outputs/sdmx", "indicators_count"), of_boundaries)
    return SdmxResult(out, int(n_cells), int(n_ind))


def export_sdmx(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    school_year: str,
    period: str,
    boundaries: str,
    forms: Sequence[Form],
) -> SdmxResult:
    """Write structure.xml, cells.sdmx.csv and indicators.sdmx.csv of a period into `out`.

    The cells and indicators are those of the `units` table (the run's units; the warehouse may
    hold other provinces), the indicators on `boundaries` (the run's version), as in cells.csv.
    (The export step calls write_structure and write_data apart, each when its inputs changed.)
    """
    staged = stage_cells(con, school_year, period)
    try:
        of_cells = con.execute(warehouse.sql("outputs/sdmx", "forms_of_cells", staged=staged)).fetchall()
        every = sdmx_forms(forms, of_cells)
        write_structure(con, out, every)
        return write_data(con, out, school_year, period, boundaries, every, staged)
    finally:
        unstage_cells(con)


def read_structure(path: Path) -> Any:
    """The structure message back through sdmx1's reader (given an open file: it opens a path itself
    and never closes it, a ResourceWarning)."""
    import sdmx

    with path.open("rb") as fh:
        return sdmx.read_sdmx(fh, format="XML")


def read_data(path: Path, structure: Any, dataflow: str) -> Any:
    """An SDMX-CSV file back through sdmx1's reader, against a dataflow of the structure message (an
    open file, as read_structure)."""
    import sdmx

    with path.open("rb") as fh:
        return sdmx.read_sdmx(fh, format="CSV", structure=structure.dataflow[dataflow])


def dimension_codes(structure: Any) -> Mapping[str, set[str]]:
    """Every coded component of the structure message with its codes (to check a data file)."""
    out: dict[str, set[str]] = {}
    for dsd in structure.structure.values():
        for comp in [*dsd.dimensions.components, *dsd.attributes.components]:
            rep = comp.local_representation
            if rep is not None and rep.enumerated is not None:
                out[comp.id] = {c.id for c in rep.enumerated}
    return out
