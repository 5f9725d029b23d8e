"""schemas/sources/*.yaml: the SourceFile model, its cross-references, and the Source objects."""

from __future__ import annotations

import pytest

from pipelines import catalog
from pipelines.catalog import CatalogError, Field, RecordRule
from tests.catalog.conftest import CLASS, LEARNER, assert_problem

FILE = "sources/learner.yaml"


def load(schemas, text: str = LEARNER):
    schemas.write("sources/class.yaml", CLASS)
    schemas.write(FILE, text)
    return catalog.source("learner", schemas.root)


def fails(schemas, text: str) -> CatalogError:
    with pytest.raises(CatalogError) as err:
        load(schemas, text)
    return err.value


def test_a_valid_source_loads_into_the_frozen_objects(schemas):
    src = load(schemas)
    assert (src.entity, src.table, src.json_path) == ("learner", "stg_learner", "LstHocSinh")
    assert src.field("ClientId") == Field("ClientId", "string", required=True, max_length=50)
    assert src.field("NgaySinh").pii == "year_month"
    dup, missing, query = src.rules
    assert dup == RecordRule("learner.duplicate", "error", "ClientId", "Học sinh bị khai báo trùng",
                             "Pupil listed twice", duplicate_of=("ClientId",))  # fmt: skip
    assert missing.missing_in == {"entity": "class", "field": "MaLopHoc", "via": "MaLopHocDn"}
    assert (query.params, query.scope, query.kind) == ((("ratio", 1.5),), "province", "outlier")
    assert catalog.source("learner", schemas.root) is src  # cached: one object
    with pytest.raises(KeyError):
        src.field("Nowhere")


def test_a_wrong_type_names_the_file_key_path_and_line(schemas):
    err = fails(schemas, LEARNER.replace("max_length: 50", "max_length: 'ten'"))
    assert_problem(
        err, FILE, "fields[0].max_length", schemas.line(FILE, "max_length: 'ten'"), "valid integer"
    )


def test_a_number_in_quotes_is_not_a_number(schemas):
    err = fails(schemas, LEARNER.replace("max_length: 50", "max_length: '50'"))
    assert_problem(err, FILE, "fields[0].max_length", schemas.line(FILE, "max_length: '50'"))


def test_an_unknown_key_is_named_with_a_suggestion(schemas):
    err = fails(schemas, LEARNER.replace("required: true, max_length", "requird: true, max_length"))
    assert_problem(err, FILE, "fields[0].requird", schemas.line(FILE, "requird"), "did you mean 'required'")


def test_a_missing_key_points_at_its_item(schemas):
    err = fails(schemas, LEARNER.replace("    message_en: Pupil listed twice\n", ""))
    assert_problem(
        err, FILE, "rules[0].message_en", schemas.line(FILE, "- id: learner.duplicate"), "missing key"
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "severity: error\n    duplicate_of",
            "severity: fatal\n    duplicate_of",
            "rules[0].severity",
            "'error' or 'warning'",
        ),
        ("scope: province", "scope: nation", "rules[2].scope", "'school' or 'province'"),
        ("kind: outlier", "kind: odd", "rules[2].kind", "cross_field"),
        ("type: date, pii", "type: datetime, pii", "fields[2].type", "'date'"),
        ("pii: hash", "pii: encrypt", "fields[1].pii", "'hash' or 'year_month'"),
    ],
)
def test_enums(schemas, old, new, path, words):
    err = fails(schemas, LEARNER.replace(old, new))
    assert_problem(err, FILE, path, schemas.line(FILE, new.split("\n")[0]), words)


def test_a_code_field_needs_a_code_list_that_exists(schemas):
    err = fails(schemas, LEARNER.replace("codelist: gender, ", ""))
    assert_problem(err, FILE, "fields[3]", schemas.line(FILE, "name: GioiTinh"), "needs a codelist")
    err = fails(schemas, LEARNER.replace("codelist: gender", "codelist: sex"))
    assert_problem(err, FILE, "fields[3].codelist", schemas.line(FILE, "codelist: sex"), "no code list sex")


def test_rules_name_fields_that_exist(schemas):
    err = fails(schemas, LEARNER.replace("duplicate_of: [ClientId]", "duplicate_of: [ClientID]"))
    assert_problem(
        err, FILE, "rules[0].duplicate_of[0]", schemas.line(FILE, "[ClientID]"), "no field ClientID"
    )
    err = fails(schemas, LEARNER.replace("field: MaLopHoc, via", "field: MaLop, via"))
    assert_problem(
        err, FILE, "rules[1].missing_in.field", schemas.line(FILE, "MaLop,"), "class has no field MaLop"
    )
    err = fails(schemas, LEARNER.replace("    field: KhoiHoc\n", "    field: Khoi\n"))
    assert_problem(
        err, FILE, "rules[2].field", schemas.line(FILE, "field: Khoi"), "learner has no field Khoi"
    )


def test_a_rule_has_exactly_one_test(schemas):
    err = fails(
        schemas,
        LEARNER.replace(
            "    duplicate_of: [ClientId]\n", "    duplicate_of: [ClientId]\n    where: 'TRUE'\n"
        ),
    )
    assert_problem(err, FILE, "rules[0]", schemas.line(FILE, "- id: learner.duplicate"), "exactly one of")


def test_duplicate_fields_and_rule_ids(schemas):
    err = fails(schemas, LEARNER.replace("{name: MaLopHocDn", "{name: HoTen"))
    assert_problem(
        err, FILE, "fields[5].name", schemas.line(FILE, "{name: HoTen", 2), "duplicate field HoTen"
    )
    err = fails(schemas, LEARNER.replace("id: learner.too_many", "id: learner.duplicate"))
    assert_problem(
        err, FILE, "rules[2].id", schemas.line(FILE, "id: learner.duplicate", 2), "duplicate rule id"
    )


def test_the_file_declares_its_own_entity(schemas):
    err = fails(schemas, LEARNER.replace("entity: learner", "entity: staff"))
    assert_problem(err, FILE, "entity", 1, "must declare entity learner")


def test_a_bad_pattern_is_not_a_regular_expression(schemas):
    err = fails(
        schemas,
        LEARNER.replace(
            "{name: MaLopHocDn, type: string}", '{name: MaLopHocDn, type: string, pattern: "[0-9"}'
        ),
    )
    assert_problem(err, FILE, "fields[5].pattern", schemas.line(FILE, "pattern:"), "not a regular expression")


def test_several_problems_are_all_reported(schemas):
    text = LEARNER.replace("max_length: 50", "max_length: 'ten'").replace("pii: hash", "pii: encrypt")
    err = fails(schemas, text)
    assert [p.path for p in err.problems] == ["fields[0].max_length", "fields[1].pii"]
    assert str(err).startswith("2 problems:")


def test_every_real_source_loads_with_its_entities_in_order():
    assert tuple(s.entity for s in catalog.sources()) == catalog.ENTITIES
    assert catalog.FIELD_TYPES == {
        "string",
        "integer",
        "number",
        "code",
        "flag",
        "date",
        "subject_list",
        "code_list",
    }
    learner = catalog.source("learner")
    assert isinstance(learner.fields, tuple) and isinstance(learner.rules[0].duplicate_of, tuple)
    assert all(f.pii in (None, "hash", "year_month") for s in catalog.sources() for f in s.fields)
