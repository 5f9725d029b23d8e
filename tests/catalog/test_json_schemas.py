"""docs/schemas/*.schema.json: exported from the file models, current, and true of the real files."""

from __future__ import annotations

import json

import pytest
import yaml

from pipelines import cli
from pipelines.catalog import SCHEMAS, json_schemas


@pytest.mark.parametrize("kind", sorted(json_schemas.KINDS))
def test_docs_schemas_are_up_to_date(kind):
    """The JSON Schemas are generated from pipelines/catalog: after changing a model, regenerate them
    with `edustat rules` (or `.venv/bin/python -m pipelines rules`) and commit them."""
    committed = (json_schemas.SCHEMA_DOCS / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert committed == json_schemas.render(kind), (
        f"docs/schemas/{kind}.schema.json is out of date: run `edustat rules`"
    )


def test_rules_writes_the_schemas(tmp_path, capsys):
    assert cli.main(["rules", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for kind in json_schemas.KINDS:
        path = tmp_path / "schemas" / f"{kind}.schema.json"
        assert path.read_text(encoding="utf-8") == json_schemas.render(kind) and str(path) in out
        assert json.loads(path.read_text(encoding="utf-8"))["$id"] == f"{kind}.schema.json"


@pytest.mark.parametrize("kind", sorted(json_schemas.KINDS))
def test_every_real_file_meets_its_json_schema(kind):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schemas.json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(SCHEMAS.parent.glob(json_schemas.KINDS[kind][0]))
    assert files
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
        assert not errors, f"{path.name}: {errors[:3]}"


def test_an_editor_sees_a_wrong_type_and_an_unknown_key():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schemas.json_schema("sources"))
    bad = {"entity": "learner", "json_path": "LstHocSinh", "label_vi": "x", "label_en": "x",
           "fields": [{"name": "HoTen", "type": "string", "max_length": "ten", "colour": "red"}]}  # fmt: skip
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert any("'ten' is not valid" in m for m in messages), messages  # integer or null
    assert any("'colour' was unexpected" in m for m in messages), messages
    form = jsonschema.Draft202012Validator(json_schemas.json_schema("form"))
    # An extending form without its status, status_note and source:
    assert not form.is_valid({"extends": "tt24/01-MN-DN", "form": "x", "regime": "tt25"})
    relation = json_schemas.json_schema("form")["$defs"]["RelationSpec"]["properties"]["check"]
    assert relation["pattern"] and not jsonschema.Draft202012Validator(relation).is_valid("r1 => r2")
