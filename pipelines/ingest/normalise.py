"""Normalising a payload's values: Unicode NFC, codes with their leading zeros, flags, whole
numbers, dates; names and identifiers replaced by a keyed hash (pseudonymisation)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any

from pipelines import catalog
from pipelines.ingest.parse import text_of  # one reading of a raw value, shared with the parse workers

# The date forms schools send: ISO with or without a time, day/month/year with "/", "-" or ".",
# year/month/day with "/". Anything else stays as given (validation reports it).
DATE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
)


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed hash of an identifier or a name: stable for one key, useless without it."""
    mac = _keyed(key).copy()
    mac.update(value.encode("utf-8"))
    return mac.hexdigest()[:24]


@cache
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def normalise_code(value: Any, width: int) -> str | None:
    """1 → "01", "1.0" → "01", " 01 " → "01"; anything else stays as given (validation judges it)."""
    text = text_of(value)
    if text is None:
        return None
    if "." in text and re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if text.isdigit() and width and len(text) < width:
        text = text.zfill(width)
    return text


def normalise_flag(value: Any) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("1", "1.0", "true", "có"):
        return "1"
    if lowered in ("0", "0.0", "false", "không"):
        return "0"
    return text


def normalise_integer(value: Any) -> str | None:
    text = text_of(value)
    if text is not None and re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]*)?")


def normalise_date(value: Any, year_month: bool) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    m = _ISO_DATE.fullmatch(text)
    if m:  # the common form, without strptime's cost
        try:
            parsed = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return text
        return f"{parsed:%Y-%m}" if year_month else parsed.isoformat()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return f"{parsed:%Y-%m}" if year_month else parsed.isoformat()
    return text


def normalise_field(field: catalog.Field, value: Any, key: bytes) -> str | None:
    """One payload value → normalised text for the staging table."""
    return normaliser(field, key)(value)


@cache
def normaliser(field: catalog.Field, key: bytes) -> Callable[[Any], str | None]:
    """The normalising function of one field (resolved once: ingest calls it millions of times)."""
    if field.type == "code":
        width = catalog.codelist(field.codelist).width if field.codelist else 0
        return lambda value: normalise_code(value, width)
    if field.type == "flag":
        return normalise_flag
    if field.type == "integer":
        return normalise_integer
    if field.type == "date":
        year_month = field.pii == "year_month"
        return lambda value: normalise_date(value, year_month)
    if field.type in ("subject_list", "code_list"):
        return lambda value: _normalise_list(field, value)
    if field.pii == "hash":
        return lambda value: pseudonymise(text, key) if (text := text_of(value)) is not None else None
    return text_of


def _normalise_list(field: catalog.Field, value: Any) -> str | None:
    """A list of codes (or of {MaMonHoc: …} objects) → comma-joined codes."""
    if value is None:
        return None
    if not isinstance(value, list):
        return text_of(value)
    if field.type == "subject_list":
        value = [v.get("MaMonHoc") if isinstance(v, dict) else v for v in value]
    width = catalog.codelist(field.codelist or "subject").width
    codes = [normalise_code(v, width) for v in value]
    return ",".join(c for c in codes if c) or None


# Characters that never belong in a name or code: control characters and U+FFFD, the mark a
# wrong text encoding leaves behind.
BAD_TEXT = re.compile("[\x00-\x1f\x7f\ufffd]")


def pre_hash_problems(source: catalog.Source, values: dict[str, Any]) -> str | None:
    """Format problems of the pseudonymised fields, judged on the value before hashing (a hash
    has neither the length nor the pattern of what it replaced): "Field:check,…" or None."""
    problems = []
    for f in source.fields:
        if f.pii != "hash" or (text := text_of(values.get(f.name))) is None:
            continue
        if f.max_length is not None and len(text) > f.max_length:
            problems.append(f"{f.name}:length")
        if f.pattern is not None and not re.fullmatch(f.pattern, text):
            problems.append(f"{f.name}:pattern")
        if BAD_TEXT.search(text):
            problems.append(f"{f.name}:text")
    return ",".join(problems) or None
