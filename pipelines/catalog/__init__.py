"""The catalogue: schemas/ loaded into checked, frozen objects (the bottom layer with warehouse).

Every YAML file is validated by a pydantic model of its kind (strict types, no unknown keys, enums,
cross-references): a malformed file fails here with a CatalogError naming the file, the key path and
the line, never later with a KeyError deep in a run. The models are exported as JSON Schema for
editors (`json_schemas`, docs/schemas/). Modules: `loader` (YAML, CatalogError, the models' base),
`codelists`, `sources` (the lists of a school's file, their fields and rules), `forms` (the grids),
`relations` (every form relation under its id), `indicators`, `views` (the analysts' contract),
`hierarchy` (the units of both boundary versions), `deadlines`, `sdmx` (the SDMX exchange's
definitions), `json_schemas`.

Every loader takes the schemas folder as an optional last argument `root` (default SCHEMAS), so a
test can point it at a folder of its own.
"""

from pipelines.catalog.codelists import Codelist, codelist, codelist_path
from pipelines.catalog.forms import (
    FORM_ENTITIES,
    Column,
    ColumnSet,
    Form,
    Relation,
    Row,
    SchoolAttribute,
    Sheet,
    form,
    forms_for,
    parse_relation,
)
from pipelines.catalog.indicators import (
    POPULATION_AGES,
    POPULATION_SEXES,
    Indicator,
    indicators,
    indicators_markdown,
    write_indicators_doc,
)
from pipelines.catalog.loader import SCHEMAS, CatalogError, load_yaml
from pipelines.catalog.relations import FormRelation, form_relations, relations_of
from pipelines.catalog.sources import ENTITIES, FIELD_TYPES, Field, RecordRule, Source, source, sources

__all__ = [
    "ENTITIES",
    "FIELD_TYPES",
    "FORM_ENTITIES",
    "POPULATION_AGES",
    "POPULATION_SEXES",
    "SCHEMAS",
    "CatalogError",
    "Codelist",
    "Column",
    "ColumnSet",
    "Field",
    "Form",
    "FormRelation",
    "Indicator",
    "RecordRule",
    "Relation",
    "Row",
    "SchoolAttribute",
    "Sheet",
    "Source",
    "codelist",
    "codelist_path",
    "form",
    "form_relations",
    "forms_for",
    "indicators",
    "indicators_markdown",
    "write_indicators_doc",
    "load_yaml",
    "parse_relation",
    "relations_of",
    "source",
    "sources",
]
