"""One school file's bytes → its identity, its shape checked, and its records as raw Arrow columns.

Runs in worker processes (ingest's process pool), so it imports only the parser, Arrow and numpy
and takes the catalogue's field lists as plain data. The bytes are read as UTF-8 (a byte-order
mark dropped) or UTF-16 (with its byte-order mark, or recognised by its zero bytes); anything
else is refused as a legacy encoding (TCVN3, VNI). orjson parses (C; it refuses documents nested
deeper than 1,024 levels); the nesting limit is measured before parsing. A record list must be a
list of objects (a single object is read as a list of one); a declared field must hold a value,
not an object or a list (lists of codes excepted). Values stay as the file gives them (Arrow
infers a column's type; a column of mixed types is turned into text here, as
`text_of` does), but for text columns' outer white space, cut here; the SQL of extract.py
normalises them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.limits import Limits, over

# (entity, json_path, ((field, kind), …)) with kind "value", "hash" (a value pseudonymised) or
# "list:<width>" (a list of codes).
Layout = tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]
SIMPLE_TYPES = (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())
# What Python's str.strip() removes (text_of strips before a value is judged).
WHITESPACE = (
    " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_BRACKETS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
# Latin-1 letters and signs no Vietnamese text holds, as UTF-8: what TCVN3 or VNI text read as
# Windows-1252 leaves behind ("Tr\u00adêng", "Tröôøng"). Three or more in a file: legacy text.
_LEGACY = re.compile(
    rb"\xc2[\xa1-\xbf]|\xc3[\x84-\x87\x8b\x8e\x8f\x91\x96-\x98\x9b\x9c\x9e\x9f\xa4-\xa7\xab\xae\xaf\xb1\xb6-\xb8\xbb\xbc\xbe\xbf]"
)
LEGACY_MIN = 3
# Combining diacritics (U+0300-U+036F, as UTF-8) or \u escapes: the file's strings may not be NFC and
# are normalised one by one; other files are NFC already (DuckDB's own NFC is slow).
_MAYBE_NFD = re.compile(rb"[\xcc\xcd][\x80-\xbf]|\\u")


@dataclass
class Parsed:
    """What a worker found in one file. ok False: rejected whole (reason, messages)."""

    file_id: int
    sha256: str
    ok: bool = True
    reason: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    school: Any = None  # MaTruongHoc at the top of the file
    info_school: Any = None  # MaTruongHoc of TruongHocInfo
    year: Any = None
    sync: Any = None
    stamp: Any = None  # ThoiGianDongBo, when the file has one (status: inferred)
    records: dict[str, int] = field(default_factory=dict)
    lists: tuple[str, ...] = ()  # the record lists the file carries (json paths present)
    nfc: bool = True  # its strings are NFC as they stand


def reject(p: Parsed, reason: str, vi: str, en: str) -> Parsed:
    p.ok, p.reason, p.message_vi, p.message_en = False, reason, vi, en
    return p


def depth_of(raw: bytes, limit: int) -> int:
    """How deep brackets nest: an upper bound counting every bracket (cheap), exact once strings
    are cut when the bound is over the limit."""

    def bound(data: bytes) -> int:
        b = data.translate(None, _NOT_BRACKETS).translate(_BRACKETS)
        return int(np.frombuffer(b, np.int8).cumsum(dtype=np.int32).max()) if b else 0

    first = bound(raw)
    return first if first <= limit else bound(_STRINGS.sub(b"", raw))


# _LEGACY's second bytes after each lead byte (\xc2, \xc3), as tables: its matches are two bytes and
# a second byte is never a lead byte, so they cannot overlap and are counted position by position.
_SECOND = {lead: np.array([_LEGACY.fullmatch(bytes([lead, b])) is not None for b in range(256)])
           for lead in (0xC2, 0xC3)}  # fmt: skip


def legacy_count(utf8: bytes) -> int:
    """len(_LEGACY.findall(utf8)), vectorised (the regex scans byte by byte: 7 ms per MB)."""
    a = np.frombuffer(utf8, np.uint8)
    if len(a) < 2:
        return 0
    first, second = a[:-1], a[1:]
    return int(sum(np.count_nonzero(table[second[first == lead]]) for lead, table in _SECOND.items()))


def maybe_nfd(utf8: bytes) -> bool:
    """_MAYBE_NFD.search(utf8) is not None; the regex runs only on files holding one of its bytes."""
    if b"\xcc" not in utf8 and b"\xcd" not in utf8 and b"\\u" not in utf8:
        return False
    return _MAYBE_NFD.search(utf8) is not None


def decode(raw: bytes) -> tuple[bytes | str | None, str | None]:
    """(text for the parser, None) or (None, the encoding problem)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(raw) > 1 and (raw[1:2] == b"\0" or raw[:1] == b"\0")
    ):
        codec = (
            "utf-16"
            if raw.startswith((b"\xff\xfe", b"\xfe\xff"))
            else ("utf-16-le" if raw[1:2] == b"\0" else "utf-16-be")
        )
        try:
            return raw.decode(codec), None
        except UnicodeDecodeError:
            return None, "UTF-16"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "legacy"
    return raw, None


