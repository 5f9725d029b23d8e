"""The SDMX exchange's definitions (schemas/sdmx.yaml): agency, concepts, fixed code lists, how form
columns and units map to codes, and the two data structure definitions. pipelines/outputs/sdmx.py
builds the structure message and the data files from them.

`SdmxFile` is the model of the file (docs/schemas/sdmx.schema.json).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field as SpecField
from pydantic import Strict, StrictStr, model_validator

from pipelines.catalog.loader import SCHEMAS, Loc, Spec, cached, read_file, reference_problems

SDMX_FILE = SCHEMAS / "sdmx.yaml"
CROSS_DIMENSIONS = ("SEX", "ETHNICITY", "OWNERSHIP")  # read off each form column's filter
# Code lists built for each run from the catalogue and the run's units, not declared in the file.
RUN_CODELISTS = ("CL_AREA", "CL_FORM", "CL_ROW", "CL_COL", "CL_INDICATOR")
SdmxId = Annotated[str, SpecField(pattern=r"^[A-Za-z0-9_@$\-]+$")]  # SDMX 2.1 IDType
Names = Annotated[tuple[StrictStr, StrictStr], Strict(False), SpecField(description="[Vietnamese, English]")]


class Agency(Spec):
    id: SdmxId
    name_vi: str
    name_en: str


class SdmxCodelist(Spec):
    name_vi: str
    name_en: str
    codes: dict[SdmxId, Names]


class Structure(Spec):
    """A data structure definition and its dataflow: each dimension and attribute with its code list
    (null: free text; TIME_PERIOD is the time dimension)."""

    id: SdmxId
    dataflow: SdmxId
    name_vi: str
    name_en: str
    dimensions: dict[SdmxId, SdmxId | None]
    attributes: dict[SdmxId, SdmxId | None]


class SdmxFile(Spec):
    """schemas/sdmx.yaml: the SDMX exchange of a run's cells and indicators."""

    status: Literal["official", "inferred"]
    status_note_vi: str
    status_note_en: str
    version: str
    agency: Agency
    time_period: Literal["as_of_date"]
    column_terms: dict[str, dict[Literal[CROSS_DIMENSIONS], SdmxId]] = SpecField(  # type: ignore[valid-type]
        description="every AND-term of every form column filter → its SEX / ETHNICITY / OWNERSHIP codes"
    )
    units_of_measure: dict[str, SdmxId] = SpecField(description="a row's unit → UNIT_MEASURE code")
    codelists: dict[SdmxId, SdmxCodelist]
    concepts: dict[SdmxId, Names]
    structures: dict[Literal["cells", "indicators"], Structure]

    @model_validator(mode="after")
    def _references(self) -> SdmxFile:
        reference_problems(sdmx_problems(self))
        return self


def sdmx_problems(spec: SdmxFile) -> list[tuple[Loc, str]]:
    """Every code a column term or unit names is in its code list; every component of the two
    structures has a concept and a known code list."""
    out: list[tuple[Loc, str]] = []
    lists = spec.codelists
    dims = spec.structures["cells"].dimensions if "cells" in spec.structures else {}
    for term, mapping in spec.column_terms.items():
        for dim, code in mapping.items():
            cl = dims.get(dim)
            if cl not in lists or code not in lists[cl].codes:
                out.append((("column_terms", term, dim), f"unknown {dim} code {code!r} (code list {cl})"))
    units = lists.get("CL_UNIT_MEASURE")
    for unit, code in spec.units_of_measure.items():
        if units is None or code not in units.codes:
            out.append(
                (
                    ("units_of_measure", unit),
                    f"unknown UNIT_MEASURE code {code!r} (codelists.CL_UNIT_MEASURE)",
                )
            )
    for part in ("cells", "indicators"):
        if part not in spec.structures:
            out.append((("structures",), f"missing key {part!r}"))
    for part, st in spec.structures.items():
        for kind, components in (("dimensions", st.dimensions), ("attributes", st.attributes)):
            for comp, cl in components.items():
                if comp not in spec.concepts:
                    out.append((("structures", part, kind, comp), f"no concept {comp} (concepts)"))
                if cl is not None and cl not in lists and cl not in RUN_CODELISTS:
                    out.append((("structures", part, kind, comp), f"unknown code list {cl}"))
        if "TIME_PERIOD" in st.dimensions and st.dimensions["TIME_PERIOD"] is not None:
            out.append(
                (
                    ("structures", part, "dimensions", "TIME_PERIOD"),
                    "the time dimension has no code list: null",
                )
            )
    if "OBS_VALUE" not in spec.concepts:
        out.append((("concepts",), "missing key 'OBS_VALUE' (the measure's concept)"))
    return out


@cached
def spec(root: Path = SCHEMAS) -> SdmxFile:
    """schemas/sdmx.yaml, validated: every code a column term or unit names exists in its code list."""
    return read_file(SdmxFile, root / SDMX_FILE.name, root)
