"""schemas/forms/<regime>/*.yaml: FormFile and FormExtension, the grid's cross-references, and the
Form objects (frozen, hashable, picklable, one object per form)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from pipelines import catalog
from pipelines.catalog import CatalogError, Column, Form, Relation, SchoolAttribute
from tests.catalog.conftest import EXTENSION, FORM, assert_problem

FILE = "forms/tt24/01-X-DN.yaml"


def load(schemas, text: str = FORM) -> Form:
    schemas.write(FILE, text)
    return catalog.form("tt24", "01-X-DN", schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_a_valid_form_loads_its_grid(schemas):
    f = load(schemas)
    assert (f.form, f.regime, f.period, f.status, f.base_form) == ("01-X-DN", "tt24", "DN", "inferred", None)
    assert f.scope == {"school": "TRUE", "learner": "enrolled"}
    assert f.school_attributes == (SchoolAttribute("n_classes", "class", "TRUE"),)
    assert [r.code for r in f.rows] == [None, 1, 2, 3] and [r.code for r in f.cell_rows] == [1, 2, 3]
    pupils = f.cell_rows[1]
    assert f.sheet_of(pupils.sheet).column_set == "pupils"
    assert f.columns_for(pupils) == (
        Column("T.all", "E", 1, "Tổng số", "TRUE"),
        Column("T.female", "F", 2, "Nữ", "female"),
    )
    assert pupils.relations == (Relation("r2 >= r3", ("r2",), ">=", ("r3",), "L"),)
    assert f.column_relations == {
        "pupils": (Relation("T.female <= T.all", ("T.female",), "<=", ("T.all",), "I"),)
    }
    assert f.cell_rows[2].not_applicable == ("T.female",) and f.cell_rows[2].filter == "grade = 1"
    assert (f.cell_rows[0].measure, f.rows[0].filter, f.display_scale, f.display_decimals) == (
        "count",
        "TRUE",
        1,
        0,
    )


def test_a_form_is_one_frozen_hashable_picklable_object(schemas):
    f = load(schemas)
    assert catalog.form("tt24", "01-X-DN", schemas.root) is f
    assert catalog.form("tt24", "01-X-DN", root=schemas.root) is f  # one cache entry however it is called
    assert {f: 1}[f] == 1
    assert pickle.loads(pickle.dumps(f)) == f and hash(pickle.loads(pickle.dumps(f))) == hash(f)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.status = "official"  # type: ignore[misc]
    assert dataclasses.replace(f, status="official").status == "official"


def test_the_relation_syntax(schemas):
    err = fails(schemas, FORM.replace("r2 >= r3", "r2 => r3"))
    assert_problem(
        err, FILE, "rows[2].relations[0].check", schemas.line(FILE, "r2 => r3"), "is not of the form"
    )
    with pytest.raises(CatalogError, match="is not of the form"):
        catalog.parse_relation("r1 = ")


def test_a_relation_naming_an_unknown_row(schemas):
    err = fails(schemas, FORM.replace("r2 >= r3", "r2 >= r3 + r9"))
    assert_problem(err, FILE, "rows[2].relations[0].check", schemas.line(FILE, "r9"), "unknown row r9")
    err = fails(schemas, FORM.replace("r2 >= r3", "r2 >= T.all"))
    assert_problem(
        err, FILE, "rows[2].relations[0].check", schemas.line(FILE, "r2 >= T.all"), "unknown row T.all"
    )


def test_a_column_relation_naming_an_unknown_column_or_set(schemas):
    err = fails(schemas, FORM.replace("T.female <= T.all", "T.male <= T.all"))
    assert_problem(
        err, FILE, "column_relations.pupils[0].check", schemas.line(FILE, "T.male"), "T.male: not a column"
    )
    err = fails(schemas, FORM.replace("column_relations:\n  pupils:", "column_relations:\n  pupil:"))
    assert_problem(
        err, FILE, "column_relations.pupil", schemas.line(FILE, "  pupil:"), "unknown column set pupil"
    )


def test_a_sheet_with_an_unknown_column_set(schemas):
    err = fails(schemas, FORM.replace("column_set: pupils", "column_set: learners"))
    assert_problem(err, FILE, "sheets[1].column_set", schemas.line(FILE, "column_set: learners"), "unknown column set learners")  # fmt: skip
    assert len(err.problems) == 1  # the rows of that sheet are not reported again


def test_a_row_on_an_unknown_sheet(schemas):
    err = fails(schemas, FORM.replace("- code: 3\n  sheet: Học sinh", "- code: 3\n  sheet: Hoc sinh"))
    assert_problem(err, FILE, "rows[3].sheet", schemas.line(FILE, "sheet: Hoc sinh"), "unknown sheet")


def test_duplicate_row_codes(schemas):
    err = fails(schemas, FORM.replace("code: 3", "code: 2").replace("r2 >= r3", "r2 >= r1"))
    assert_problem(err, FILE, "rows[3].code", schemas.line(FILE, "code: 2", 2), "duplicate row code 2")


def test_not_applicable_names_a_column_of_the_row(schemas):
    err = fails(schemas, FORM.replace("not_applicable: [T.female]", "not_applicable: [T.male]"))
    assert_problem(err, FILE, "rows[3].not_applicable[0]", schemas.line(FILE, "not_applicable"), "T.male is not a column")  # fmt: skip


PRINTED_EMPTY = "  filter: grade = 1\n  printed_as: {text: '', source: the export leaves row 2 blank}\n"


def test_printed_as_names_the_cells_printed_without_a_figure(schemas):
    """No columns: every column of the row's sheet but the not applicable ones ("#" already)."""
    marker = "  entity: learner\n  printed_as: {text: '?', columns: [T.female], source: export}\n  relations"
    f = load(
        schemas,
        FORM.replace("  filter: grade = 1\n", PRINTED_EMPTY).replace(
            "  entity: learner\n  relations", marker
        ),
    )
    assert f.cell_rows[2].printed_as == (("T.all", ""),)
    assert f.cell_rows[1].printed_as == (("T.female", "?"),) and f.cell_rows[0].printed_as == ()


