"""The .xlsx writer's packaging: a workbook over 50 KB at the fast level is compressed again."""

from __future__ import annotations

import random
import zipfile

from pipelines.outputs import xlsx


def _sheet_of(cells: int) -> str:
    """A sheet's XML with `cells` numbers in varied styles (seeded: the same text every run)."""
    draw = random.Random(17)
    return "".join(
        f'<c r="A{i}" s="{draw.randint(1, 4)}"><v>{draw.randint(0, 999)}</v></c>' for i in range(cells)
    )


def test_a_workbook_over_50_kb_at_the_fast_level_is_written_at_the_best_one(tmp_path):
    sheet = _sheet_of(8000)  # about 51 KB zipped at the fast level (ISA-L 1), 40 KB at zlib's level 9
    assert len(xlsx.zip_bytes([xlsx.part("xl/worksheets/sheet1.xml", sheet, xlsx.FAST)])) > xlsx.SMALL_ENOUGH
    path = tmp_path / "big.xlsx"
    xlsx.save(path, {"xl/worksheets/sheet1.xml": sheet}, small_enough=xlsx.SMALL_ENOUGH)
    assert path.stat().st_size <= xlsx.SMALL_ENOUGH
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/worksheets/sheet1.xml").decode() == sheet


def test_a_small_workbook_keeps_the_fast_level(tmp_path):
    sheet = _sheet_of(500)
    path = tmp_path / "small.xlsx"
    xlsx.save(path, {"xl/worksheets/sheet1.xml": sheet}, small_enough=xlsx.SMALL_ENOUGH)
    assert path.read_bytes() == xlsx.zip_bytes([xlsx.part("xl/worksheets/sheet1.xml", sheet, xlsx.FAST)])


def test_the_fast_level_is_plain_deflate_that_zip_readers_inflate(tmp_path):
    """ISA-L's output in the zip: any reader (here Python's zipfile, CRC checked) gets the text back."""
    sheet = _sheet_of(3000) + "Trường Tiểu học Hoa Sen & <Phòng>"
    path = tmp_path / "fast.xlsx"
    xlsx.save(path, {"xl/worksheets/sheet1.xml": sheet, "xl/styles.xml": "<styleSheet/>"})
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert z.read("xl/worksheets/sheet1.xml").decode() == sheet
        assert z.read("xl/styles.xml") == b"<styleSheet/>"


def test_a_list_over_50_kb_is_not_compressed_twice(tmp_path):
    """Lists and summaries (completeness, error lists) may be any size: kept at the fast level."""
    sheet = _sheet_of(8000)
    path = tmp_path / "list.xlsx"
    xlsx.save(path, {"xl/worksheets/sheet1.xml": sheet})
    assert path.read_bytes() == xlsx.zip_bytes([xlsx.part("xl/worksheets/sheet1.xml", sheet, xlsx.FAST)])
