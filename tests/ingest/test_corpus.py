"""The bad-input corpus: each case an inbox (beside one good school's file) and the ledger it must
give, every entry with exactly one stated outcome, and the good school's staged rows unchanged.

The cases are data (CASES): a name a statistician would give the defect, the files of its inbox
(bytes, or a function making an entry a string cannot: an archive, a link, a pipe), the outcome
and reason each entry must get, and the limits the case runs under. Each case runs ingest on a
copy of one prepared warehouse (registry rows in the ledger, units loaded). After ingest the
staged records are completed as counted (no validation runs here) and the ledger must balance.
The registry's own cases are in test_registry.py.
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pipelines import warehouse
from pipelines.ingest import ledger, limits, registry, units
from pipelines.ingest.inbox import ingest_inbox
from tests.conftest import klass, payload, pupil, school_info, write_registry

pytestmark = pytest.mark.slow  # 75 ingests of hand-made inboxes (≈40 s): `make test` runs them

GOOD, B, C = "66643001", "66643002", "66643003"
LEAD0 = "06643005"  # a code with a leading zero (schools send it as a number)
INACTIVE, TESTING, ELSEWHERE = "66643006", "66643007", "66643008"
RUN, YEAR = "corpus-run", "2024-2025"
GOOD_FILE = f"{GOOD}_2024_1.json"


def js(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def school(code: str, learners: list | None = None, info: dict | None = None, **top: object) -> dict:
    doc = payload(code, info or school_info(code), [klass("1A", 1)],
                  learners if learners is not None else [pupil(f"{code}-1", "1A", 1, 2, "01", "2018-02-02")])  # fmt: skip
    doc.update(top)
    return doc


def good() -> bytes:
    pupils = [pupil(f"g{i}", "1A", 1, 1 + i % 2, "01", "2018-02-02") for i in range(3)]
    return js(school(GOOD, pupils))


def nested(depth: int) -> bytes:
    inner = "[" * depth + "]" * depth
    return f'{{"MaTruongHoc": "{B}", "NamHoc": 2024, "TruongHocInfo": {{"MaTruongHoc": "{B}"}}, "X": {inner}}}'.encode()


def zipped(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, data in members.items():
                zf.writestr(name, data)

    return make


def link_to(target: str) -> Callable[[Path], None]:
    return lambda path: os.symlink(target, path)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def incompressible(n: int) -> bytes:
    return js(school(B, info=school_info(B, GhiChu=os.urandom(n // 2).hex())))


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, bytes | Callable[[Path], None]]
    expected: dict[str, tuple[str, str | None]]  # entry → (outcome, reason)
    limits: dict[str, int] = field(default_factory=dict)
    check: Callable | None = None  # (connection) → None, asserts what the case is about


def _staged(column: str, table: str = "stg_learner", code: str = B) -> Callable:
    def check(con, want) -> None:  # noqa: ANN001
        got = sorted(r[0] for r in con.execute(
            f"SELECT {warehouse.ident(column)} FROM {warehouse.ident(table)} WHERE school_code = ?", [code]).fetchall())  # fmt: skip
        assert got == want

    return check


def _dates(con) -> None:  # noqa: ANN001
    _staged("NgaySinh")(con, ["2016-01", "2016-01", "2016-01", "2016-01", "2016-01"])


def _lead0(con) -> None:  # noqa: ANN001
    assert con.execute("SELECT count(*) FROM stg_learner WHERE school_code = ?", [LEAD0]).fetchone()[0] == 1


def _nfc_name(con) -> None:  # noqa: ANN001
    name = con.execute("SELECT TenTruongHoc FROM stg_school WHERE school_code = ?", [B]).fetchone()[0]
    assert name == unicodedata.normalize("NFC", "Trường Tiểu học Hòa Bình")


def _newest(con) -> None:  # noqa: ANN001
    assert con.execute("SELECT count(*) FROM stg_learner WHERE school_code = ?", [C]).fetchone()[0] == 2


B_FILE = f"{B}_2024_1.json"
OK = ("counted", None)
REJ = "rejected"
DATES = ["20/01/2016", "2016-01-20", "20-01-2016", "20.01.2016", "2016/01/20"]
LEGACY_NAME = "Tr\u00adêng TiÓu häc Tr\u00adêng"  # TCVN3 read as Windows-1252, then saved as UTF-8
STAMPED = {"ThoiGianDongBo": "2024-10-01T08:00:00"}

CASES = [
    # --- unreadable or misshapen files ------------------------------------------------------------
    Case("empty file", {B_FILE: b""}, {B_FILE: (REJ, "file.empty")}),
    Case("only white space", {B_FILE: b" \r\n\t "}, {B_FILE: (REJ, "file.empty")}),
    Case("truncated JSON", {B_FILE: js(school(B))[:120]}, {B_FILE: (REJ, "file.unreadable")}),
    Case(
        "trailing garbage after the JSON",
        {B_FILE: js(school(B)) + b" }{"},
        {B_FILE: (REJ, "file.unreadable")},
    ),
    Case(
        "NaN literal",
        {B_FILE: js(school(B, info=school_info(B, TongSoHocSinh=1))).replace(b": 1,", b": NaN,", 1)},
        {B_FILE: (REJ, "file.unreadable")},
    ),  # fmt: skip
    Case("UTF-8 with a byte-order mark", {B_FILE: b"\xef\xbb\xbf" + js(school(B))}, {B_FILE: OK}),
    Case("UTF-16 LE with a byte-order mark", {B_FILE: js(school(B)).decode().encode("utf-16")}, {B_FILE: OK}),
    Case(
        "UTF-16 BE without a byte-order mark",
        {B_FILE: js(school(B)).decode().encode("utf-16-be")},
        {B_FILE: OK},
    ),
    Case(
        "UTF-16 LE without a byte-order mark",
        {B_FILE: js(school(B)).decode().encode("utf-16-le")},
        {B_FILE: OK},
    ),
    Case(
        "legacy VNI bytes (not UTF-8)",
        {B_FILE: js(school(B)).replace(b"Tr\xc6\xb0\xe1\xbb\x9dng", b"Tr\xd6\xf4\xf8ng")},
        {B_FILE: (REJ, "file.encoding")},
    ),  # fmt: skip
    Case(
        "TCVN3 text read wrongly as Unicode",
        {B_FILE: js(school(B, info=school_info(B, TenTruongHoc=LEGACY_NAME)))},
        {B_FILE: (REJ, "file.legacy_text")},
    ),  # fmt: skip
    Case(
        "NFD (decomposed) Vietnamese",
        {
            B_FILE: js(
                school(
                    B,
                    info=school_info(
                        B, TenTruongHoc=unicodedata.normalize("NFD", "Trường Tiểu học Hòa Bình")
                    ),
                )
            )
        },
        {B_FILE: OK},
        check=_nfc_name,
    ),  # fmt: skip
    Case("an array instead of an object", {B_FILE: js([school(B)])}, {B_FILE: (REJ, "file.shape")}),
    Case("a bare number", {B_FILE: b"42"}, {B_FILE: (REJ, "file.shape")}),
    Case(
        "no TruongHocInfo",
        {B_FILE: js({"MaTruongHoc": B, "NamHoc": 2024, "LoaiDongBo": 1})},
        {B_FILE: (REJ, "file.shape")},
    ),  # fmt: skip
    Case(
        "TruongHocInfo is a list",
        {B_FILE: js({**school(B), "TruongHocInfo": [school_info(B)]})},
        {B_FILE: (REJ, "file.shape")},
    ),  # fmt: skip
    Case(
        "learners as numbers, not objects", {B_FILE: js(school(B, [1, 2, 3]))}, {B_FILE: (REJ, "file.shape")}
    ),
    Case(
        "a field holding an object",
        {B_FILE: js(school(B, [pupil("x", "1A", 1, 2, {"a": 1}, "2018-01-01")]))},
        {B_FILE: (REJ, "file.shape")},
    ),  # fmt: skip
    Case(
        "one learner object instead of a list",
        {B_FILE: js(school(B, pupil("x", "1A", 1, 2, "01", "2018-01-01")))},  # type: ignore[arg-type]
        {B_FILE: OK},
    ),  # fmt: skip
    Case("nested 1,000 levels deep", {B_FILE: nested(1000)}, {B_FILE: (REJ, "limit.depth")}),
    Case("nested 100,000 levels deep", {B_FILE: nested(100_000)}, {B_FILE: (REJ, "limit.depth")}),
    Case(
        "nested past a lowered limit", {B_FILE: nested(10)}, {B_FILE: (REJ, "limit.depth")}, {"max_depth": 8}
    ),
    Case(
        "brackets inside strings are no nesting",
        {B_FILE: js(school(B, info=school_info(B, GhiChu="[" * 500)))},
        {B_FILE: OK},
    ),  # fmt: skip
    Case(
        "duplicate keys (the last one counts)",
        {B_FILE: js(school(B))[:-1] + b', "NamHoc": 2024}'},
        {B_FILE: OK},
    ),
    # --- identity: which school, which period ------------------------------------------------------
    Case(
        "file named for B holding A's data", {B_FILE: js(school(GOOD))}, {B_FILE: (REJ, "file.name_mismatch")}
    ),
    Case(
        "two MaTruongHoc in one file",
        {B_FILE: js(school(B, info=school_info(C)))},
        {B_FILE: (REJ, "file.code_mismatch")},
    ),
    Case(
        "no MaTruongHoc",
        {
            "truong-b.json": js(
                {**school(B), "MaTruongHoc": None, "TruongHocInfo": {**school_info(B), "MaTruongHoc": None}}
            )
        },
        {"truong-b.json": (REJ, "file.no_school_code")},
    ),  # fmt: skip
    Case(
        "code as a float",
        {B_FILE: js({**school(B), "MaTruongHoc": float(B), "TruongHocInfo": school_info(float(B))})},  # type: ignore[arg-type]
        {B_FILE: OK},
    ),  # fmt: skip
    Case(
        "code without its leading zero",
        {"06643005.json": js(school(int(LEAD0)))},  # type: ignore[arg-type]
        {"06643005.json": OK},
        check=_lead0,
    ),  # fmt: skip
    Case(
        "school not in the registry",
        {"66699999.json": js(school("66699999"))},
        {"66699999.json": (REJ, "file.not_in_registry")},
    ),  # fmt: skip
    Case(
        "last school year's file",
        {B_FILE: js(school(B, NamHoc=2023, TruongHocInfo=school_info(B, NamHoc=2023)))},
        {B_FILE: (REJ, "file.wrong_period")},
    ),  # fmt: skip
    Case(
        "an end-of-year file in the start-of-year run",
        {B_FILE: js(school(B, LoaiDongBo=3))},
        {B_FILE: ("not_expected", "sync.other_period")},
    ),  # fmt: skip
    Case(
        "a change file in the start-of-year run",
        {B_FILE: js(school(B, LoaiDongBo=2))},
        {B_FILE: ("not_expected", "sync.other_period")},
    ),  # fmt: skip
    Case(
        "earlier years' data",
        {B_FILE: js(school(B, LoaiDongBo=4))},
        {B_FILE: ("not_expected", "sync.earlier_years")},
    ),
    Case("an unknown sync type", {B_FILE: js(school(B, LoaiDongBo=9))}, {B_FILE: (REJ, "file.sync_type")}),
    Case(
        "a school no longer active",
        {f"{INACTIVE}.json": js(school(INACTIVE))},
        {f"{INACTIVE}.json": ("not_expected", "school.not_expected")},
    ),  # fmt: skip
    Case(
        "a test school",
        {f"{TESTING}.json": js(school(TESTING))},
        {f"{TESTING}.json": ("not_expected", "school.not_expected")},
    ),  # fmt: skip
    Case(
        "a school of another province",
        {f"{ELSEWHERE}.json": js(school(ELSEWHERE))},
        {f"{ELSEWHERE}.json": ("not_expected", "school.not_expected")},
    ),  # fmt: skip
    # --- two files of one school ----------------------------------------------------------------------
    Case(
        "an older and a newer version (by ThoiGianDongBo)",
        {
            f"{C}_old.json": js(school(C, ThoiGianDongBo="2024-10-01T08:00:00")),
            f"{C}_new.json": js(
                school(
                    C,
                    [
                        pupil("n1", "1A", 1, 2, "01", "2018-01-01"),
                        pupil("n2", "1A", 1, 1, "01", "2018-01-01"),
                    ],
                    ThoiGianDongBo="2024-10-05T08:00:00",
                )
            ),
        },
        {f"{C}_old.json": ("superseded", "version.superseded"), f"{C}_new.json": OK},
        check=_newest,
    ),  # fmt: skip
    Case(
        "the same file twice (a copy in a sub-folder)",
        {f"{C}_2024_1.json": js(school(C, **STAMPED)), f"copy/{C}_2024_1.json": js(school(C, **STAMPED))},
        {f"{C}_2024_1.json": OK, f"copy/{C}_2024_1.json": ("superseded", "version.copy")},  # the first counts
    ),  # fmt: skip
    Case(
        "same time stamp, different content: the later name wins",
        {f"{C}_a.json": js(school(C, **STAMPED)), f"{C}_b.json": js(school(C, [], **STAMPED))},
        {f"{C}_a.json": ("superseded", "version.superseded"), f"{C}_b.json": OK},
    ),  # fmt: skip
    # --- records --------------------------------------------------------------------------------------
    Case(
        "dates in the forms schools send",
        {B_FILE: js(school(B, [pupil(f"d{i}", "1A", 1, 2, "01", d) for i, d in enumerate(DATES)]))},
        {B_FILE: OK},
        check=_dates,
    ),  # fmt: skip
    Case(
        "duplicated learner records (validation excludes them)",
        {B_FILE: js(school(B, [pupil("d", "1A", 1, 2, "01", "2018-01-01")] * 2))},
        {B_FILE: OK},
    ),  # fmt: skip
    Case(
        "codes as floats in records",
        {B_FILE: js(school(B, [pupil("f", "1A", 1.0, 2.0, 1.0, "2018-01-01")]))},
        {B_FILE: OK},
    ),  # fmt: skip
    Case(
        "negative and fractional counts (validation judges them)",
        {B_FILE: js(school(B, info=school_info(B, TongSoHocSinh=-3, TongSoLopHoc=1.5)))},
        {B_FILE: OK},
    ),  # fmt: skip
    Case(
        "a count of 1e308",
        {B_FILE: js(school(B, info=school_info(B, TongSoHocSinh=1e308)))},
        {B_FILE: (REJ, "limit.number")},
    ),  # fmt: skip
    Case(
        "a count past a lowered bound",
        {B_FILE: js(school(B, info=school_info(B, TongSoHocSinh=5000)))},
        {B_FILE: (REJ, "limit.number")},
        {"max_number": 3000},
    ),  # fmt: skip
    Case(
        "a 40,000-character name",
        {B_FILE: js(school(B, info=school_info(B, TenTruongHoc="A" * 40_000)))},
        {B_FILE: (REJ, "limit.text")},
    ),  # fmt: skip
    Case(
        "more records than the limit",
        {B_FILE: js(school(B, [pupil(f"r{i}", "1A", 1, 2, "01", "2018-01-01") for i in range(6)]))},
        {B_FILE: (REJ, "limit.records")},
        {"max_records": 5},
    ),  # fmt: skip
    Case(
        "a file over the size limit",
        {B_FILE: incompressible(300_000)},
        {B_FILE: (REJ, "limit.file_bytes")},
        {"max_file_bytes": 100_000},
    ),  # fmt: skip
    # --- the inbox as people fill it ------------------------------------------------------------------
    Case("extension in upper case", {f"{B}.JSON": js(school(B))}, {f"{B}.JSON": OK}),
    Case("one folder per Phòng", {f"Phong 643/{B}.json": js(school(B))}, {f"Phong 643/{B}.json": OK}),
    Case(
        "an apostrophe in the names",
        {"Phòng Krông Ana's/truong b's.json": js(school(B))},
        {"Phòng Krông Ana's/truong b's.json": OK},
    ),  # fmt: skip
    Case(
        "folders deeper than the limit",
        {f"a/b/c/{B}.json": js(school(B))},
        {"a/b/c/": ("not_read", "limit.folder_depth")},
        {"max_folder_depth": 2},
    ),  # fmt: skip
    Case(
        "an Excel workbook in the inbox",
        {"tong hop.xlsx": b"PK\x03\x04"},
        {"tong hop.xlsx": ("not_read", "entry.not_data")},
    ),
    Case(
        "macOS and Office leftovers",
        {".DS_Store": b"\0\0", "~$bao cao.docx": b"x"},
        {".DS_Store": ("not_read", "entry.not_data"), "~$bao cao.docx": ("not_read", "entry.not_data")},
    ),  # fmt: skip
    Case("a file without an extension", {"README": b"hello"}, {"README": ("not_read", "entry.not_data")}),
    Case(
        "a JSON file renamed .txt",
        {f"{B}.json.txt": js(school(B))},
        {f"{B}.json.txt": ("not_read", "entry.not_data")},
    ),
    Case(
        "a symbolic link to a data file",
        {"link.json": link_to(f"/tmp/{B}.json")},
        {"link.json": ("not_read", "entry.link")},
    ),
    Case("a named pipe", {"pipe.json": fifo}, {"pipe.json": ("not_read", "entry.special")}),
    Case("an empty folder", {"empty/": lambda p: p.mkdir()}, {}),
    Case("a RAR archive", {"phong.rar": b"Rar!\x1a\x07\x00"}, {"phong.rar": ("not_read", "entry.not_data")}),
    # --- archives ---------------------------------------------------------------------------------
    Case(
        "a Phòng's files zipped",
        {"phong643.zip": zipped({f"{B}.json": js(school(B)), f"{C}.json": js(school(C))})},
        {f"phong643.zip!{B}.json": OK, f"phong643.zip!{C}.json": OK},
    ),  # fmt: skip
    Case(
        "a zip with folders and upper-case names",
        {"p.zip": zipped({f"Phong/{B}.JSON": js(school(B)), "Phong/": b""})},
        {f"p.zip!Phong/{B}.JSON": OK},
    ),  # fmt: skip
    Case(
        "a zip member escaping with ..",
        {"evil.zip": zipped({f"../../{B}.json": js(school(B))})},
        {f"evil.zip!../../{B}.json": (REJ, "archive.path_escape")},
    ),  # fmt: skip
    Case(
        "a zip member with an absolute path",
        {"evil.zip": zipped({f"/etc/{B}.json": js(school(B))})},
        {f"evil.zip!/etc/{B}.json": (REJ, "archive.path_escape")},
    ),  # fmt: skip
    Case(
        "a zip bomb",
        {"bomb.zip": zipped({f"{B}.json": b'{"a": "' + b"0" * 20_000_000 + b'"}'})},
        {f"bomb.zip!{B}.json": (REJ, "limit.compression_ratio")},
    ),  # fmt: skip
    Case(
        "a zip inside a zip",
        {"outer.zip": zipped({"inner.zip": b"PK\x05\x06" + b"\0" * 18})},
        {"outer.zip!inner.zip": ("not_read", "archive.nested")},
    ),  # fmt: skip
    Case(
        "a broken zip", {"broken.zip": b"PK\x03\x04 not really"}, {"broken.zip": (REJ, "archive.unreadable")}
    ),
    Case("an empty zip", {"empty.zip": zipped({})}, {"empty.zip": ("not_read", "archive.empty")}),
    Case(
        "a zip with a Word file",
        {"p.zip": zipped({"cong van.docx": b"x", f"{B}.json": js(school(B))})},
        {"p.zip!cong van.docx": ("not_read", "entry.not_data"), f"p.zip!{B}.json": OK},
    ),  # fmt: skip
    Case(
        "a zip with more members than the limit",
        {"many.zip": zipped({f"{i}.txt": b"x" for i in range(5)})},
        {"many.zip": (REJ, "limit.archive_members")},
        {"max_archive_members": 4},
    ),  # fmt: skip
    Case(
        "a zip member over the size limit",
        {"big.zip": zipped({f"{B}.json": incompressible(300_000)})},
        {f"big.zip!{B}.json": (REJ, "limit.file_bytes")},
        {"max_file_bytes": 100_000},
    ),  # fmt: skip
    Case(
        "a stored (uncompressed) zip",
        {"p.zip": zipped({f"{B}.json": js(school(B))}, zipfile.ZIP_STORED)},
        {f"p.zip!{B}.json": OK},
    ),  # fmt: skip
    Case(
        "the inbox over its total size",
        {f"z/{B}.json": incompressible(20_000)},
        {f"z/{B}.json": (REJ, "limit.inbox_bytes")},
        {"max_inbox_bytes": 15_000},
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A warehouse with the registry prepared, and the good school's staged rows when alone."""
    root = tmp_path_factory.mktemp("corpus")
    rows = [{"MA_TRUONG": c, "TEN_TRUONG_HOC": f"Trường {c}", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66",
             "ID_PHONG": "643"} for c in (GOOD, B, C, LEAD0)]  # fmt: skip
    rows += [
        {"MA_TRUONG": INACTIVE, "TEN_TRUONG_HOC": "Trường đã giải thể", "CAP_HOC": "1", "TRANG_THAI": 0,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": TESTING, "TEN_TRUONG_HOC": "Trường thử nghiệm", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": ELSEWHERE, "TEN_TRUONG_HOC": "Trường tỉnh khác", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "79", "ID_PHONG": "760"},
    ]  # fmt: skip
    reg = registry.read_registry(write_registry(root / "registry.xlsx", rows))
    path = root / "base.duckdb"
    with warehouse.connect(path) as con:
        units.load_units(con, reg, "2024", None, RUN)
        ledger.record_registry(con, reg, RUN, YEAR, "DN")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
        alone = _ingest(path, root / "alone", {}, {})
    return path, root, alone


