"""Online backups of the gateway's database, and restoring one.

``backup`` uses SQLite's backup API in a single step: one read transaction, so the
copy is the database exactly as of one commit, while the gateway goes on writing (WAL
mode lets the writer continue beside a reader). The copy is written beside the target,
checked (``PRAGMA integrity_check``), flushed to disk and only then renamed over the
target, so a backup file is always whole.

``restore`` copies a backup into the store path with the same API, which also deals
with the live file's write-ahead log; the gateway must be stopped while it runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import StoreError
from gateway.store import schema


@dataclass(frozen=True, slots=True)
class Copy:
    """What a backup or restore copied."""

    path: Path
    schema_version: int
    alerts: int
    size_bytes: int


def backup(source: Path, target: Path) -> Copy:
    """A consistent copy of ``source`` at ``target`` (see the module docstring)."""
    if not source.is_file():
        raise StoreError(f"{source}: no database there")
    staged = target.with_name(f".{target.name}.partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged.unlink(missing_ok=True)
    try:
        _copy(source, staged)
        copy = check(staged)
        _flush(staged)
        os.replace(staged, target)
        _flush(target.parent)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"backup of {source} to {target} failed: {exc}") from exc
    finally:
        staged.unlink(missing_ok=True)
    return Copy(target, copy.schema_version, copy.alerts, copy.size_bytes)


def restore(source: Path, target: Path) -> Copy:
    """Replace the database at ``target`` by the backup at ``source`` (gateway stopped)."""
    copy = check(source)
    if copy.schema_version > schema.LATEST:
        raise StoreError(
            f"{source} is at schema version {copy.schema_version}, newer than this gateway's"
            f" {schema.LATEST}: restore it with the gateway version that made it"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(source, target)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"restore of {source} into {target} failed: {exc}") from exc
    return Copy(target, copy.schema_version, copy.alerts, target.stat().st_size)


def check(path: Path) -> Copy:
    """Open ``path`` read-only and check it is a whole gateway database."""
    if not path.is_file():
        raise StoreError(f"{path}: no such file")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = schema.version(conn)
            alerts = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: not a usable gateway database: {exc}") from exc
    if verdict != "ok":
        raise StoreError(f"{path}: integrity check failed: {verdict}")
    return Copy(path, version, int(alerts), path.stat().st_size)


def _copy(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30.0)) as src,
        contextlib.closing(sqlite3.connect(target, timeout=30.0)) as dst,
    ):
        src.backup(dst)  # pages=-1: all of it in one step, from one snapshot
    os.chmod(target, 0o600)  # accounts' password hashes, elders' names and vitals


def _flush(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
