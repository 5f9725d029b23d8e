"""Injected defects: each one listed exactly, and none without a defect rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.synthetic.defects import DEFECT_KINDS
from tests.synthetic.conftest import gen, problems


def test_defects_listed_exactly(tmp_path: Path) -> None:
    summary = gen(tmp_path, 30, seed=5, defect_rate=1.0)
    defects = json.loads(summary.defects.read_text(encoding="utf-8"))
    assert len(defects) == summary.n_defects == 30
    assert {d["kind"] for d in defects} == set(DEFECT_KINDS)
    by_file = {d["file"]: d for d in defects}
    for path in sorted(summary.inbox.iterdir()):
        d = by_file[path.name]
        text = path.read_text(encoding="utf-8")
        if d["kind"] == "malformed_file":
            with pytest.raises(json.JSONDecodeError):
                json.loads(text)
            assert d["record_index"] is None
            continue
        payload = json.loads(text)
        assert payload["MaTruongHoc"] == d["school_code"]
        assert problems(payload) == {(d["entity"], d["record_index"], d["field"])}, d


def test_no_defects_without_rate(tmp_path: Path) -> None:
    summary = gen(tmp_path, 6, seed=5, defect_rate=0.0)
    assert summary.defects.read_text(encoding="utf-8").strip() == "[]"
