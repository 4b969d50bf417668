"""SnapshotStore: atomic replace, bounded total, oldest evicted first."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.cameras.snapshots import SnapshotStore

KIB = 1024


def test_save_and_read(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snaps", max_bytes=100 * KIB)
    assert store.read("cam-1") is None
    assert not store.has("cam-1")
    store.save("cam-1", b"\xff\xd8first")
    store.save("cam-1", b"\xff\xd8second")
    assert store.read("cam-1") == b"\xff\xd8second"
    assert store.has("cam-1")
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["cam-1.jpg"]


def test_total_is_bounded_by_evicting_the_oldest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, max_bytes=25 * KIB)
    for name in ("a", "b", "c"):
        store.save(name, b"x" * 10 * KIB)
    assert not store.has("a")
    assert store.has("b")
    assert store.has("c")
    assert store.total_bytes() <= 25 * KIB
    assert not (tmp_path / "a.jpg").exists()


def test_refreshed_snapshot_is_no_longer_the_oldest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, max_bytes=25 * KIB)
    store.save("a", b"x" * 10 * KIB)
    store.save("b", b"x" * 10 * KIB)
    store.save("a", b"y" * 10 * KIB)
    store.save("c", b"x" * 10 * KIB)
    assert store.has("a")
    assert not store.has("b")


def test_the_snapshot_just_written_is_kept_even_if_alone_too_big(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path, max_bytes=5 * KIB)
    store.save("a", b"x" * 2 * KIB)
    store.save("big", b"x" * 8 * KIB)
    assert store.has("big")
    assert not store.has("a")


def test_existing_files_are_indexed_at_start(tmp_path: Path) -> None:
    (tmp_path / "old.jpg").write_bytes(b"x" * 10 * KIB)
    os.utime(tmp_path / "old.jpg", (1, 1))
    store = SnapshotStore(tmp_path, max_bytes=15 * KIB)
    assert store.has("old")
    store.save("new", b"x" * 10 * KIB)
    assert not store.has("old")
    assert store.read("new") is not None