def parse_file(
    file_id: int, raw: bytes, limits: Limits, layout: Layout
) -> tuple[Parsed, dict[str, Any] | None]:
    """Check one file; (its findings, the parsed payload when it can be loaded)."""
    p = Parsed(file_id, hashlib.sha256(raw).hexdigest())
    if len(raw) > limits.max_file_bytes:
        vi, en = over(
            "Dung lượng tệp", "The file's size", f"{len(raw):,} B", limits.max_file_bytes, "max_file_bytes"
        )
        return reject(p, "limit.file_bytes", vi, en), None
    if not raw.strip(b" \t\r\n\xef\xbb\xbf\0"):
        return reject(p, "file.empty", "Tệp rỗng", "The file is empty"), None
    text, problem = decode(raw)
    if text is None:
        if problem == "legacy":
            return reject(p, "file.encoding",
                           "Tệp không phải UTF-8 (có thể là mã cũ TCVN3/VNI): chuyển sang Unicode UTF-8 (vd. bằng Unikey) rồi gửi lại",
                           "The file is not UTF-8 (perhaps the legacy TCVN3/VNI encodings): convert it to Unicode UTF-8 "
                           "(e.g. with Unikey) and send it again"), None  # fmt: skip
        return reject(
            p, "file.encoding", "Tệp UTF-16 hỏng, không đọc được", "Broken UTF-16 file, cannot be read"
        ), None
    utf8 = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    depth = depth_of(utf8, limits.max_depth)
    if depth > limits.max_depth:
        vi, en = over(
            "Độ sâu lồng nhau của JSON", "The JSON's nesting depth", depth, limits.max_depth, "max_depth"
        )
        return reject(p, "limit.depth", vi, en), None
    if legacy_count(utf8) >= LEGACY_MIN:
        return reject(p, "file.legacy_text",
                       "Chữ trong tệp là mã cũ TCVN3/VNI đọc sai thành Unicode (vd. \"Tr­êng\", \"Tröôøng\"): chuyển mã "
                       "bằng Unikey rồi gửi lại",
                       "The file's text is legacy TCVN3/VNI read wrongly as Unicode (e.g. \"Tr­êng\", \"Tröôøng\"): "
                       "convert it with Unikey and send it again"), None  # fmt: skip
    p.nfc = not maybe_nfd(utf8)
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            vi, en = over(
                "Độ sâu lồng nhau của JSON",
                "The JSON's nesting depth",
                "> 1,024",
                limits.max_depth,
                "max_depth",
            )
            return reject(p, "limit.depth", vi, en), None
        return reject(p, "file.unreadable", f"Tệp JSON hỏng hoặc bị cắt cụt, không đọc được ({exc})",
                       f"Malformed or truncated JSON file, cannot be read ({exc})"), None  # fmt: skip
    if not isinstance(payload, dict):
        kind = "mảng / an array" if isinstance(payload, list) else type(payload).__name__
        return reject(p, "file.shape", f"Tệp là {kind.split(' / ')[0]}, không phải đối tượng JSON có TruongHocInfo",
                       f"The file is {kind.split(' / ')[-1]}, not a JSON object with TruongHocInfo"), None  # fmt: skip
    info = payload.get("TruongHocInfo")
    if not isinstance(info, dict):
        return reject(p, "file.shape", "Tệp không có đối tượng TruongHocInfo",
                       "The file has no TruongHocInfo object"), None  # fmt: skip
    p.school, p.info_school = payload.get("MaTruongHoc"), info.get("MaTruongHoc")
    p.year = payload.get("NamHoc") if payload.get("NamHoc") is not None else info.get("NamHoc")
    p.sync, p.stamp = payload.get("LoaiDongBo"), payload.get("ThoiGianDongBo")
    lists = []
    for entity, path, _ in layout:
        value = payload.get(path)
        if value is None:
            p.records[entity] = 0
            continue
        lists.append(path)
        items = value if isinstance(value, list) else [value]
        bad = next((i for i, r in enumerate(items) if not isinstance(r, dict)), None)
        if bad is not None:
            return reject(p, "file.shape", f"{path}[{bad}] không phải đối tượng JSON",
                           f"{path}[{bad}] is not a JSON object"), None  # fmt: skip
        if len(items) > limits.max_records:
            vi, en = over(
                f"Số bản ghi của {path}",
                f"Records in {path}",
                f"{len(items):,}",
                limits.max_records,
                "max_records",
            )
            return reject(p, "limit.records", vi, en), None
        p.records[entity] = len(items)
    p.lists = tuple(lists)
    return p, payload


