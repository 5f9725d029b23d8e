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


def test_a_stored_file_is_gzipped_under_the_cipher_and_reads_back_byte_for_byte(monkeypatch):
    key = Fernet.generate_key()
    monkeypatch.setenv(store.KEY_ENV, key.decode())
    monkeypatch.delenv(store.OLD_KEYS_ENV, raising=False)
    school_file = ('{"MaTruongHoc": "66643001", "LstHocSinh": [' + ", ".join(
        f'{{"HoTen": "Nguyễn Văn {i}", "GioiTinh": 1}}' for i in range(500)) + "]}").encode()  # fmt: skip
    token = store.encrypt(school_file)
    assert Fernet(key).decrypt(token)[:2] == b"\x1f\x8b"  # gzip's magic: compressed, then encrypted
    assert len(token) < len(school_file) / 4  # 500 near-identical records shrink far below their size
    assert store.decrypt(token) == school_file


@pytest.mark.parametrize(
    "stored_before",
    [b'{"MaTruongHoc": "66643001"}', b"\xef\xbb\xbf{}", '{"MaTruongHoc": "66643001"}'.encode("utf-16")],
    ids=["utf-8", "utf-8 with BOM", "utf-16"],
)
def test_a_file_stored_before_compression_still_reads_as_it_was_sent(monkeypatch, stored_before):
    key = Fernet.generate_key()
    monkeypatch.setenv(store.KEY_ENV, key.decode())
    monkeypatch.delenv(store.OLD_KEYS_ENV, raising=False)
    assert store.decrypt(Fernet(key).encrypt(stored_before)) == stored_before