def _good_rows(con) -> list:  # noqa: ANN001
    return con.execute("SELECT * EXCLUDE (row_id) FROM stg_learner WHERE school_code = ? ORDER BY record_index",
                       [GOOD]).fetchall()  # fmt: skip


def _ingest(base: Path, folder: Path, files: dict, lim: dict, check: Callable | None = None):  # noqa: ANN202
    folder.mkdir(parents=True)
    wh = folder / "warehouse.duckdb"
    shutil.copy(base, wh)
    inbox = folder / "inbox"
    inbox.mkdir()
    (inbox / GOOD_FILE).write_bytes(good())
    for name, content in files.items():
        path = inbox / name.rstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    with warehouse.connect(wh) as con:
        ingest_inbox(con, inbox, 2024, "DN", units.registered_schools(con), b"corpus-key", RUN,
                     limits=limits.Limits(**lim))  # fmt: skip
        ledger.complete_records(con, RUN, YEAR, "DN")
        summary = ledger.ledger_summary(con, RUN)
        entries = {p: (o, r) for p, o, r in con.execute(
            "SELECT position, outcome, reason FROM input_ledger WHERE run_id = ? AND input = 'inbox_entry'", [RUN]).fetchall()}  # fmt: skip
        n_entries = con.execute("SELECT count(*) FROM input_ledger WHERE run_id = ? AND input = 'inbox_entry'",
                                [RUN]).fetchone()[0]  # fmt: skip
        if check is not None:
            check(con)
        return summary, entries, n_entries, _good_rows(con)


def test_the_corpus_has_at_least_sixty_cases():
    assert len(CASES) >= 60 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_bad_input_gets_its_stated_outcome_and_the_books_balance(prepared, case, tmp_path, monkeypatch):
    base, _, (_, _, _, alone_rows) = prepared
    monkeypatch.setenv("EDUSTAT_STORE_KEY", Fernet.generate_key().decode())
    summary, entries, n_entries, good_rows = _ingest(
        base, tmp_path / "case", case.files, case.limits, case.check
    )
    assert entries == {GOOD_FILE: ("counted", None), **case.expected}
    assert n_entries == len(entries)  # each entry exactly once
    assert summary.balanced, summary.problems
    assert good_rows == alone_rows  # the good school is untouched by the case
