"""Sync types (LoaiDongBo) and a school's state per period.

The reference lists three values (shared/reference/qd4998/NOTES.md, "How data flows in practice"):
1 = start of year, 2 = changes during the year (phát sinh), 4 = historical data. It names no sync
type of a whole end-of-year state: edustat reads 3 as one (status: inferred), and a type-2 file of a
school with no state to apply it to as a whole state (below).

1 = đầu năm (start of year): a whole state, the period DN. 3 = cuối năm (end of year, inferred): a
whole state, the period CN. 2 = phát sinh (changes during the year): records that changed (arrivals,
transfers, drop-outs, edits), applied in order to the school's latest state of the same school
year; they build the end of year (CN) when a school sends no type 3, from its start-of-year file;
a start-of-year run does not apply them (they are listed as not expected there). 4 = earlier
years' data: not loaded (listed as not expected; an earlier year is reported by running that
year's period with its own files).

Order: a file's own time stamp (ThoiGianDongBo, when it has one: status inferred, the 2020 spec
names none), else the time it arrived (its modification time), then its name. Two whole states of
one school and period: the newest counts, the other is superseded. A change applies to the newest
whole state before it (type 3 in the period, else the school's current start-of-year version);
changes before the newest whole state are superseded by it.

Applying a change file (extract.py `stage`): a record replaces the state's records with the same
key (CHANGE_KEYS: ClientId for classes, learners, staff and results, MaDiemTruong for sites, the
room type for rooms), other records are added; nothing is deleted (the spec never deletes: a pupil
who left has a new status). The school record, and a list without a key (the budget), are replaced
whole by a change file that carries them. Each change file applied is a new submission version.

edustat's earlier demo end-of-year files are whole states marked LoaiDongBo 2 (before sync type 3
was read). The converter: a type-2 file of a school that has no state to apply it to (no type 3 in
the period, no start-of-year version in the warehouse) is read as a whole end-of-year state; the
ledger says so in its message. Regenerate or convert old demo folders (`python -m
pipelines.ingest.sync convert FOLDER` rewrites their LoaiDongBo 2 to 3).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

START, CHANGES, END, EARLIER = 1, 2, 3, 4
WHOLE = {"DN": START, "CN": END}
CHANGE_KEYS = {
    "site": ("MaDiemTruong",),
    "class": ("ClientId",),
    "learner": ("ClientId",),
    "staff": ("ClientId",),
    "rooms": ("MaLoaiPhong", "LoaiCongTrinh", "KhoiHoc"),
    "result": ("ClientId",),
}


@dataclass
class Candidate:
    """A loadable file of one school for the run's period (from the inbox or the store)."""

    file_id: int
    name: str
    sha256: str
    sync: int
    stamp: datetime
    from_store: bool = False
    base: bool = False  # the start-of-year version a CN state is built on
    converted: bool = False  # a type-2 file read as a whole state (the converter)

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.stamp, self.name)


@dataclass
class Plan:
    """A school's state: the files applied in order, and the files it supersedes (file → by whom)."""

    chain: list[Candidate] = field(default_factory=list)
    superseded: list[tuple[Candidate, Candidate]] = field(default_factory=list)


def plan(candidates: list[Candidate], period: str, base: Candidate | None) -> Plan:
    """The state of one school for the period from its candidate files."""
    out = Plan()
    files = sorted(candidates, key=lambda c: c.order)
    if not files:
        return out
    if period == "DN":
        # Identical bytes are one version: the first file that brought them counts, later copies
        # are superseded by it (an unchanged re-upload is no new version).
        head = next(c for c in files if c.sha256 == files[-1].sha256)
        out.chain = [head]
        out.superseded = [(c, head) for c in files if c is not head]
        return out
    wholes = [i for i, c in enumerate(files) if c.sync == END]
    if wholes:
        last = wholes[-1]
        head = files[last]
        out.chain = [head] + [c for c in files[last + 1 :] if c.sync == CHANGES]
        out.superseded = [(c, head) for c in files[:last]]
        return out
    if base is not None:
        out.chain = [base, *files]
        return out
    files[0].converted = True
    out.chain = files
    return out


def convert_folder(folder: Path) -> int:
    """Rewrite LoaiDongBo 2 → 3 in edustat's earlier demo end-of-year files (whole states); returns
    how many files changed. Only for edustat's own demo folders: a real type-2 file is a change file."""
    n = 0
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() != ".json" or not path.is_file():
            continue
        try:
            payload = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(payload, dict) and payload.get("LoaiDongBo") == CHANGES:
            payload["LoaiDongBo"] = END
            path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            n += 1
    return n


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "convert":
        print(
            f"{convert_folder(Path(sys.argv[2]))} tệp đã đổi sang LoaiDongBo 3 / files changed to LoaiDongBo 3"
        )
        sys.exit(0)
    print("usage: python -m pipelines.ingest.sync convert FOLDER", file=sys.stderr)
    sys.exit(2)
