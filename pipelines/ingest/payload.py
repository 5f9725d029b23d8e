"""One school's file: parsed, checked against the period and the registry, and its outcome."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pipelines import catalog
from pipelines.ingest.normalise import normalise_code, normalise_integer

# LoaiDongBo of the whole state each period reads (pipelines/ingest/sync.py): 1 = start of year (DN),
# 3 = end of year (CN; status: inferred, the reference lists 1, 2 and 4 only); 2 (changes during the
# year) builds the end of year when no 3 came.
PERIOD_SYNC_TYPE = {"DN": 1, "CN": 3}


@dataclass(frozen=True)
class FileOutcome:
    file: str
    file_hash: str
    school_code: str | None
    status: str  # loaded | rejected | superseded (an older version) | unchanged (a copy of the current one)
    reason: str | None  # rule id of the rejection
    message_vi: str | None
    message_en: str | None
    records: dict[str, int]  # entity → records in the payload (empty when unreadable)


def records_of(payload: dict[str, Any], source: catalog.Source) -> list[Any]:
    value = payload.get(source.json_path)
    if source.entity == "school":
        return [value] if value is not None else []
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def rejected(name: str, digest: str, school: str | None, reason: str, vi: str, en: str,
            records: dict[str, int] | None = None) -> FileOutcome:  # fmt: skip
    return FileOutcome(name, digest, school, "rejected", reason, vi, en, records or {})


def check_payload(name: str, raw: bytes, start_year: int, period: str,
                  registered: set[str]) -> tuple[FileOutcome, dict[str, Any] | None]:  # fmt: skip
    """Decide whether one file can be loaded; return its outcome and the parsed payload."""
    digest = hashlib.sha256(raw).hexdigest()
    # An unreadable file names no school; the usual file name <MaTruongHoc>_<NamHoc>_<LoaiDongBo>
    # still tells whose it is, so its school (and that school's Phòng) sees the rejection.
    named = name.split("_")[0].split(".")[0]
    named = named if named in registered else None
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return rejected(name, digest, named, "file.unreadable",
                       f"Tệp JSON hỏng, không đọc được ({exc})",
                       f"Malformed JSON file, cannot be read ({exc})"), None  # fmt: skip
    if not isinstance(payload, dict) or not isinstance(payload.get("TruongHocInfo"), dict):
        return rejected(name, digest, named, "file.shape",
                       "Tệp không phải đối tượng JSON có TruongHocInfo",
                       "The file is not a JSON object with a TruongHocInfo object"), None  # fmt: skip
    school = normalise_code(payload.get("MaTruongHoc") or payload["TruongHocInfo"].get("MaTruongHoc"), 0)
    records = {s.entity: len(records_of(payload, s)) for s in catalog.sources()}
    year = normalise_integer(payload.get("NamHoc") or payload["TruongHocInfo"].get("NamHoc"))
    sync = normalise_integer(payload.get("LoaiDongBo"))
    if school is None:
        return rejected(name, digest, None, "file.no_school_code", "Tệp không có MaTruongHoc",
                       "The file has no MaTruongHoc", records), None  # fmt: skip
    if year != str(start_year) or sync != str(PERIOD_SYNC_TYPE[period]):
        return rejected(name, digest, school, "file.wrong_period",
                       f"Tệp thuộc năm học {year}, loại đồng bộ {sync}; kỳ này cần {start_year}, {PERIOD_SYNC_TYPE[period]}",
                       f"File is for school year {year}, sync type {sync}; this run needs {start_year}, {PERIOD_SYNC_TYPE[period]}",
                       records), None  # fmt: skip
    if school not in registered:
        return rejected(name, digest, school, "file.not_in_registry",
                       f"Trường {school} không có trong danh sách trường (registry)",
                       f"School {school} is not in the school registry", records), None  # fmt: skip
    # A second file of a school is no error: it is a new version, or an older copy (ingest_inbox).
    return FileOutcome(name, digest, school, "loaded", None, None, None, records), payload
