"""The inbox as people fill it: every entry under it, at any depth, with what ingest does with it.

Data files are the `.json` files (the extension compared without case); `.zip` archives are opened
like folders (their members are entries named "archive.zip!member") when they pass the archive
limits, else refused whole with a message; everything else is listed as not read, saying what it
is (another kind of file, a link, which is never followed, a folder too deep). Nothing is
extracted to disk: a member is read into memory, at most its declared size, and its name never
becomes a path, so a member named "../../x" is refused and escapes nothing.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from pipelines.ingest.limits import Limits, over

DATA_SUFFIX = ".json"
ARCHIVE_SUFFIX = ".zip"
RATIO_FLOOR = 1 << 16  # members smaller than 64 KiB are not judged by their compression ratio
# What a few common non-data files are, for the message of a file not read.
KNOWN = {
    ".xlsx": ("bảng tính Excel", "an Excel workbook"),
    ".xls": ("bảng tính Excel", "an Excel workbook"),
    ".csv": ("tệp CSV", "a CSV file"),
    ".pdf": ("tệp PDF", "a PDF file"),
    ".doc": ("văn bản Word", "a Word document"),
    ".docx": ("văn bản Word", "a Word document"),
    ".txt": ("tệp văn bản", "a text file"),
    ".rar": ("tệp nén RAR (chỉ đọc .zip)", "a RAR archive (only .zip is read)"),
    ".7z": ("tệp nén 7z (chỉ đọc .zip)", "a 7z archive (only .zip is read)"),
    ".ds_store": ("tệp hệ thống của macOS", "a macOS system file"),
    ".ini": ("tệp cấu hình", "a settings file"),
    ".db": ("tệp hệ thống (ảnh thu nhỏ)", "a system file (thumbnails)"),
}


@dataclass(frozen=True)
class Entry:
    """One entry under the inbox. kind: data (a file to read) | not_read | rejected."""

    name: str  # path relative to the inbox, "/"-separated; "a.zip!b/c.json" inside an archive
    kind: str
    size: int = 0
    mtime: datetime | None = None
    reason: str | None = None
    message_vi: str | None = None
    message_en: str | None = None
    path: Path | None = None  # the file on disk (the archive, for a member)
    member: str | None = None  # the member's name inside the archive


def _not_read(name: str, reason: str, vi: str, en: str, size: int = 0) -> Entry:
    return Entry(name, "not_read", size, None, reason, vi, en)


def _rejected(name: str, reason: str, vi: str, en: str, size: int = 0, path: Path | None = None) -> Entry:
    return Entry(name, "rejected", size, None, reason, vi, en, path)


def _what(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name.lower()).suffix or PurePosixPath(name.lower()).name
    if name.startswith("~$"):
        return "tệp tạm của Office", "an Office temporary file"
    if suffix in KNOWN:
        return KNOWN[suffix]
    ext = PurePosixPath(name).suffix or "(không đuôi / no extension)"
    return f"tệp {ext}", f"a {ext} file"


def _other(name: str, size: int) -> Entry:
    vi, en = _what(PurePosixPath(name).name)
    return _not_read(name, "entry.not_data", f"Không phải tệp dữ liệu JSON: {vi}; không đọc",
                     f"Not a JSON data file: {en}; not read", size)  # fmt: skip


def walk_inbox(inbox: Path, limits: Limits) -> list[Entry]:
    """Every entry under the inbox, sorted by name, archives opened; the total size limit applied
    in that order (entries past it are rejected, the others go on)."""
    entries: list[Entry] = []
    _walk(inbox, "", 0, limits, entries)
    entries.sort(key=lambda e: e.name)
    total, out = 0, []
    for e in entries:
        if e.kind == "data":
            total += e.size
            if total > limits.max_inbox_bytes:
                vi, en = over("Tổng dung lượng hộp thư", "The inbox's total size", f"{total:,} B",
                              limits.max_inbox_bytes, "max_inbox_bytes")  # fmt: skip
                e = _rejected(e.name, "limit.inbox_bytes", vi, en, e.size)
        out.append(e)
    return out


def _walk(folder: Path, prefix: str, depth: int, limits: Limits, out: list[Entry]) -> None:
    try:
        children = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError as exc:
        out.append(_not_read(prefix.rstrip("/") or ".", "entry.unreadable", f"Không mở được thư mục ({exc.strerror})",
                             f"The folder cannot be opened ({exc.strerror})"))  # fmt: skip
        return
    for child in children:
        name = prefix + child.name
        try:
            st = child.stat(follow_symlinks=False)
        except OSError as exc:
            out.append(_not_read(name, "entry.unreadable", f"Không đọc được ({exc.strerror})",
                                 f"Cannot be read ({exc.strerror})"))  # fmt: skip
            continue
        if stat.S_ISLNK(st.st_mode):
            out.append(_not_read(name, "entry.link", "Liên kết (symlink): không theo, không đọc",
                                 "A link (symlink): not followed, not read"))  # fmt: skip
        elif stat.S_ISDIR(st.st_mode):
            if depth + 1 > limits.max_folder_depth:
                vi, en = over(
                    "Độ sâu thư mục", "Folder depth", depth + 1, limits.max_folder_depth, "max_folder_depth"
                )
                out.append(_not_read(name + "/", "limit.folder_depth", vi + "; không đọc", en + "; not read"))
            else:
                _walk(Path(child.path), name + "/", depth + 1, limits, out)
        elif not stat.S_ISREG(st.st_mode):
            out.append(_not_read(name, "entry.special", "Không phải tệp thường (thiết bị, ống, socket); không đọc",
                                 "Not a regular file (device, pipe, socket); not read"))  # fmt: skip
        else:
            out.extend(_file(Path(child.path), name, st, limits))


def _file(path: Path, name: str, st: os.stat_result, limits: Limits) -> list[Entry]:
    lower = name.lower()
    mtime = datetime.fromtimestamp(st.st_mtime)
    if lower.endswith(DATA_SUFFIX):
        if st.st_size > limits.max_file_bytes:
            vi, en = over(
                "Dung lượng tệp",
                "The file's size",
                f"{st.st_size:,} B",
                limits.max_file_bytes,
                "max_file_bytes",
            )
            return [_rejected(name, "limit.file_bytes", vi, en, st.st_size)]
        return [Entry(name, "data", st.st_size, mtime, path=path)]
    if lower.endswith(ARCHIVE_SUFFIX):
        return _archive(path, name, mtime, limits)
    return [_other(name, st.st_size)]


def _archive(path: Path, name: str, mtime: datetime, limits: Limits) -> list[Entry]:
    """An archive's members as entries, or the archive refused whole."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        return [_rejected(name, "archive.unreadable", f"Tệp nén .zip hỏng, không mở được ({exc})",
                          f"Broken .zip archive, cannot be opened ({exc})", path=path)]  # fmt: skip
    if len(infos) > limits.max_archive_members:
        vi, en = over("Số tệp trong tệp nén", "Members of the archive", len(infos), limits.max_archive_members,
                      "max_archive_members")  # fmt: skip
        return [_rejected(name, "limit.archive_members", vi, en, path=path)]
    out, seen = [], set()
    for info in infos:
        if info.is_dir():
            continue
        member = f"{name}!{info.filename}"
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            out.append(_rejected(member, "archive.path_escape",
                                 "Tên tệp trong tệp nén trỏ ra ngoài thư mục (.., đường dẫn tuyệt đối); không đọc",
                                 "The member's name points outside the folder (.., an absolute path); not read"))  # fmt: skip
            continue
        if member in seen:
            out.append(_rejected(member, "archive.duplicate_member", "Tên tệp lặp lại trong tệp nén; không đọc",
                                 "The member's name appears twice in the archive; not read"))  # fmt: skip
            continue
        seen.add(member)
        lower = info.filename.lower()
        if not lower.endswith(DATA_SUFFIX):
            if lower.endswith(ARCHIVE_SUFFIX):
                out.append(_not_read(member, "archive.nested", "Tệp nén nằm trong tệp nén: không mở; hãy giải nén trước",
                                     "An archive inside an archive is not opened; unpack it first", info.file_size))  # fmt: skip
            else:
                out.append(_other(member, info.file_size))
            continue
        if info.flag_bits & 0x1:
            out.append(_rejected(member, "archive.encrypted", "Tệp trong tệp nén có mật khẩu; không đọc được",
                                 "The member is password-protected; cannot be read"))  # fmt: skip
            continue
        if info.file_size > limits.max_file_bytes:
            vi, en = over("Dung lượng tệp khi giải nén", "The member's size unpacked", f"{info.file_size:,} B",
                          limits.max_file_bytes, "max_file_bytes")  # fmt: skip
            out.append(_rejected(member, "limit.file_bytes", vi, en, info.file_size))
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > limits.max_compression_ratio:
            vi, en = over("Tỉ lệ nén (có thể là bom nén)", "The compression ratio (a possible zip bomb)",
                          f"{ratio:,.0f}", limits.max_compression_ratio, "max_compression_ratio")  # fmt: skip
            out.append(_rejected(member, "limit.compression_ratio", vi, en, info.file_size))
            continue
        when = datetime(*info.date_time) if info.date_time[0] >= 1980 else mtime
        out.append(Entry(member, "data", info.file_size, when, path=path, member=info.filename))
    if not out:
        out.append(
            _not_read(
                name, "archive.empty", "Tệp nén rỗng (không có tệp nào)", "An empty archive (no member)"
            )
        )
    return out


class EntryTooLarge(ValueError):
    """An archive member that unpacks to more bytes than it declared (a forged header)."""


def read_entry(entry: Entry, limits: Limits) -> bytes:
    """The bytes of a data entry: the file, or the archive member (never more than it declares)."""
    assert entry.path is not None
    if entry.member is None:
        return entry.path.read_bytes()
    with zipfile.ZipFile(entry.path) as zf, zf.open(entry.member) as fh:
        data = fh.read(min(entry.size, limits.max_file_bytes) + 1)
    if len(data) > entry.size:
        raise EntryTooLarge("the member unpacks to more bytes than its header declares")
    return data