def test_printed_as_names_columns_of_the_row_that_apply_and_cites_the_export(schemas):
    bad = "  printed_as: {text: '?', columns: [T.male], source: export}\n"
    err = fails(schemas, FORM.replace("  filter: grade = 1\n", "  filter: grade = 1\n" + bad))
    assert_problem(err, FILE, "rows[3].printed_as.columns[0]", schemas.line(FILE, "printed_as"), "T.male is not a column")  # fmt: skip
    both = "  printed_as: {text: '?', columns: [T.female], source: export}\n"
    err = fails(schemas, FORM.replace("  filter: grade = 1\n", "  filter: grade = 1\n" + both))
    assert_problem(err, FILE, "rows[3].printed_as.columns[0]", schemas.line(FILE, "printed_as"), "not applicable")  # fmt: skip
    err = fails(
        schemas, FORM.replace("  filter: grade = 1\n", "  filter: grade = 1\n  printed_as: {text: ''}\n")
    )
    assert_problem(err, FILE, "rows[3].printed_as.source", schemas.line(FILE, "printed_as"), "missing key 'source'")  # fmt: skip
    label = "  label_en: Schools (section)\n  printed_as: {source: export}\n"
    err = fails(schemas, FORM.replace("  label_en: Schools (section)\n", label))
    assert_problem(
        err, FILE, "rows[0]", schemas.line(FILE, "- sheet: Trường"), "a label: it has no printed_as"
    )


def test_a_wrong_type_an_unknown_key_a_missing_key(schemas):
    err = fails(schemas, FORM.replace("code: 3", "code: '3'"))
    assert_problem(err, FILE, "rows[3].code", schemas.line(FILE, "code: '3'"), "valid integer")
    err = fails(schemas, FORM.replace("  filter: grade = 1", "  filtre: grade = 1"))
    assert_problem(err, FILE, "rows[3].filtre", schemas.line(FILE, "filtre"), "did you mean 'filter'")
    err = fails(schemas, FORM.replace("  label_en: Pupils\n", ""))
    assert_problem(err, FILE, "rows[2].label_en", schemas.line(FILE, "- code: 2"), "missing key 'label_en'")
    err = fails(schemas, FORM.replace("education_level: '01'", "education_level: 01"))
    assert_problem(err, FILE, "education_level", 5, "valid string")


def test_enums_and_bounds(schemas):
    err = fails(schemas, FORM.replace("status: inferred", "status: draft"))
    assert_problem(err, FILE, "status", 6, "'official', 'inferred' or 'provisional'")
    err = fails(schemas, FORM.replace("basis: L", "basis: X"))
    assert_problem(err, FILE, "rows[2].relations[0].basis", schemas.line(FILE, "basis: X"), "'F', 'L' or 'I'")
    err = fails(schemas, FORM.replace("entity: learner\n  relations", "entity: pupil\n  relations"))
    assert_problem(err, FILE, "rows[2].entity", schemas.line(FILE, "entity: pupil"), "'school'")
    err = fails(schemas, FORM.replace("period: DN", "period: MID"))
    assert_problem(err, FILE, "period", 4, "'DN' or 'CN'")
    err = fails(schemas, FORM + "display_scale: 0\n")
    assert_problem(
        err, FILE, "display_scale", schemas.line(FILE, "display_scale"), "greater than or equal to 1"
    )
    err = fails(schemas, FORM.replace("  school: 'TRUE'\n", ""))
    assert_problem(err, FILE, "scope", schemas.line(FILE, "scope:"), "missing key 'school'")
    err = fails(schemas, FORM.replace("  learner: enrolled", "  pupil: enrolled"))
    assert_problem(err, FILE, "scope.pupil", schemas.line(FILE, "pupil: enrolled"), "not 'pupil'")


