"""The national indicators read off the forms' cells (schemas/indicators/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pipelines.catalog.forms import form
from pipelines.catalog.loader import SCHEMAS, CatalogError, build, load_yaml

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


def _cells(value: Any) -> tuple[tuple[int, str], ...]:
    """[37, T.all] (one cell) or [[124, T.all], [157, T.all]] (a sum of cells)."""
    if not value:
        return ()
    items = value if isinstance(value[0], list) else [value]
    return tuple((int(row), str(col)) for row, col in items)


def _population(raw: dict[str, Any], where: str) -> None:
    """denominator_population: {ages: [6, 10], sex: all} → population_ages, population_sex."""
    pop = raw.pop("denominator_population", None)
    if pop is None:
        return
    if not isinstance(pop, dict) or set(pop) - {"ages", "sex"} or "ages" not in pop:
        raise CatalogError(
            f"{where}: denominator_population must be {{ages: [from, to], sex: all|female|male}}"
        )
    ages = pop["ages"]
    lo, hi = POPULATION_AGES
    if not (isinstance(ages, list) and len(ages) == 2 and all(isinstance(a, int) for a in ages)
            and lo <= ages[0] <= ages[1] <= hi):  # fmt: skip
        raise CatalogError(f"{where}: denominator_population ages must be [from, to] within {lo}-{hi}")
    sex = str(pop.get("sex", "all"))
    if sex not in POPULATION_SEXES:
        raise CatalogError(f"{where}: denominator_population sex must be one of {POPULATION_SEXES}")
    if raw.get("denominator"):
        raise CatalogError(f"{where}: a denominator of cells and a denominator_population exclude each other")
    raw["population_ages"] = (ages[0], ages[1])
    raw["population_sex"] = sex


@cache
def indicators(regime: str = "tt24") -> tuple[Indicator, ...]:
    """schemas/indicators/*.yaml, each checked against the grid of its form."""
    out: list[Indicator] = []
    for path in sorted((SCHEMAS / "indicators").glob("*.yaml")):
        for raw in load_yaml(path)["indicators"]:
            raw = dict(raw)
            where = f"{path.name} indicator {raw.get('id')}"
            for key in ("numerator", "denominator", "minus"):
                raw[key] = _cells(raw.get(key))
            _population(raw, where)
            if "denominator_earlier" in raw:
                earlier = raw.pop("denominator_earlier")
                raw["denominator_earlier"] = (earlier["form"], earlier["period"], int(earlier["years_back"]))
                raw["denominator"] = _cells(earlier["cells"])
            if "gpi" in raw:
                gpi = raw["gpi"]
                if not isinstance(gpi, dict) or set(gpi) != {"female", "male"}:
                    raise CatalogError(
                        f"{where}: gpi must be {{female: <indicator id>, male: <indicator id>}}"
                    )
                raw["gpi"] = (str(gpi["female"]), str(gpi["male"]))
            ind = build(Indicator, raw, where)
            if not ind.numerator and not ind.gpi:
                raise CatalogError(f"{where}: no numerator")
            if ind.gpi:
                known = {i.id: i for i in out}
                for ref in ind.gpi:
                    if ref not in known or known[ref].kind != "population" or known[ref].form != ind.form:
                        raise CatalogError(
                            f"{where}: gpi names {ref!r}, not an earlier population rate of {ind.form}"
                        )
            for form_name, cells in (
                (ind.form, ind.numerator + ind.minus),
                (ind.denominator_earlier[0] if ind.denominator_earlier else ind.form, ind.denominator),
            ):
                f = form(regime, form_name)
                printed = {(r.code, c.key) for r in f.cell_rows for c in f.columns_for(r)}
                for cell in cells:
                    if cell not in printed:
                        raise CatalogError(f"{path.name} {ind.id}: {form_name} prints no cell {cell}")
            out.append(ind)
    return tuple(out)
