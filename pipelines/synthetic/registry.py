"""The school registry (registry.xlsx) in the import-template layout: a title, a note, headers with
" *" on the mandatory columns, and one row per institution (plus the test school real exports carry),
with the number and text variations a registry typed in Excel shows."""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from pipelines import catalog
from pipelines.ingest.registry import REGISTRY_COLUMNS
from pipelines.synthetic.plan import SO_RUN_KINDS, District, SchoolPlan
from pipelines.synthetic.values import short_place

TITLE = "TEMPLATE IMPORT TRƯỜNG HỌC"
# Real templates mark mandatory columns with " *"; one header also carries a trailing space.
REQUIRED_HEADERS = {
    "MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "TRANG_THAI", "LOAI_HINH_DAO_TAO",
    "MA_XA_PHUONG", "MA_QUAN_HUYEN", "MA_TINH_THANH", "ID_SO",
}  # fmt: skip


def _slug(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def registry_row(
    rng: random.Random, plan: SchoolPlan, facts: dict[str, Any], so: str, province: str
) -> list[Any]:
    d = plan.district
    province_name = catalog.codelist("provinces_pre2025").labels_vi[province]
    slug = _slug(f"{plan.kind}{short_place(facts['commune_name'])}")[:24]
    domain = f"{_slug(short_place(province_name))}.edu.vn"
    so_run = plan.kind in SO_RUN_KINDS
    cap_hoc: Any = facts["cap_hoc"]
    if rng.random() < 0.15:
        cap_hoc = float(cap_hoc)  # a number cell, as when the template was typed in Excel
    id_phong: Any = None if so_run or rng.random() < 0.02 else d.phong
    if id_phong and rng.random() < 0.15:
        id_phong = float(id_phong)
    ma_huyen: Any = d.code
    if rng.random() < 0.1:  # the leading zero lost on the way through Excel
        ma_huyen = int(d.code) if rng.random() < 0.5 else str(int(d.code))
    ma_tinh: Any = int(province) if rng.random() < 0.1 else province
    id_so: Any = int(so) if rng.random() < 0.1 else so
    founded = dt.date(rng.randint(1960, 2015), rng.randint(1, 12), rng.randint(1, 28))
    standard = facts["standard"]
    return [
        plan.code,
        facts["name"],
        so if so_run else d.phong,
        cap_hoc,
        1,
        plan.ownership_code,
        facts["category"],
        f"Thôn {rng.randint(1, 20)}, {facts['commune_name']}, {d.name}, {province_name}",
        f"{facts['commune_code']}{rng.randint(1, 20):02d}",
        facts["commune_code"],
        ma_huyen,
        ma_tinh,
        catalog.codelist("national_standard_level").labels_vi[standard] if standard else "Chưa đạt",
        int(d.mountain and rng.random() < 0.6),
        int(d.mountain and rng.random() < 0.05),
        0 if plan.private else 1,
        f"http://{slug}.{domain}",
        f"02{rng.randrange(10**9):09d}",
        f"{slug}@{domain}",
        f"02{rng.randrange(10**9):09d}",
        f"{founded.day:02d}/{founded.month:02d}/{founded.year}",
        facts["principal"],
        f"09{rng.randrange(10**8):08d}",
        id_so,
        id_phong,
    ]


def row_of_test_school(province: str, d: District, so: str) -> list[Any]:
    """A test school, as real exports carry: a registry row with no payload."""
    return [f"{province}{d.code}999", "Trường TEST nhập liệu", d.phong, "1", 1, "01", "07",
            None, None, d.communes[0][0], d.code, province, "Chưa đạt", 0, 0, 0, None, None,
            None, None, None, None, None, so, d.phong]  # fmt: skip


def write_registry(path: Path, rows: list[list[Any]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    headers = [f"{c} *" if c in REQUIRED_HEADERS else c for c in REGISTRY_COLUMNS]
    headers[REGISTRY_COLUMNS.index("DIA_CHI")] = "DIA_CHI "  # headers are matched tolerantly
    ws.append([])
    ws.append([TITLE])
    ws.append(["(Các cột có dấu * là bắt buộc)"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)