def test_a_row_with_a_code_counts_an_entity_and_a_label_row_counts_nothing(schemas):
    err = fails(schemas, FORM.replace("  unit: trường\n  entity: school\n", "  unit: trường\n"))
    assert_problem(err, FILE, "rows[1]", schemas.line(FILE, "- code: 1"), "needs an entity")
    err = fails(
        schemas,
        FORM.replace("  label_en: Schools (section)\n", "  label_en: Schools (section)\n  entity: school\n"),
    )
    assert_problem(err, FILE, "rows[0]", schemas.line(FILE, "- sheet: Trường"), "a label: it has no entity")


def test_the_file_name_and_folder_are_the_form_id_and_regime(schemas):
    err = fails(
        schemas, FORM.replace("form: 01-X-DN", "form: 01-Y-DN").replace("regime: tt24", "regime: tt25")
    )
    assert_problem(err, FILE, "form", 1, "must declare form 01-X-DN")
    assert_problem(err, FILE, "regime", 3, "must declare regime tt24")


def test_a_missing_form_and_invalid_yaml(schemas):
    with pytest.raises(CatalogError, match="form tt24/02-Y-DN not found"):
        catalog.form("tt24", "02-Y-DN", schemas.root)
    err = fails(schemas, FORM.replace("title_en: Test form", "title_en: [Test form"))
    assert err.file == f"schemas/{FILE}" and err.line is not None and "not valid YAML" in str(err)


def test_an_extending_form_borrows_the_grid_under_its_own_id(schemas):
    base = load(schemas)
    schemas.write("forms/tt25/01.DN-X.yaml", EXTENSION)
    f = catalog.form("tt25", "01.DN-X", schemas.root)
    assert (f.form, f.regime, f.code_printed, f.status, f.base_form) == ("01.DN-X", "tt25", "01.ĐN-X", "provisional", "01-X-DN")  # fmt: skip
    assert (f.rows, f.sheets, f.column_sets, f.title_vi, f.period) == (base.rows, base.sheets, base.column_sets, base.title_vi, "DN")  # fmt: skip
    assert (
        catalog.forms_for("tt25", "DN", schemas.root) == (f,)
        and catalog.forms_for("tt25", "CN", schemas.root) == ()
    )
    assert pickle.loads(pickle.dumps(f)) == f


def test_an_extending_form_names_an_existing_full_grid_and_no_grid_keys(schemas):
    load(schemas)
    ext = "forms/tt25/01.DN-X.yaml"
    schemas.write(ext, EXTENSION.replace("extends: tt24/01-X-DN", "extends: tt24/01-Z-DN"))
    with pytest.raises(CatalogError) as err:
        catalog.form("tt25", "01.DN-X", schemas.root)
    assert_problem(err.value, ext, "extends", 2, "no form tt24/01-Z-DN")
    schemas.write(ext, EXTENSION + "rows: []\n")
    with pytest.raises(CatalogError) as err:
        catalog.form("tt25", "01.DN-X", schemas.root)
    assert_problem(err.value, ext, "rows", 9, "unknown key 'rows'")
    schemas.write(ext, EXTENSION)
    schemas.write("forms/tt26/01.DN-X.yaml", EXTENSION.replace("tt24/01-X-DN", "tt25/01.DN-X").replace("regime: tt25", "regime: tt26"))  # fmt: skip
    with pytest.raises(CatalogError) as err:
        catalog.form("tt26", "01.DN-X", schemas.root)
    assert "regime" in str(err.value)  # tt26 is no regime of settings.REGIMES
    # Only an earlier regime's grid: no form borrows its own or a later one, so no cycle.
    same = "forms/tt25/01.DN-Y.yaml"
    schemas.write(
        same, EXTENSION.replace("tt24/01-X-DN", "tt25/01.DN-Y").replace("form: 01.DN-X", "form: 01.DN-Y")
    )
    with pytest.raises(CatalogError) as err:
        catalog.form("tt25", "01.DN-Y", schemas.root)
    assert_problem(err.value, same, "extends", 2, "a tt25 form extends a form of an earlier regime, not tt25")


def test_every_real_form_of_both_regimes_loads():
    forms = [f for rg in ("tt24", "tt25") for p in ("DN", "CN") for f in catalog.forms_for(rg, p)]
    # Six ids are in both regimes: the end-of-year forms and 05-GDTX-DN.
    assert len(forms) == 22 and len({f.form for f in forms}) == 16
    assert all(f.base_form for f in forms if f.regime == "tt25")
    budget = catalog.form("tt24", "01-MN-DN-NS")
    assert (budget.display_scale, budget.display_decimals) == (1_000_000, 3)
    assert catalog.FORM_ENTITIES == (*catalog.ENTITIES, "budget_amount")
