"""The latest good frame of each camera, as a scaled JPEG on disk.

One file per camera (``<camera id>.jpg``), replaced atomically so a reader never sees
a half-written picture. The monitor keeps two stores: the last *good* frame (what the
camera should show) and, in ``current/``, the last frame of any probe (what it shows
now, fault or not), so the wall can put them side by side. The directory's total is
bounded: past ``max_bytes`` the oldest snapshots are evicted, never the one just
written. Methods block on file I/O; the monitor calls them through
``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from gateway.cameras.baseline import write_atomically

log = logging.getLogger(__name__)


class SnapshotStore:
    """Bounded store of one JPEG per camera."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._index: dict[str, tuple[float, int]] | None = None  # id -> (mtime, size)

    def save(self, camera_id: str, jpeg: bytes) -> None:
        """Store the camera's snapshot, then evict the oldest others while over budget."""
        with self._lock:
            index = self._scan()
            self._directory.mkdir(parents=True, exist_ok=True)
            write_atomically(self._path(camera_id), jpeg)
            index[camera_id] = (time.time(), len(jpeg))
            self._evict(index, keep=camera_id)

    def read(self, camera_id: str) -> bytes | None:
        """The camera's latest snapshot, or ``None``."""
        try:
            return self._path(camera_id).read_bytes()
        except FileNotFoundError:
            return None

    def has(self, camera_id: str) -> bool:
        """Whether a snapshot of the camera is stored."""
        with self._lock:
            return camera_id in self._scan()

    def saved_at(self, camera_id: str) -> float | None:
        """When the camera's snapshot was stored (Unix seconds), or ``None``."""
        with self._lock:
            entry = self._scan().get(camera_id)
        return None if entry is None else entry[0]

    def total_bytes(self) -> int:
        """Bytes the snapshots take now."""
        with self._lock:
            return sum(size for _, size in self._scan().values())

    def _scan(self) -> dict[str, tuple[float, int]]:
        if self._index is None:
            self._index = {}
            if self._directory.is_dir():
                for path in self._directory.glob("*.jpg"):
                    stat = path.stat()
                    self._index[path.stem] = (stat.st_mtime, stat.st_size)
        return self._index

    def _evict(self, index: dict[str, tuple[float, int]], keep: str) -> None:
        total = sum(size for _, size in index.values())
        for camera_id, (_, size) in sorted(index.items(), key=lambda item: item[1][0]):
            if total <= self._max_bytes:
                return
            if camera_id == keep:
                continue
            self._path(camera_id).unlink(missing_ok=True)
            del index[camera_id]
            total -= size
            log.info("evicted snapshot of camera %s (budget %d bytes)", camera_id, self._max_bytes)

    def _path(self, camera_id: str) -> Path:
        return self._directory / f"{camera_id}.jpg"
