"""Code lists: schemas/codelists/*.csv and schemas/hierarchy/*.csv."""

from __future__ import annotations

import pytest

from pipelines.catalog import CatalogError, Codelist, codelist, codelist_path


def test_a_code_list_keeps_codes_as_text_and_knows_their_width(schemas):
    cl = codelist("gender", schemas.root)
    assert cl == Codelist("gender", ("01", "02"), {}, (), width=2)  # labels and rows are not compared
    assert cl.labels_vi == {"01": "Nam", "02": "Nữ"} and cl.rows[1]["name_en"] == "Female"
    assert codelist("gender", root=schemas.root) is cl and hash(cl)
    schemas.write("hierarchy/units.csv", "code,name_vi\n1,A\n22,B\nX,C\n")
    assert codelist_path("units", schemas.root) == schemas.root / "hierarchy" / "units.csv"
    assert codelist("units", schemas.root).width == 0  # numeric codes of several widths


def test_a_missing_list_and_a_broken_one(schemas):
    with pytest.raises(CatalogError, match="code list 'sex' not found"):
        codelist("sex", schemas.root)
    schemas.write("codelists/bad.csv", "id,name_vi\n01,A\n")
    with pytest.raises(
        CatalogError, match=r"schemas/codelists/bad.csv, line 1: the header lacks the columns \['code'\]"
    ):
        codelist("bad", schemas.root)
    schemas.write("codelists/gap.csv", "code,name_vi\n01,A\n,B\n")
    with pytest.raises(CatalogError, match="schemas/codelists/gap.csv, line 3, code: empty code"):
        codelist("gap", schemas.root)


def test_the_real_lists():
    assert codelist("grade").width == 2 and "01" in codelist("ethnicity").codes
    assert codelist_path("provinces_2025").parent.name == "hierarchy"
