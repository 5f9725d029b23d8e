"""Personal data at rest: the submission store is encrypted (Fernet: AES-128-CBC with HMAC-SHA256),
each file gzipped first.

Why encryption rather than a pseudonymised copy: the store must give back each version as the
school sent it (the audit trail; re-staging a school whose file has left the inbox; building an end
of year from the start-of-year file plus change files; re-hashing after a change of the pseudonym
key), which a pseudonymised copy cannot. The warehouse itself holds no name or identity number:
ingest replaces them by the keyed hash before anything is written.

The key: EDUSTAT_STORE_KEY (a Fernet key, 44 characters of URL-safe base64), else the file named by
EDUSTAT_STORE_KEY_FILE, else ~/.config/edustat/store.key (created on first use, mode 0600). Never
beside the warehouse: whoever copies the warehouse folder gets ciphertext only. Keep a copy of the
key with the Sở's other secrets: without it the stored versions cannot be read.

Rotation: put the new key in EDUSTAT_STORE_KEY (or the key file) and the old ones, comma-separated,
in EDUSTAT_STORE_OLD_KEYS; every stored file stays readable; `python -m pipelines.ingest.store
rotate <store folder>` re-encrypts them all under the new key, after which the old keys can go.

Retention: a version is kept as long as the warehouse lists it in `submissions` (the reporting
window's audit trail). `python -m pipelines.ingest.store prune <store folder> <warehouse>` deletes
the stored files no submission lists any more (e.g. after the Sở deleted an old school year's
rows); the Sở decides how many school years to keep (Decree 13/2023: no longer than the purpose
needs).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from isal import igzip

SUFFIX = ".fernet"
# A file is gzipped (ISA-L, level 1, no time in its header) before it is encrypted: school files are
# JSON and shrink about six-fold, so the store is a sixth of the inbox's size and the cipher and its
# base64 handle a sixth of the bytes (the parse workers spent about 0.5 CPU s per 1,000 schools'
# files in Fernet). A token whose plain text does not start with gzip's magic is a file stored
# before that, read as it is: a loaded file is JSON, in UTF-8 or UTF-16, and none begins 1f 8b.
GZIP_MAGIC = b"\x1f\x8b"
KEY_ENV, KEY_FILE_ENV, OLD_KEYS_ENV = "EDUSTAT_STORE_KEY", "EDUSTAT_STORE_KEY_FILE", "EDUSTAT_STORE_OLD_KEYS"


def key_path() -> Path:
    named = os.environ.get(KEY_FILE_ENV)
    if named:
        return Path(named)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "edustat" / "store.key"


def current_key() -> bytes:
    env = os.environ.get(KEY_ENV)
    if env:
        return env.strip().encode()
    path = key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
        tmp.replace(path)
    return path.read_bytes().strip()


@cache
def _fernet(current: bytes, old: str) -> MultiFernet:
    keys = [Fernet(current)] + [Fernet(k.strip().encode()) for k in old.split(",") if k.strip()]
    return MultiFernet(keys)


def fernet() -> MultiFernet:
    return _fernet(current_key(), os.environ.get(OLD_KEYS_ENV, ""))


def encrypt(raw: bytes) -> bytes:
    return fernet().encrypt(igzip.compress(raw, 1, mtime=0))


def decrypt(token: bytes) -> bytes:
    plain = fernet().decrypt(token)
    return igzip.decompress(plain) if plain.startswith(GZIP_MAGIC) else plain


def rotate(store: Path) -> int:
    """Re-encrypt every stored file under the current key; returns how many."""
    n = 0
    for path in sorted(store.glob(f"*{SUFFIX}")):
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(fernet().rotate(path.read_bytes()))
        tmp.replace(path)
        n += 1
    return n


def prune(store: Path, listed: set[str]) -> int:
    """Delete stored files whose sha256 is not in `listed`; returns how many."""
    n = 0
    for path in sorted(store.glob(f"*{SUFFIX}")):
        if path.name.removesuffix(SUFFIX) not in listed:
            path.unlink()
            n += 1
    return n


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "rotate":
        print(f"{rotate(Path(argv[1]))} tệp đã mã hóa lại / files re-encrypted")
        return 0
    if len(argv) >= 3 and argv[0] == "prune":
        from pipelines import warehouse

        with warehouse.connect(argv[2]) as con:
            listed = {r[0] for r in con.execute(warehouse.sql("ingest/submissions", "listed")).fetchall()}
        print(f"{prune(Path(argv[1]), listed)} tệp đã xóa / files deleted")
        return 0
    print("usage: python -m pipelines.ingest.store rotate STORE | prune STORE WAREHOUSE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
