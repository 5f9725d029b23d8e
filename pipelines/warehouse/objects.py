"""Object storage for national runs (issue 17): a bucket URL, read and written through `obstore`.

A bucket is `s3://BUCKET/PREFIX` (any S3-compatible server) or `file:///FOLDER` (one machine, the
tests); a plain path is taken as a folder. S3 credentials, region and endpoint come from the usual
environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION or AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL for a server other than AWS, AWS_ALLOW_HTTP=true for a local server without TLS;
an endpoint given as http:// allows http by itself). No secret is kept in the repository.

DuckDB's httpfs extension is not used (it is downloaded at run time): the bytes move through
obstore and the Parquet files are read locally.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import obstore
from obstore.store import LocalStore, from_url

log = logging.getLogger(__name__)

ENDPOINT_ENV = "AWS_ENDPOINT_URL"
CHUNK = 8 * 1024 * 1024  # bytes per part when a file is uploaded in parts


def bucket_url(where: str | Path) -> str:
    """A bucket URL from what the operator gave: s3://…, file://… as is; a path → its file:// URL."""
    text = str(where)
    if "://" in text:
        return text.rstrip("/")
    return Path(text).expanduser().resolve().as_uri()


def open_bucket(where: str | Path) -> Any:
    """The obstore store of a bucket URL (bucket_url); a local folder is created when missing."""
    url = bucket_url(where)
    if url.startswith("file://"):
        folder = Path(unquote(urlparse(url).path))  # as_uri() quotes: "tỉnh's" → "t%E1%BB%89nh%27s"
        folder.mkdir(parents=True, exist_ok=True)
        return LocalStore(folder)
    endpoint = os.environ.get(ENDPOINT_ENV, "")
    options = {"allow_http": True} if endpoint.startswith("http://") else None
    return from_url(url, client_options=options)


def put_bytes(store: Any, key: str, data: bytes) -> None:
    obstore.put(store, key, data)


def put_file(store: Any, key: str, path: Path) -> None:
    """Upload a local file (in parts when large: obstore's multipart put)."""
    with path.open("rb") as fh:
        obstore.put(store, key, fh, chunk_size=CHUNK)


def get_bytes(store: Any, key: str) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    try:
        return bytes(obstore.get(store, key).bytes())
    except FileNotFoundError:
        return None


def get_file(store: Any, key: str, path: Path) -> str:
    """Download an object into a local file; returns its sha256 (hex), computed as it streams."""
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for chunk in obstore.get(store, key).stream(min_chunk_size=CHUNK):
            block = bytes(chunk)
            digest.update(block)
            fh.write(block)
    return digest.hexdigest()


def get_json(store: Any, key: str) -> dict | None:
    """A JSON object, or None when missing or not readable as JSON (logged)."""
    data = get_bytes(store, key)
    if data is None:
        return None
    try:
        found = json.loads(data)
    except ValueError:
        log.warning("không đọc được JSON / unreadable JSON: %s", key)
        return None
    return found if isinstance(found, dict) else None


def put_json(store: Any, key: str, value: dict) -> None:
    put_bytes(store, key, json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode())


def list_keys(store: Any, prefix: str) -> list[str]:
    """Every object key under a prefix, sorted."""
    return sorted(str(m["path"]) for batch in obstore.list(store, prefix=prefix) for m in batch)


def delete(store: Any, key: str) -> None:
    try:
        obstore.delete(store, key)
    except FileNotFoundError:
        pass
