"""Rooms: as many classrooms (own or borrowed) as the school has physical classes, and a preschool
room per group or class in each block."""

from __future__ import annotations

import random
from collections import Counter

from pipelines.synthetic.rooms import preschool_rooms, school_rooms
from tests.synthetic.conftest import plan_of


def test_classrooms_own_and_borrowed_equal_the_physical_classes():
    for seed in range(200):
        mountain = seed % 2 == 1
        rooms = school_rooms(random.Random(seed), plan_of("TH", mountain=mountain), 12)
        classrooms = sum(r["SoLuong"] for r in rooms if r["MaLoaiPhong"] in ("01", "02"))
        assert classrooms == 12
        assert all(r["SoLuong"] > 0 for r in rooms)
        keys = [(r["MaLoaiPhong"], r["LoaiCongTrinh"]) for r in rooms]
        assert len(keys) == len(set(keys))
        if not mountain:  # temporary classrooms only in the mountains
            assert ("01", "03") not in keys


def test_a_preschool_room_for_every_group_in_its_block():
    specs = [("01", 10, 0), ("02", 12, 0), ("04", 20, 0), ("05", 22, 0), ("06", 25, 0), ("06", 9, 2)]
    for seed in range(200):
        rooms = preschool_rooms(random.Random(seed), plan_of("MN", category="13"), specs)
        groups = Counter()
        for r in rooms:
            if r["MaLoaiPhong"] in ("01", "02"):
                groups[r["KhoiHoc"]] += r["SoLuong"]
        assert groups == {"16": 2, "17": 4}
        assert all(r["SoLuong"] > 0 and r["KhoiHoc"] in ("16", "17") for r in rooms)
