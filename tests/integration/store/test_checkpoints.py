"""WAL checkpoints run beside the writer, not inside an alarm's commit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.store.db import Checkpointer, Database, open_database
from tests.unit.gateway.helpers import sample

ROWS = 1500  # ~4 KiB each: past SQLite's automatic checkpoint at 1,000 pages, twice


async def fill(path: Path, background: bool) -> tuple[int, int]:
    async with open_database(path, "NORMAL", background) as db:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS blob_test (b BLOB)")
        for _ in range(ROWS):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO blob_test VALUES (randomblob(4000))")
        async with db.writer.execute("PRAGMA wal_checkpoint(PASSIVE)") as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[1]), int(row[2])


async def test_the_writer_does_not_checkpoint_when_a_checkpointer_runs(tmp_path: Path) -> None:
    # Without a checkpointer, SQLite's commits checkpoint and restart the WAL themselves.
    frames_alone, _ = await fill(tmp_path / "alone.db", background=False)
    assert frames_alone < 1000
    # With one, every commit only appended: the WAL holds all of it until checkpointed.
    frames, _ = await fill(tmp_path / "beside.db", background=True)
    assert frames >= 2000


async def test_the_checkpointer_copies_the_wal_and_reports_its_size(tmp_path: Path) -> None:
    async with open_database(tmp_path / "g.db", "NORMAL", background_checkpoints=True) as db:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE blob_test (b BLOB)")
        for _ in range(ROWS):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO blob_test VALUES (randomblob(4000))")
        frames, done = await db.checkpoint()
        assert frames >= ROWS
        assert done == frames
        runner = asyncio.create_task(Checkpointer(db, interval_s=0.01).run())
        await asyncio.sleep(0.1)
        runner.cancel()
        assert sample("gateway_store_wal_frames") == frames
        async with db.reader.execute("SELECT count(*) FROM blob_test") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == ROWS


async def wal_reused_while_writing(path: Path, db: Database, writer: Database) -> None:
    """``writer`` commits all the time while ``db``'s checkpointer runs: each commit went
    through, and the WAL file was reused rather than appended to."""
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE blob_test (b BLOB)")

    async def write_forever() -> None:
        while True:
            async with writer.transaction() as conn:
                await conn.execute("INSERT INTO blob_test VALUES (randomblob(4000))")

    async with asyncio.TaskGroup() as tg:
        writing = tg.create_task(write_forever())
        checkpointer = tg.create_task(Checkpointer(db, interval_s=0.05).run())
        await asyncio.sleep(3)
        writing.cancel()
        checkpointer.cancel()
    async with db.reader.execute("SELECT count(*) FROM blob_test") as cur:
        row = await cur.fetchone()
    assert row is not None
    written = row[0]
    wal_pages = (path.with_name(path.name + "-wal")).stat().st_size // 4096
    assert written > 1000  # the writer did not wait for the checkpoints
    assert wal_pages < written // 2  # the WAL file was reused, not appended to


async def test_the_wal_starts_over_while_writes_never_stop(tmp_path: Path) -> None:
    """A checkpoint beside a writer that never pauses would never complete, and the WAL
    would grow with every commit; the checkpointer finishes each one under the write lock."""
    path = tmp_path / "busy.db"
    async with open_database(path, "NORMAL", background_checkpoints=True) as db:
        await wal_reused_while_writing(path, db, db)


async def test_the_wal_starts_over_while_another_process_writes_all_the_time(
    tmp_path: Path,
) -> None:
    """The gateway's forwarding process (or a second gateway) writes without the
    gateway's own write lock: the checkpoint must hold SQLite's, or it never completes
    and the WAL grows with every commit of the other writer."""
    path = tmp_path / "shared.db"
    async with (
        open_database(path, "NORMAL", background_checkpoints=True, busy_poll_s=0.0005) as db,
        open_database(path, "NORMAL", background_checkpoints=True, busy_poll_s=0.0005) as other,
    ):
        await wal_reused_while_writing(path, db, other)
