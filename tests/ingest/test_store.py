"""The submission store's key: made once, private to its owner, and rotated without losing a file."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet, InvalidToken

from pipelines.ingest import store


def test_without_a_key_the_first_use_makes_one_only_its_owner_can_read(tmp_path, monkeypatch):
    monkeypatch.delenv(store.KEY_ENV, raising=False)
    monkeypatch.setenv(store.KEY_FILE_ENV, str(tmp_path / "keys" / "store.key"))
    first = store.current_key()
    assert stat.S_IMODE((tmp_path / "keys" / "store.key").stat().st_mode) == 0o600
    assert store.current_key() == first  # kept, not made again
    Fernet(first)  # a valid Fernet key


def test_rotation_re_encrypts_every_file_under_the_new_key(tmp_path, monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(store.KEY_ENV, old)
    monkeypatch.delenv(store.OLD_KEYS_ENV, raising=False)
    (tmp_path / f"a{store.SUFFIX}").write_bytes(store.encrypt(b'{"MaTruongHoc": "66643001"}'))
    monkeypatch.setenv(store.KEY_ENV, new)
    monkeypatch.setenv(store.OLD_KEYS_ENV, old)
    assert store.rotate(tmp_path) == 1
    monkeypatch.delenv(store.OLD_KEYS_ENV)  # the old key retired: the file must read with the new one alone
    assert store.decrypt((tmp_path / f"a{store.SUFFIX}").read_bytes()) == b'{"MaTruongHoc": "66643001"}'
    with pytest.raises(InvalidToken):  # and no longer with the old one
        Fernet(old.encode()).decrypt((tmp_path / f"a{store.SUFFIX}").read_bytes())
