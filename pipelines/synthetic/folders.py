"""The folders a derived year reads and writes: a school's file of a generated start-of-year province
(None when it cannot be read), and a new output folder with that province's registry copied in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

LOAI_DONG_BO = 2  # changes during the year (sync spec 2020): the end-of-year period CN


def read_payload(path: Path) -> dict[str, Any] | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("LstHocSinh"), list):
        return None
    info = payload.get("TruongHocInfo") if isinstance(payload.get("TruongHocInfo"), dict) else {}
    year = payload.get("NamHoc") or info.get("NamHoc")
    if not str(year or "").isdigit() or not (payload.get("MaTruongHoc") or info.get("MaTruongHoc")):
        return None
    return payload


def prepare_output(dn_dir: Path, out: Path, what: str) -> Path:
    """Check the start-of-year folder, copy its registry into `out` and return out/inbox."""
    registry = dn_dir / "registry.xlsx"
    if not registry.is_file():
        raise FileNotFoundError(f"no registry.xlsx in {dn_dir}")
    if out.resolve() == dn_dir.resolve():
        raise ValueError(f"the {what} folder must differ from the start-of-year one ({dn_dir})")
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(registry, out / "registry.xlsx")
    return inbox
