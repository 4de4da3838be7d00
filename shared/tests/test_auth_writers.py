"""Writers of the keys file take turns: `siaran keys`, ingest's keys API and its replicas each
read, change and write the whole file, and without a lock one could write back a list read
before another's revocation, which would make the revoked key valid again."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest
from siaran_shared.auth import ApiKey, KeyRing


def test_every_write_holds_the_lock_other_processes_wait_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing(tmp_path / "api-keys.json")
    ring.create("victim", "national")
    held: list[bool] = []
    write = KeyRing._write

    def observed(self: KeyRing, keys: list[ApiKey]) -> None:
        # What another process sees meanwhile: its own open of the lock file cannot lock it.
        with open(tmp_path / ".api-keys.json.lock", "a") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(True)
            else:
                held.append(False)
        write(self, keys)

    monkeypatch.setattr(KeyRing, "_write", observed)
    ring.create("other", "national")
    ring.revoke("victim")
    assert held == [True, True]


def test_a_second_writer_sees_the_first_ones_revocation(tmp_path: Path) -> None:
    path = tmp_path / "api-keys.json"
    first, second = KeyRing(path), KeyRing(path)
    second.all_keys()  # a cache that the revocation below makes stale
    first.create("victim", "national")
    first.revoke("victim")
    second.create("later", "national")
    keys = {k.name: k for k in KeyRing(path).all_keys()}
    assert keys["victim"].revoked_at is not None
    assert "later" in keys
