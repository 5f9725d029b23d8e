"""One file's bytes checked in a worker: its encoding, nesting, shape and limits; random input never
crashes the reader (hypothesis), it is loadable or rejected with a stated reason."""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.ingest import extract, parse
from pipelines.ingest.limits import Limits, from_environment

LIMITS = Limits()
REASONS = {"file.empty", "file.encoding", "file.legacy_text", "file.unreadable", "file.shape", "limit.depth",
           "limit.records", "limit.file_bytes"}  # fmt: skip


def test_depth_counts_brackets_outside_strings_only():
    assert parse.depth_of(b'{"a": [[1], {"b": 2}]}', 64) == 3
    assert parse.depth_of(b'{"a": "[[[[[[[[[["}', 5) == 1  # over the cheap bound: strings cut, exact


def test_utf16_and_a_bom_are_read_and_legacy_bytes_refused():
    text = '{"TruongHocInfo": {"TenTruongHoc": "Trường"}}'
    for raw in (text.encode("utf-16"), text.encode("utf-16-le"), b"\xef\xbb\xbf" + text.encode()):
        p, doc = parse.parse_file(0, raw, LIMITS, extract.layout())
        assert p.ok and doc["TruongHocInfo"]["TenTruongHoc"] == "Trường"
    p, doc = parse.parse_file(
        0, text.encode("utf-8").replace("ờ".encode(), b"\xf8"), LIMITS, extract.layout()
    )
    assert (p.ok, p.reason, doc) == (False, "file.encoding", None)
    assert "Unikey" in p.message_vi and "UTF-8" in p.message_en


def test_a_limit_is_named_with_its_setting():
    p, _ = parse.parse_file(0, b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}", LIMITS, extract.layout())
    assert (
        p.reason == "limit.depth"
        and "EDUSTAT_MAX_DEPTH" in p.message_en
        and "EDUSTAT_MAX_DEPTH" in p.message_vi
    )


def test_limits_come_from_the_environment_and_never_pass_excel_or_the_parser():
    got = from_environment({"EDUSTAT_MAX_RECORDS": "10_000", "EDUSTAT_MAX_TEXT_CHARS": "100000",
                            "EDUSTAT_MAX_DEPTH": "5000"})  # fmt: skip
    assert (got.max_records, got.max_text_chars, got.max_depth) == (10_000, 32_767, 1_024)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
_keys = st.sampled_from(["MaTruongHoc", "NamHoc", "LoaiDongBo", "TruongHocInfo", "LstHocSinh", "LstLopHocInfo",
                         "HoTen", "NgaySinh", "KhoiHoc", "TongSoHocSinh"])  # fmt: skip
_shaped = st.recursive(
    st.none() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=40,
)


def _check(raw: bytes) -> None:
    layout = extract.layout()
    found, ipc = parse.parse_batch([(7, raw)], LIMITS, layout)
    (p,) = found
    assert p.file_id == 7 and len(p.sha256) == 64
    if not p.ok:
        assert p.reason in REASONS and p.message_vi and p.message_en
        assert not ipc  # nothing of a rejected file goes on
    else:
        assert set(p.records) == {e for e, _, _ in layout}


@settings(max_examples=150, deadline=None)
@given(_json)
def test_random_json_is_loadable_or_rejected_with_a_reason(doc):
    _check(json.dumps(doc).encode())


@settings(max_examples=150, deadline=None)
@given(_shaped)
# Found by hypothesis: the school block's total is a list, so the shape check rejects the file after
# its school row was built; the row went on with the rejected file.
@example({"MaTruongHoc": None, "TruongHocInfo": {"MaTruongHoc": None, "TongSoHocSinh": []}})
def test_random_json_shaped_like_a_school_file_is_loadable_or_rejected(doc):
    _check(json.dumps(doc, ensure_ascii=False).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_reader(raw):
    _check(raw)


# --- the vectorised checks equal the regular expressions they stand for ------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60) | st.text(max_size=30).map(lambda t: t.encode("utf-8", "surrogatepass")))
@example("Tr\u00adêng Tröôøng".encode())  # TCVN3 / VNI read as Windows-1252
@example(b"\xc2\xc3\xb6\xc2")  # a lead byte before a lead byte, and one at the very end
def test_legacy_count_and_maybe_nfd_equal_their_regular_expressions(raw):
    assert parse.legacy_count(raw) == len(parse._LEGACY.findall(raw))
    assert parse.maybe_nfd(raw) == (parse._MAYBE_NFD.search(raw) is not None)


def test_a_legacy_name_is_counted_and_a_vietnamese_one_is_not():
    assert parse.legacy_count("Tröôøng Tiểu học".encode()) == 2  # ö, ø (not ô: Vietnamese has it)
    assert parse.legacy_count("Trường Tiểu học Lê Văn Tám, Hà Nội".encode()) == 0
    assert parse.maybe_nfd("Tru\u031bo\u031b\u0300ng".encode()) and parse.maybe_nfd(b'"\\u0054"')
    assert not parse.maybe_nfd("Trường".encode())


def test_a_column_of_mixed_types_reads_as_text_of_reads_each_value():
    """KhoiHoc sent as " 02 ", 2, True, 2.0, 2.5, None, "", a decomposed "Trường" and an object."""
    rows = [
        {"KhoiHoc": v} for v in (" 02 ", 2, True, 2.0, 2.5, None, "", "Tru\u031bo\u031b\u0300ng", {"a": 1})
    ]
    table, bad_files, bad = parse.columns(
        "learner", "LstHocSinh", (("KhoiHoc", "value"),), [(3, {"LstHocSinh": rows})]
    )
    assert table.column("v_KhoiHoc").to_pylist() == ["02", "2", "1", "2", "2.5", None, None, "Trường", None]
    assert (bad_files, bad) == ({3}, [(3, "LstHocSinh[8].KhoiHoc")])


def test_a_text_column_loses_its_outer_white_space_as_str_strip_cuts_it():
    rows = [{"HoTen": v} for v in ("\u3000Lê Văn Tám\xa0", " \t", "An\u2028", "Bình")]
    table, _, _ = parse.columns("learner", "LstHocSinh", (("HoTen", "value"),), [(1, {"LstHocSinh": rows})])
    assert table.column("v_HoTen").to_pylist() == ["Lê Văn Tám", None, "An", "Bình"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(_keys, _shaped, max_size=6), max_size=8))
def test_field_columns_read_each_record_as_get_would(rows):
    names = ["HoTen", "NgaySinh", "KhoiHoc", "MaTruongHoc"]
    assert parse._field_columns(rows, names) == [[r.get(n) for r in rows] for n in names]
