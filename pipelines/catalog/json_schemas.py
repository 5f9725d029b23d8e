"""JSON Schema of every kind of schemas/ YAML file, exported from the catalogue's file models into
docs/schemas/<kind>.schema.json, so an editor checks and completes a file as it is typed
(docs/schemas/README.md). `edustat rules` rewrites them; a test keeps the committed ones current.

The JSON Schemas carry what a single file can say: types, keys, enums, patterns. The references
between files and inside a file (a sheet's column set, a relation's rows, an indicator's cells, a
view's sources) are the loaders' checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from pipelines.catalog.deadlines import DeadlinesFile
from pipelines.catalog.forms import FormExtension, FormFile
from pipelines.catalog.indicators import IndicatorsFile
from pipelines.catalog.loader import SCHEMAS
from pipelines.catalog.sdmx import SdmxFile
from pipelines.catalog.sources import SourceFile
from pipelines.catalog.views import ViewsFile

SCHEMA_DOCS = SCHEMAS.parent / "docs" / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
# kind → (the files it describes, its model)
KINDS: dict[str, tuple[str, Any]] = {
    "sources": ("schemas/sources/*.yaml", SourceFile),
    "form": ("schemas/forms/*/*.yaml", FormFile | FormExtension),
    "indicators": ("schemas/indicators/*.yaml", IndicatorsFile),
    "views": ("schemas/views.yaml", ViewsFile),
    "deadlines": ("schemas/deadlines.yaml", DeadlinesFile),
    "sdmx": ("schemas/sdmx.yaml", SdmxFile),
}


class _NoFieldTitles(GenerateJsonSchema):
    """No generated "title": "Label Vi" on every property: the key says it already."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file (a key of KINDS)."""
    files, model = KINDS[kind]
    generated = TypeAdapter(model).json_schema(schema_generator=_NoFieldTitles)
    head: dict[str, Any] = {"$schema": DIALECT, "$id": f"{kind}.schema.json"}
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        head["title"] = "Form"
        head["description"] = (
            f"{files}: a form with its own grid (FormFile) or one borrowing another regime's grid (FormExtension)."
        )
    return {**head, **generated}


def render(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def write_json_schemas(folder: Path = SCHEMA_DOCS) -> list[Path]:
    """docs/schemas/<kind>.schema.json of every kind; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        path.write_text(render(kind), encoding="utf-8")
        out.append(path)
    return out
