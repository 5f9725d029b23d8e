"""The national indicators read off the forms' cells (schemas/indicators/*.yaml).

`IndicatorsFile` is the model of a file (docs/schemas/indicators.schema.json); `Indicator` the frozen
object the pipeline reads. Every cell an indicator names must be printed by its form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field as SpecField,
)
from pydantic import (
    Strict,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from pipelines import settings
from pipelines.catalog.forms import form, form_path
from pipelines.catalog.loader import (
    SCHEMAS,
    Loc,
    Spec,
    cached,
    load_other,
    read_file,
    reference_problems,
    root_of,
)

POPULATION_SEXES = ("all", "female", "male")
POPULATION_AGES = (0, 25)  # the single ages a population file may hold


@dataclass(frozen=True)
class Indicator:
    """A national indicator read off a form's cells: sum(numerator cells) − sum(minus cells) over
    sum(denominator cells), or a count when it has no denominator. A cell is (row code, column key).

    A rate over population (denominator_population) divides by the population of the unit, the
    school year's start year, the ages `population_ages` (inclusive) and `population_sex`. A gender
    parity index (gpi: female indicator id, male indicator id) divides the two rates; above 1 it is
    adjusted (UNESCO: 2 − 1/GPI).
    """

    id: str
    form: str
    name_vi: str
    name_en: str
    numerator: tuple[tuple[int, str], ...] = ()
    denominator: tuple[tuple[int, str], ...] = ()
    status: str = "sourced"
    scale: float = 1  # 100 for a rate in per cent
    minus: tuple[tuple[int, str], ...] = ()  # cells taken off the numerator (male = all − female)
    population_ages: tuple[int, int] | None = None
    population_sex: str = "all"
    gpi: tuple[str, str] = ()  # (female indicator id, male indicator id)
    # A cohort rate: the denominator cells are read from an earlier year's form, e.g. grade-1
    # pupils of 02-TH-DN four years before a primary completion: (form, period, years back).
    denominator_earlier: tuple[str, str, int] | None = None
    # What the numerator and denominator are, in words, and where the definition comes from
    # (docs/indicators.md renders them with the form rows the cells are on).
    numerator_doc: str = ""
    denominator_doc: str = ""
    source: str = ""
    # A count of institutions: the school-count check sums these over a unit and compares the sum with
    # the unit's distinct schools (aggregate/schools.py).
    counts_institutions: bool = False

    @property
    def kind(self) -> str:
        """count | ratio (of cells) | population (rate over population) | gpi | cohort."""
        if self.gpi:
            return "gpi"
        if self.denominator_earlier:
            return "cohort"
        if self.population_ages:
            return "population"
        return "ratio" if self.denominator else "count"


# ---------------------------------------------------------------------------------------------
# The file model

Cell = Annotated[tuple[StrictInt, StrictStr], Strict(False)]  # [row code, column key]


def _one_message(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "cells",
            "a cell is [row code, column key], e.g. [37, T.all]; several: [[124, T.all], [157, T.all]]",
        ) from None


Cells = Annotated[Cell | list[Cell], WrapValidator(_one_message)]


def cells(value: tuple[int, str] | list[tuple[int, str]] | None) -> tuple[tuple[int, str], ...]:
    """[37, T.all] (one cell) or [[124, T.all], [157, T.all]] (a sum of cells) as a tuple of cells."""
    if value is None:
        return ()
    return (value,) if isinstance(value, tuple) else tuple(value)


class PopulationSpec(Spec):
    """Divide by the population of these single ages (inclusive) and sex."""

    ages: Annotated[tuple[StrictInt, StrictInt], Strict(False)] = SpecField(description="[from, to]")
    sex: Literal[POPULATION_SEXES] = "all"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _ages(self) -> PopulationSpec:
        lo, hi = POPULATION_AGES
        if not lo <= self.ages[0] <= self.ages[1] <= hi:
            raise ValueError(f"ages must be [from, to] within {lo}-{hi}")
        return self


class EarlierSpec(Spec):
    """A cohort rate's denominator: cells of an earlier year's form."""

    form: str
    period: Literal[tuple(settings.PERIODS)]  # type: ignore[valid-type]
    years_back: Annotated[int, SpecField(ge=1)]
    cells: Cells


class GpiSpec(Spec):
    """A gender parity index: two earlier population rates of the same form."""

    female: str
    male: str


class DocSpec(Spec):
    """An indicator in words: its numerator and denominator (the form rows are listed from the cells) and
    the source of its definition."""

    numerator: str
    denominator: str | None = SpecField(None, description="none for a count")
    source: str = SpecField(description="where the definition comes from; status: inferred says so")


class IndicatorSpec(Spec):
    id: str
    form: str = SpecField(description="the form (tt24 id) whose cells the indicator reads")
    name_vi: str
    name_en: str
    status: Literal["sourced", "inferred"] = "sourced"
    scale: Annotated[int | float, SpecField(gt=0)] = SpecField(1, description="100 for a rate in per cent")
    numerator: Cells | None = None
    minus: Cells | None = SpecField(None, description="cells taken off the numerator")
    denominator: Cells | None = None
    denominator_population: PopulationSpec | None = None
    denominator_earlier: EarlierSpec | None = None
    gpi: GpiSpec | None = None
    doc: DocSpec | None = SpecField(None, description="the indicator in words (docs/indicators.md)")
    counts_institutions: bool = SpecField(
        False,
        description="a count of institutions: the school-count check sums these (a school counted once)",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> IndicatorSpec:
        if self.gpi is not None:
            given = [k for k in ("numerator", "minus", "denominator") if getattr(self, k) is not None]
            if given or self.denominator_population or self.denominator_earlier:
                raise ValueError("a gpi divides two rates: it has no cells or denominator of its own")
            return self
        if self.numerator is None:
            raise ValueError("no numerator")
        denominators = [
            k for k in ("denominator", "denominator_population", "denominator_earlier") if getattr(self, k)
        ]
        if len(denominators) > 1:
            raise ValueError(f"{' and '.join(denominators)} exclude each other")
        return self


class IndicatorsFile(Spec):
    """schemas/indicators/*.yaml: national indicators read off the forms' cells."""

    indicators: list[IndicatorSpec]

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> IndicatorsFile:
        context = info.context or {}
        reference_problems(
            indicator_problems(
                self, context.get("regime", "tt24"), root_of(context), context.get("earlier", {})
            )
        )
        return self


def indicator_problems(
    spec: IndicatorsFile, regime: str, root: Path, earlier: dict[str, Indicator]
) -> list[tuple[Loc, str]]:
    """Unique ids, gpi naming earlier population rates, and every cell printed by its form."""
    out: list[tuple[Loc, str]] = []
    known: dict[str, tuple[str, str]] = {i.id: (i.kind, i.form) for i in earlier.values()}
    for i, ind in enumerate(spec.indicators):
        at: Loc = ("indicators", i)
        if ind.id in known:
            out.append(((*at, "id"), f"duplicate indicator id {ind.id}"))
        if ind.gpi is not None:
            for sex in ("female", "male"):
                ref = getattr(ind.gpi, sex)
                if known.get(ref) != ("population", ind.form):
                    out.append(
                        ((*at, "gpi", sex), f"{ref!r} is not an earlier population rate of {ind.form}")
                    )
        reads: list[tuple[str, Loc, Any]] = [(ind.form, (*at, k), getattr(ind, k)) for k in ("numerator", "minus", "denominator")]  # fmt: skip
        if ind.denominator_earlier is not None:
            reads.append((ind.denominator_earlier.form, (*at, "denominator_earlier", "cells"), ind.denominator_earlier.cells))  # fmt: skip
        for form_name, loc, value in reads:
            if value is None:
                continue
            if not form_path(regime, form_name, root).exists():
                where = (*at, "form") if loc[-1] != "cells" else (*at, "denominator_earlier", "form")
                out.append((where, f"{regime} has no form {form_name}"))
                continue
            f = load_other(form, regime, form_name, root)
            printed = {(r.code, c.key) for r in f.cell_rows for c in f.columns_for(r)}
            for k, cell in enumerate(cells(value)):
                if cell not in printed:
                    place = loc if isinstance(value, tuple) else (*loc, k)
                    out.append((place, f"{form_name} prints no cell [{cell[0]}, {cell[1]}]"))
        if ind.denominator_population is not None:
            known[ind.id] = ("population", ind.form)
        else:
            known[ind.id] = ("gpi" if ind.gpi else "other", ind.form)
    return out


def _indicator(s: IndicatorSpec) -> Indicator:
    pop, earlier = s.denominator_population, s.denominator_earlier
    return Indicator(
        id=s.id,
        form=s.form,
        name_vi=s.name_vi,
        name_en=s.name_en,
        numerator=cells(s.numerator),
        denominator=cells(earlier.cells) if earlier else cells(s.denominator),
        status=s.status,
        scale=s.scale,
        minus=cells(s.minus),
        population_ages=(pop.ages[0], pop.ages[1]) if pop else None,
        population_sex=pop.sex if pop else "all",
        gpi=(s.gpi.female, s.gpi.male) if s.gpi else (),
        denominator_earlier=(earlier.form, earlier.period, earlier.years_back) if earlier else None,
        numerator_doc=s.doc.numerator if s.doc else "",
        denominator_doc=(s.doc.denominator or "") if s.doc else "",
        source=s.doc.source if s.doc else "",
        counts_institutions=s.counts_institutions,
    )


@cached
def indicators(regime: str = "tt24", root: Path = SCHEMAS) -> tuple[Indicator, ...]:
    """schemas/indicators/*.yaml, each checked against the grid of its form."""
    out: dict[str, Indicator] = {}
    for path in sorted((root / "indicators").glob("*.yaml")):
        spec = read_file(IndicatorsFile, path, root, {"regime": regime, "earlier": dict(out)})
        out.update((s.id, _indicator(s)) for s in spec.indicators)
    return tuple(out.values())


# ---------------------------------------------------------------------------------------------
# The indicators in words (docs/indicators.md)


def _cells_text(form_name: str, cells_: tuple[tuple[int, str], ...], regime: str, root: Path) -> str:
    """The cells as a statistician reads them: "01-MN-ĐN mã số 97 (- Trẻ từ 3 đến 12 tháng), cột T.all"."""
    f = form(regime, form_name, root)
    labels = {r.code: r.label_vi for r in f.cell_rows}
    return "; ".join(
        f"{f.code_printed} mã số {row} ({labels.get(row, '?').lstrip('-+ ')}), cột {col}"
        for row, col in cells_
    )


def indicators_markdown(regime: str = "tt24", root: Path = SCHEMAS) -> str:
    """Every indicator with its numerator and denominator in words and as the form rows they read."""
    out = [
        "# Chỉ tiêu / Indicators",
        "",
        "Generated from `schemas/indicators/*.yaml` (`pipelines/catalog/indicators.py`, `indicators_markdown`);",
        "do not edit by hand. Each indicator: its numerator and denominator in words, the form rows (mã số) and",
        "columns its cells are read from, and the source of its definition. `status: inferred`: edustat's",
        "reading where the reference (Thông tư 03/2024's annex is not in it) is silent.",
        "",
    ]
    for i in indicators(regime, root):
        out += [
            f"## {i.id}: {i.name_vi}",
            "",
            f"*{i.name_en}* · biểu / form {i.form} · {i.status} · {i.kind}",
            "",
        ]
        num = _cells_text(i.form, i.numerator, regime, root) if i.numerator else ""
        if i.minus:
            num += " − " + _cells_text(i.form, i.minus, regime, root)
        if i.numerator_doc or num:
            out.append(f"- Tử số / numerator: {i.numerator_doc}" + (f" — {num}" if num else ""))
        if i.kind == "ratio":
            out.append(
                f"- Mẫu số / denominator: {i.denominator_doc} — {_cells_text(i.form, i.denominator, regime, root)}"
            )
        elif i.kind == "cohort" and i.denominator_earlier:
            earlier_form, period, years = i.denominator_earlier
            cells_ = _cells_text(earlier_form, i.denominator, regime, root)
            out.append(
                f"- Mẫu số / denominator: {i.denominator_doc} — {years} năm trước / years earlier, {period}: {cells_}"
            )
        elif i.kind == "population" and i.population_ages:
            lo, hi = i.population_ages
            out.append(f"- Mẫu số / denominator: {i.denominator_doc} — population.csv, tuổi / ages {lo}-{hi}, "
                       f"giới tính / sex {i.population_sex}")  # fmt: skip
        elif i.kind == "gpi":
            out.append(f"- Chỉ số / index: {i.gpi[0]} / {i.gpi[1]} (UNESCO adjusted above 1)")
        if i.scale != 1:
            out.append(f"- × {i.scale:g}")
        if i.source:
            out.append(f"- Nguồn / source: {i.source}")
        out.append("")
    return "\n".join(out)


def write_indicators_doc(folder: Path, regime: str = "tt24", root: Path = SCHEMAS) -> Path:
    """Write folder/indicators.md (`edustat rules`; tests/catalog checks docs/indicators.md is current)."""
    path = folder / "indicators.md"
    path.write_text(indicators_markdown(regime, root), encoding="utf-8")
    return path
