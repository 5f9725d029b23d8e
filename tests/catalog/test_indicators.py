"""schemas/indicators/*.yaml: IndicatorsFile, and every cell an indicator reads printed by its form."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines import catalog
from pipelines.catalog import CatalogError, Indicator
from tests.catalog.conftest import FORM, assert_problem

FILE = "indicators/test.yaml"
INDICATORS = """\
indicators:
  - {id: X.1, form: 01-X-DN, name_vi: Số trường, name_en: Schools, numerator: [1, T]}
  - {id: X.2, form: 01-X-DN, status: inferred, name_vi: Học sinh một trường, name_en: Pupils per school,
     numerator: [[2, T.all], [3, T.all]], denominator: [1, T]}
  - {id: X.ger_female, form: 01-X-DN, scale: 100, name_vi: Tỷ lệ nữ, name_en: Female rate,
     numerator: [2, T.female], denominator_population: {ages: [6, 10], sex: female}}
  - {id: X.ger_male, form: 01-X-DN, scale: 100, name_vi: Tỷ lệ nam, name_en: Male rate,
     numerator: [2, T.all], minus: [2, T.female], denominator_population: {ages: [6, 10], sex: male}}
  - {id: X.gpi, form: 01-X-DN, name_vi: Chỉ số bình đẳng giới, name_en: Gender parity index,
     gpi: {female: X.ger_female, male: X.ger_male}}
  - {id: X.cohort, form: 01-X-DN, scale: 100, name_vi: Tỷ lệ hoàn thành, name_en: Completion rate, numerator: [3, T.all],
     denominator_earlier: {form: 01-X-DN, period: DN, years_back: 4, cells: [[2, T.all]]}}
"""


def load(schemas, text: str = INDICATORS) -> tuple[Indicator, ...]:
    schemas.write("forms/tt24/01-X-DN.yaml", FORM)
    schemas.write(FILE, text)
    return catalog.indicators("tt24", schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_valid_indicators_load_with_their_kinds(schemas):
    count, ratio, female, male, gpi, cohort = load(schemas)
    assert count == Indicator("X.1", "01-X-DN", "Số trường", "Schools", numerator=((1, "T"),))
    assert (ratio.kind, ratio.numerator, ratio.denominator, ratio.status) == ("ratio", ((2, "T.all"), (3, "T.all")), ((1, "T"),), "inferred")  # fmt: skip
    assert (female.kind, female.population_ages, female.population_sex, female.scale) == ("population", (6, 10), "female", 100)  # fmt: skip
    assert male.minus == ((2, "T.female"),)
    assert (gpi.kind, gpi.gpi, gpi.numerator) == ("gpi", ("X.ger_female", "X.ger_male"), ())
    assert (cohort.kind, cohort.denominator_earlier, cohort.denominator) == ("cohort", ("01-X-DN", "DN", 4), ((2, "T.all"),))  # fmt: skip
    assert count.kind == "count" and count.scale == 1 and count.status == "sourced"
    assert hash(cohort) and catalog.indicators("tt24", schemas.root)[0] is count


def test_a_cell_the_form_does_not_print(schemas):
    # Row 1 is on the schools sheet: it prints T, not T.all.
    err = fails(schemas, INDICATORS.replace("numerator: [1, T]}", "numerator: [1, T.all]}"))
    assert_problem(err, FILE, "indicators[0].numerator", 2, "01-X-DN prints no cell [1, T.all]")
    err = fails(schemas, INDICATORS.replace("[[2, T.all], [3, T.all]]", "[[2, T.all], [4, T.all]]"))
    assert_problem(err, FILE, "indicators[1].numerator[1]", 4, "prints no cell [4, T.all]")
    err = fails(schemas, INDICATORS.replace("cells: [[2, T.all]]", "cells: [[2, T.male]]"))
    assert_problem(err, FILE, "indicators[5].denominator_earlier.cells[0]", schemas.line(FILE, "cells:"), "prints no cell [2, T.male]")  # fmt: skip


def test_an_indicator_of_a_form_the_regime_has_not(schemas):
    err = fails(schemas, INDICATORS.replace("{id: X.1, form: 01-X-DN", "{id: X.1, form: 09-X-DN"))
    assert_problem(err, FILE, "indicators[0].form", 2, "tt24 has no form 09-X-DN")


def test_a_cell_is_a_row_code_and_a_column_key(schemas):
    err = fails(schemas, INDICATORS.replace("numerator: [1, T]}", "numerator: [T, 1]}"))
    assert_problem(err, FILE, "indicators[0].numerator", 2, "a cell is [row code, column key]")
    err = fails(schemas, INDICATORS.replace("numerator: [1, T]}", "numerator: ['1', T]}"))
    assert_problem(err, FILE, "indicators[0].numerator", 2, "a cell is")


def test_a_gpi_names_earlier_population_rates_of_its_form(schemas):
    err = fails(schemas, INDICATORS.replace("male: X.ger_male}", "male: X.2}"))
    assert_problem(err, FILE, "indicators[4].gpi.male", schemas.line(FILE, "gpi:"), "'X.2' is not an earlier population rate")  # fmt: skip


def test_the_kinds_exclude_each_other(schemas):
    err = fails(
        schemas,
        INDICATORS.replace(
            "numerator: [2, T.all], minus", "denominator: [1, T], numerator: [2, T.all], minus"
        ),
    )
    assert_problem(err, FILE, "indicators[3]", schemas.line(FILE, "id: X.ger_male"), "denominator and denominator_population exclude each other")  # fmt: skip
    err = fails(schemas, INDICATORS.replace("numerator: [1, T]}", "name: x}"))
    assert_problem(err, FILE, "indicators[0].name", 2, "unknown key 'name'")
    err = fails(schemas, INDICATORS.replace(", numerator: [1, T]}", "}"))
    assert_problem(err, FILE, "indicators[0]", 2, "no numerator")


def test_population_ages_and_sex(schemas):
    err = fails(schemas, INDICATORS.replace("ages: [6, 10], sex: female", "ages: [6, 30], sex: female"))
    assert_problem(
        err, FILE, "indicators[2].denominator_population", schemas.line(FILE, "[6, 30]"), "within 0-25"
    )
    err = fails(schemas, INDICATORS.replace("sex: male}", "sex: boys}"))
    assert_problem(err, FILE, "indicators[3].denominator_population.sex", schemas.line(FILE, "sex: boys"), "'all', 'female' or 'male'")  # fmt: skip


def test_duplicate_ids(schemas):
    err = fails(schemas, INDICATORS.replace("{id: X.2,", "{id: X.1,"))
    assert_problem(err, FILE, "indicators[1].id", 3, "duplicate indicator id X.1")


def test_the_real_indicators_load_against_the_tt24_forms():
    found = catalog.indicators()
    assert len(found) == len({i.id for i in found}) == 81
    assert {i.kind for i in found} == {"count", "ratio", "population", "gpi", "cohort"}
    assert catalog.POPULATION_AGES == (0, 25) and catalog.POPULATION_SEXES == ("all", "female", "male")


def test_docs_indicators_md_is_up_to_date():
    committed = (Path(__file__).parents[2] / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert committed == catalog.indicators_markdown(), (
        "docs/indicators.md is out of date: run `edustat rules`"
    )