# --- records as raw columns ---------------------------------------------------------------------


def text_of(value: Any) -> str | None:
    """A raw value as text: None stays None, booleans 1/0, 2.0 → "2", NFC, stripped; empty → None
    (here, not in normalise.py, so the parse workers import nothing heavy)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def list_text(value: Any, width: int) -> str | None:
    """A list of codes or of {MaMonHoc: …} objects → "code,code" (normalise.py _normalise_list)."""
    if value is None:
        return None
    if not isinstance(value, list):
        return None if isinstance(value, dict) else text_of(value)
    items = [v.get("MaMonHoc") if isinstance(v, dict) else v for v in value]
    codes = []
    for v in items:
        text = None if isinstance(v, (dict, list)) else text_of(v)
        if text is None:
            continue
        if "." in text and re.fullmatch(r"\d+\.0+", text):
            text = text.split(".")[0]
        if text.isdigit() and width and len(text) < width:
            text = text.zfill(width)
        codes.append(text)
    return ",".join(codes) or None


def _texts(col: list[Any], name: str, path: str, ids: list[int], index: list[int],
           bad: list[tuple[int, str]]) -> list[str | None]:  # fmt: skip
    """A column of mixed types as text_of gives it, but for the outer white space and empty texts
    (trimmed cuts them after): the common types without text_of's call (an ASCII text is NFC as it
    stands); a value that is an object or a list → None, its place noted in `bad`."""
    texts: list[str | None] = []
    add = texts.append
    for i, v in enumerate(col):
        t = type(v)
        if t is str:
            add(v if v.isascii() else unicodedata.normalize("NFC", v))
        elif v is None:
            add(None)
        elif t is int:
            add(str(v))
        elif t is dict or t is list or isinstance(v, (dict, list)):
            bad.append((ids[i], f"{path}[{index[i]}].{name}"))
            add(None)
        else:
            add(text_of(v))
    return texts


def trimmed(arr: pa.Array) -> pa.Array:
    """A text column as text_of leaves it: outer white space cut (str.strip()'s), empty → null. Here,
    vectorised, rather than in DuckDB's trim (about 60 times slower with this set of characters)."""
    cut = pc.utf8_trim(arr, characters=WHITESPACE)
    return pc.if_else(pc.equal(pc.utf8_length(cut), 0), pa.scalar(None, pa.string()), cut)


class ShapeError(ValueError):
    def __init__(self, file_id: int, where: str) -> None:
        super().__init__(where)
        self.file_id, self.where = file_id, where


def _nfc(record: dict[str, Any]) -> dict[str, Any]:
    return {k: unicodedata.normalize("NFC", v) if isinstance(v, str) else v for k, v in record.items()}


def columns(entity: str, path: str, fields: tuple[tuple[str, str], ...], batch: list[tuple[int, dict[str, Any]]],
            not_nfc: set[int] = frozenset(), key: bytes | None = None,
            ) -> tuple[pa.Table | None, set[int], list[tuple[int, str]]]:  # fmt: skip
    """The records of one list across a batch of files as an Arrow table: file_id, record_index,
    then one raw column per field, then (with a key) h_<field>, the keyed hash of each pseudonymised
    field whose column's text is known here (keyed_hashes); and the files with a value of the wrong
    shape (file_id, where)."""
    ids, index, rows = [], [], []
    for file_id, payload in batch:
        value = payload.get(path)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        if file_id in not_nfc:
            items = [_nfc(r) for r in items]
        ids.extend([file_id] * len(items))
        index.extend(range(len(items)))
        rows.extend(items)
    if not rows:
        return None, set(), []
    arrays = [pa.array(ids, pa.int32()), pa.array(index, pa.int32())]
    bad: list[tuple[int, str]] = []
    for (name, kind), col in zip(fields, _field_columns(rows, [n for n, _ in fields]), strict=True):
        if kind.startswith("list:"):
            width = int(kind.split(":")[1])
            arrays.append(trimmed(pa.array([list_text(v, width) for v in col], pa.string())))
            continue
        try:
            arr = pa.array(col)
            if arr.type not in SIMPLE_TYPES:
                raise TypeError
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arr = pa.array(_texts(col, name, path, ids, index, bad), pa.string())
        arrays.append(trimmed(arr) if arr.type == pa.string() else arr)
    names = ["file_id", "record_index", *(f"v_{n}" for n, _ in fields)]
    if key is not None:
        for (name, kind), arr in zip(fields, arrays[2:], strict=True):
            hashed = keyed_hashes(arr, key) if kind == "hash" else None
            if hashed is not None:
                arrays.append(hashed)
                names.append(f"h_{name}")
    return pa.Table.from_arrays(arrays, names=names), {i for i, _ in bad}, bad


def _field_columns(rows: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """[[r.get(name) for r in rows] for name in names], in one pass over each record's own keys
    (a record holds about 12 of the learner's 30 fields: 2.5 times faster)."""
    n = len(rows)
    cols: dict[str, list[Any]] = {name: [None] * n for name in names}
    for i, r in enumerate(rows):
        for k, v in r.items():
            c = cols.get(k)
            if c is not None:
                c[i] = v
    return [cols[name] for name in names]


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer pads of HMAC-SHA256 for a key (RFC 2104)."""
    k = hashlib.sha256(key).digest() if len(key) > 64 else key
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def keyed_hashes(arr: pa.Array, key: bytes) -> pa.Array | None:
    """normalise.pseudonymise of each value's text as extract.py's SQL reads it (text_of), in the
    worker: HMAC-SHA256, first 24 hex digits; None for a column of floats (the SQL's text of a float
    is DuckDB's, so the SQL hashes those). Each distinct value is hashed once (names repeat)."""
    if arr.type == pa.null():
        return pa.nulls(len(arr), pa.string())
    if arr.type not in (pa.string(), pa.int64(), pa.bool_()):
        return None
    if arr.type == pa.bool_():
        return _hashed([None if v is None else ("1" if v else "0") for v in arr.to_pylist()], key)
    distinct = pc.dictionary_encode(arr)
    values = distinct.dictionary.to_pylist()
    texts = values if arr.type == pa.string() else [str(v) for v in values]
    return _hashed(texts, key).take(distinct.indices)


def _hashed(texts: list[str | None], key: bytes) -> pa.Array:
    """The keyed hash (first 24 hex digits) of each text; None stays None."""
    ipad, opad = hmac_pads(key)
    inner, outer = hashlib.sha256(ipad), hashlib.sha256(opad)
    out: list[str | None] = []
    add = out.append
    for text in texts:
        if text is None:
            add(None)
            continue
        i = inner.copy()
        i.update(text.encode("utf-8", "surrogatepass"))
        o = outer.copy()
        o.update(i.digest())
        add(o.hexdigest()[:24])
    return pa.array(out, pa.string())


def parse_tables(
    jobs: list[tuple[int, bytes]], limits: Limits, layout: Layout, key: bytes | None = None
) -> tuple[list[Parsed], dict[str, pa.Table]]:
    """A worker's share: each file checked, the loadable ones' records as raw Arrow tables per entity."""
    found, loaded = [], []
    for file_id, raw in jobs:
        p, payload = parse_file(file_id, raw, limits, layout)
        found.append(p)
        if payload is not None:
            loaded.append((file_id, payload))
    by_id = {p.file_id: p for p in found}
    tables: dict[str, pa.Table] = {}
    for entity, path, fields in layout:
        not_nfc = {p.file_id for p in found if not p.nfc}
        table, _, bad = columns(entity, path, fields, loaded, not_nfc, key)
        for file_id, where in bad:
            p = by_id[file_id]
            if p.ok:
                reject(p, "file.shape", f"{where} là đối tượng hoặc danh sách, không phải một giá trị",
                        f"{where} is an object or a list where a value is expected")  # fmt: skip
        if table is not None:
            tables[entity] = table
    # A file rejected by a later entity's shape check has rows in the earlier entities' tables:
    # nothing of a rejected file goes on.
    ok_ids = pa.array([p.file_id for p in found if p.ok], pa.int32())
    out: dict[str, pa.Table] = {}
    for entity, table in tables.items():
        kept = table.filter(pc.is_in(table["file_id"], value_set=ok_ids))
        if kept.num_rows:
            out[entity] = kept
    return found, out


def to_ipc(table: pa.Table) -> bytes:
    """An Arrow table as IPC stream bytes (what a worker sends back)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def parse_batch(
    jobs: list[tuple[int, bytes]], limits: Limits, layout: Layout, key: bytes | None = None
) -> tuple[list[Parsed], dict[str, bytes]]:
    """parse_tables, the tables as Arrow IPC."""
    found, tables = parse_tables(jobs, limits, layout, key)
    return found, {entity: to_ipc(table) for entity, table in tables.items()}
