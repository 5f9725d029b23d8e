"""The folders of a derived year: a school's file read leniently, an output folder set up apart."""

from __future__ import annotations

import json

import pytest

from pipelines.synthetic.folders import prepare_output, read_payload


@pytest.mark.parametrize(
    ("text", "readable"),
    [
        ('{"MaTruongHoc": "66643001", "NamHoc": 2024, "LstHocSinh": []}', True),
        ('\ufeff{"MaTruongHoc": "66643001", "NamHoc": "2024", "LstHocSinh": []}', True),  # BOM, text year
        ('{"TruongHocInfo": {"MaTruongHoc": "66643001", "NamHoc": 2024}, "LstHocSinh": []}', True),
        ('{"MaTruongHoc": "66643001", "NamHoc": 2024, "LstHocSinh": [', False),  # cut short
        ('[{"MaTruongHoc": "66643001"}]', False),
        ('{"MaTruongHoc": "66643001", "NamHoc": 2024}', False),  # no learner list
        ('{"MaTruongHoc": "66643001", "NamHoc": "2024-2025", "LstHocSinh": []}', False),
        ('{"NamHoc": 2024, "LstHocSinh": []}', False),  # no school code
    ],
)
def test_read_payload(tmp_path, text, readable):
    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    got = read_payload(path)
    assert (got is not None) is readable
    if readable:
        assert got == json.loads(text.lstrip("\ufeff"))


def test_prepare_output_copies_the_registry_and_refuses_the_start_of_year_folder(tmp_path):
    dn = tmp_path / "DN"
    dn.mkdir()
    with pytest.raises(FileNotFoundError):
        prepare_output(dn, tmp_path / "CN", "end-of-year")
    (dn / "registry.xlsx").write_bytes(b"registry bytes")
    with pytest.raises(ValueError):
        prepare_output(dn, dn / ".", "end-of-year")
    inbox = prepare_output(dn, tmp_path / "CN", "end-of-year")
    assert inbox == tmp_path / "CN" / "inbox" and inbox.is_dir()
    assert (tmp_path / "CN" / "registry.xlsx").read_bytes() == b"registry bytes"
