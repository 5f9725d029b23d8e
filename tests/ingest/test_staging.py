"""Reading inbox files and staging their rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.ingest import staging


def test_inbox_reads_are_retried_with_back_off(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    path.write_bytes(b"{}")
    calls = []
    real = Path.read_bytes

    def flaky(self: Path) -> bytes:
        calls.append(self)
        if len(calls) < 3:
            raise OSError(5, "Input/output error")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", flaky)
    assert staging.read_file(path, backoff=0.001) == b"{}" and len(calls) == 3
    calls.clear()

    def broken(self: Path) -> bytes:
        calls.append(self)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "read_bytes", broken)
    with pytest.raises(OSError):
        staging.read_file(path, backoff=0.001)
    assert len(calls) == staging.READ_ATTEMPTS
