"""Every form relation under its id."""

from __future__ import annotations

from pipelines import catalog
from tests.catalog.conftest import EXTENSION, FORM


def test_relations_of_a_tiny_catalogue(schemas):
    schemas.write("forms/tt24/01-X-DN.yaml", FORM)
    schemas.write("forms/tt25/01.DN-X.yaml", EXTENSION)
    found = catalog.form_relations(schemas.root)
    assert [(r.id, r.place, r.paths, r.base_path) for r in found] == [
        ("01-X-DN.r2.1", "row 2, relation 1", ("schemas/forms/tt24/01-X-DN.yaml",), None),
        (
            "01-X-DN.pupils.1",
            "column_relations.pupils, relation 1",
            ("schemas/forms/tt24/01-X-DN.yaml",),
            None,
        ),
        (
            "01.DN-X.r2.1",
            "row 2, relation 1",
            ("schemas/forms/tt25/01.DN-X.yaml",),
            "schemas/forms/tt24/01-X-DN.yaml",
        ),
        (
            "01.DN-X.pupils.1",
            "column_relations.pupils, relation 1",
            ("schemas/forms/tt25/01.DN-X.yaml",),
            "schemas/forms/tt24/01-X-DN.yaml",
        ),
    ]
    f = catalog.form("tt24", "01-X-DN", schemas.root)
    assert [rid for rid, *_ in catalog.relations_of(f)] == ["01-X-DN.r2.1", "01-X-DN.pupils.1"]


def test_the_real_relations_have_one_id_each():
    found = catalog.form_relations()
    assert len(found) == len({r.id for r in found}) > 1000
    shared = next(r for r in found if r.form.form == "01-MN-CN")
    assert shared.paths == ("schemas/forms/tt24/01-MN-CN.yaml", "schemas/forms/tt25/01-MN-CN.yaml")
