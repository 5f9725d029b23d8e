"""The limits ingest holds every input to, each with a default and an EDUSTAT_* environment setting.

A file over a limit is rejected with a message naming the limit, its value and its setting; the
other schools go on. A registry over a limit stops the run before anything is written (the run
cannot place any school without it). The defaults leave a wide margin over real files: the largest
generated school file is about 1.5 MB and 5,000 learners; a province's registry about 3,000 rows.

| limit | default | setting |
|---|---:|---|
| bytes per file (a JSON file, an archive member) | 64 MiB | EDUSTAT_MAX_FILE_BYTES |
| nesting depth of a JSON file | 64 (the parser stops at 1,024 whatever the setting) | EDUSTAT_MAX_DEPTH |
| records per list of a file | 50,000 | EDUSTAT_MAX_RECORDS |
| characters per text value | 32,767 (Excel's cell limit; never more) | EDUSTAT_MAX_TEXT_CHARS |
| magnitude of a number (counts, amounts) | 1,000,000,000 | EDUSTAT_MAX_NUMBER |
| rows of the registry | 200,000 | EDUSTAT_MAX_REGISTRY_ROWS |
| bytes of the registry file, and decompressed | 64 MiB, 512 MiB | EDUSTAT_MAX_REGISTRY_BYTES, EDUSTAT_MAX_UNZIPPED_BYTES |
| compression ratio of an archive member or xlsx part | 200 | EDUSTAT_MAX_COMPRESSION_RATIO |
| members of a .zip archive | 20,000 | EDUSTAT_MAX_ARCHIVE_MEMBERS |
| total bytes of the inbox (files, and archive members decompressed) | 16 GiB | EDUSTAT_MAX_INBOX_BYTES |
| folder depth under the inbox | 8 | EDUSTAT_MAX_FOLDER_DEPTH |

The spec's own field lengths (max_length in schemas/sources/*.yaml) and ranges (min, max) are
record rules that validation applies; these limits are what no file may exceed at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

EXCEL_CELL_CHARS = 32_767  # the most characters an Excel cell holds
PARSER_DEPTH = 1_024  # orjson refuses deeper documents whatever the setting


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 64 << 20
    max_depth: int = 64
    max_records: int = 50_000
    max_text_chars: int = EXCEL_CELL_CHARS
    max_number: int = 1_000_000_000
    max_registry_rows: int = 200_000
    max_registry_bytes: int = 64 << 20
    max_unzipped_bytes: int = 512 << 20
    max_compression_ratio: int = 200
    max_archive_members: int = 20_000
    max_inbox_bytes: int = 16 << 30
    max_folder_depth: int = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            if int(getattr(self, f.name)) <= 0:
                raise ValueError(f"{setting_name(f.name)} phải lớn hơn 0 / must be positive")
        if self.max_text_chars > EXCEL_CELL_CHARS:
            object.__setattr__(self, "max_text_chars", EXCEL_CELL_CHARS)
        if self.max_depth > PARSER_DEPTH:
            object.__setattr__(self, "max_depth", PARSER_DEPTH)


def setting_name(name: str) -> str:
    """The environment variable of a limit: max_file_bytes → EDUSTAT_MAX_FILE_BYTES."""
    return "EDUSTAT_" + name.upper()


def from_environment(environ: dict[str, str] | None = None) -> Limits:
    """The defaults, each overridden by its EDUSTAT_* variable when set (a whole number)."""
    env = os.environ if environ is None else environ
    values = {}
    for f in fields(Limits):
        text = env.get(setting_name(f.name))
        if text:
            try:
                values[f.name] = int(text.replace("_", ""))
            except ValueError:
                raise ValueError(
                    f"{setting_name(f.name)}={text!r}: phải là số nguyên / must be a whole number"
                ) from None
    return Limits(**values)


def over(what_vi: str, what_en: str, value: object, limit: int, name: str) -> tuple[str, str]:
    """The (vi, en) message of an input over a limit, naming the setting that raises it."""
    return (
        f"{what_vi} ({value}) vượt giới hạn {limit:,} (đặt {setting_name(name)} để đổi)",
        f"{what_en} ({value}) is over the limit of {limit:,} (set {setting_name(name)} to change it)",
    )
