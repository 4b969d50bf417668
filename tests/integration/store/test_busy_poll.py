"""A writer that shares the file with another process: the write lock asked for again
every ``busy_poll_s`` (the forwarding process's connections) instead of SQLite's own
growing sleeps."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway.errors import StoreError
from gateway.store import direct
from gateway.store.db import open_database
from gateway.store.direct import Direct

pytestmark = pytest.mark.integration


@contextmanager
def held_elsewhere(path: Path, for_s: float) -> Iterator[None]:
    """Another connection (as another process would) takes the write lock, writes a row
    and commits after ``for_s``."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO marks VALUES ('other')")
    timer = threading.Timer(for_s, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        other.close()


async def mark(conn: Direct) -> None:
    await conn.execute("INSERT INTO marks VALUES ('mine')")


async def test_a_polling_writer_waits_for_the_other_process_and_commits(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    async with open_database(path, "NORMAL", busy_poll_s=0.0005) as db:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE marks (who TEXT)")
        with held_elsewhere(path, 0.2):
            await db.run("mark", mark)
            async with db.transaction() as conn:  # the other path to BEGIN
                await conn.execute("INSERT INTO marks VALUES ('again')")
        async with db.reader.execute("SELECT who FROM marks ORDER BY rowid") as cursor:
            assert [r[0] async for r in cursor] == ["other", "mine", "again"]


async def test_its_busy_timeout_is_zero_so_sqlite_itself_never_sleeps(tmp_path: Path) -> None:
    async with open_database(tmp_path / "g.db", "NORMAL", busy_poll_s=0.0005) as db:
        async with db.writer.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone())[0] == 0  # type: ignore[index]
        async with db.reader.execute("PRAGMA busy_timeout") as cursor:
            assert (await cursor.fetchone())[0] == 10000  # type: ignore[index]


async def test_a_lock_held_past_the_deadline_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct, "BUSY_TIMEOUT_S", 0.05)
    path = tmp_path / "g.db"
    async with open_database(path, "NORMAL", busy_poll_s=0.001) as db:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE marks (who TEXT)")
        with held_elsewhere(path, 0.5), pytest.raises(StoreError, match="locked"):
            await db.run("mark", mark)
        async with db.reader.execute("SELECT who FROM marks") as cursor:
            assert [r[0] async for r in cursor] == ["other"]
