"""The SQLite file: opening (and upgrading) it, and one-writer transactions.

WAL mode so readers (API, console) never block the writer; ``synchronous=FULL`` by
default so a committed alert survives power loss, not just a process crash. Every write
goes through :meth:`Database.transaction` (``BEGIN IMMEDIATE``), so several gateway
processes may share the file: idempotent inserts keyed by end-to-end ids make any
interleaving safe.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import aiosqlite

from gateway import metrics
from gateway.errors import StoreError, StoreFull, StoreReadOnly
from gateway.store import schema
from gateway.store.direct import (
    BeginFailed,
    Body,
    CommitFailed,
    T,
    begin,
    primary_code,
    whole,
)
from gateway.store.writelock import WriteLock

log = logging.getLogger(__name__)

#: SQLite's primary result codes (``sqlite3.Error.sqlite_errorcode & 0xFF``) and errnos
#: that no retry inside the process can cure.
_FULL, _READONLY = {13}, {8}
_FULL_ERRNO = {errno.ENOSPC, errno.EDQUOT}
_READONLY_ERRNO = {errno.EROFS, errno.EACCES, errno.EPERM}


def store_error(exc: sqlite3.Error | OSError, what: str) -> StoreError:
    """``exc`` as the gateway's store error of the right kind (counted by kind)."""
    if isinstance(exc, OSError):
        full, readonly = exc.errno in _FULL_ERRNO, exc.errno in _READONLY_ERRNO
    else:
        code = primary_code(exc)
        full, readonly = code in _FULL, code in _READONLY
    kind: type[StoreError] = StoreFull if full else StoreReadOnly if readonly else StoreError
    label = "full" if full else "read_only" if readonly else "other"
    metrics.STORE_ERRORS.labels(label).inc()
    return kind(f"{what}: {exc}")


def _cause(exc: BaseException) -> sqlite3.Error:
    cause = exc.__cause__
    assert isinstance(cause, sqlite3.Error)
    return cause


class Database:
    """One aiosqlite connection (its own thread) for writes, one for reads."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        checkpointer: aiosqlite.Connection | None = None,
        busy_poll_s: float | None = None,
    ) -> None:
        self.writer = writer
        #: Set when the writer's busy timeout is 0: ask for a lock held by another
        #: process again this often (see :func:`gateway.store.direct.begin`).
        self.busy_poll_s = busy_poll_s
        self.reader = reader
        #: With its own connection (and thread), WAL checkpoints run beside the writer
        #: instead of inside whichever commit crossed the WAL's size (see ``checkpoint``).
        self.checkpointer = checkpointer
        # One connection, one transaction at a time: coroutines take turns here, alarms'
        # transactions first.
        self._write_lock = WriteLock()

    @asynccontextmanager
    async def transaction(
        self, name: str = "other", urgent: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any error. ``name`` labels
        the time it waited for the write lock and held it (``gateway_store_lock_*``);
        an ``urgent`` transaction (an alarm's) is handed the lock before the others."""
        async with self._locked(name, urgent), self._transaction() as conn:
            yield conn

    async def run(self, name: str, body: Body[T], urgent: bool = False) -> T:
        """Run the transaction ``body`` whole in the writer's thread (see
        :mod:`gateway.store.direct`): one hand-over to the thread and back, not one per
        statement; otherwise as :meth:`transaction`."""
        writer = self.writer
        in_thread = cast(Callable[..., Awaitable[T]], writer._execute)  # untyped upstream
        async with self._locked(name, urgent):
            try:
                result = await in_thread(whole, writer._conn, body, self.busy_poll_s)
            except BeginFailed as exc:
                raise store_error(_cause(exc), "cannot begin transaction") from exc.__cause__
            except CommitFailed as exc:
                raise store_error(_cause(exc), "commit failed") from exc.__cause__
            except sqlite3.Error as exc:
                raise store_error(exc, "write failed") from exc
            return result

    @asynccontextmanager
    async def _locked(self, name: str, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the write lock; observe how long it took to get and was held."""
        asked = time.monotonic()
        async with self._write_lock.hold(urgent):
            got = time.monotonic()
            metrics.LOCK_WAIT_SECONDS.labels(name).observe(got - asked)
            try:
                yield
            finally:
                metrics.LOCK_HELD_SECONDS.labels(name).observe(time.monotonic() - got)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = self.writer
        in_thread = cast(Callable[..., Awaitable[None]], conn._execute)  # untyped upstream
        try:
            await in_thread(begin, conn._conn, self.busy_poll_s)
        except sqlite3.Error as exc:
            raise store_error(exc, "cannot begin transaction") from exc
        try:
            yield conn
        except BaseException as exc:
            await conn.rollback()
            if isinstance(exc, sqlite3.Error):
                raise store_error(exc, "write failed") from exc
            raise
        try:
            await conn.commit()
        except sqlite3.Error as exc:
            raise store_error(exc, "commit failed") from exc

    async def checkpoint(self) -> tuple[int, int]:
        """Copy committed WAL frames into the database file: ``(frames in the WAL,
        frames checkpointed)``.

        SQLite's automatic checkpoint runs inside the commit that crosses 1,000 pages, so
        an alarm's transaction would now and then also copy megabytes and fsync the
        database file. Here the bulk is copied beside the writer (``PASSIVE``), then the
        few frames committed meanwhile under the write lock, so that the checkpoint is
        complete and the next commit starts the WAL from its beginning again — with
        writes going on all the time a checkpoint beside the writer never completes, and
        the WAL would grow without end. "The write lock" is SQLite's (an empty write
        transaction held while the checkpoint finishes), so writers in other processes
        pause for it as well.
        """
        await self._checkpoint()
        # SQLite's write lock too, not only this process's: the gateway's forwarding
        # process (or a second gateway) writes without this process's lock, and a
        # checkpoint beside its commits would never complete either.
        async with self._locked("checkpoint"), self._transaction():
            return await self._checkpoint()

    async def _checkpoint(self) -> tuple[int, int]:
        if self.checkpointer is None:
            raise RuntimeError("opened without a checkpointer")
        try:
            async with self.checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)") as cur:
                row = await cur.fetchone()
        except sqlite3.Error as exc:
            raise store_error(exc, "checkpoint failed") from exc
        return (0, 0) if row is None else (int(row[1]), int(row[2]))

    async def close(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self.reader.close()
        await self.writer.close()


async def _connect(
    path: Path, synchronous: str, autocheckpoint: bool = True, busy_wait: bool = True
) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {10000 if busy_wait else 0}")
        await conn.execute(f"PRAGMA synchronous = {synchronous}")
        if not autocheckpoint:
            await conn.execute("PRAGMA wal_autocheckpoint = 0")
    except BaseException:
        await conn.close()
        raise
    conn.row_factory = aiosqlite.Row
    return conn


def _backup_before_upgrade(conn: sqlite3.Connection, path: Path) -> Path | None:
    """A copy of a file about to be upgraded, so an upgrade can always be undone."""
    start = schema.version(conn)
    if start == 0 or start >= schema.LATEST:
        return None
    copy = path.with_name(f"{path.name}.schema-v{start}.bak")
    with sqlite3.connect(copy) as target:
        conn.backup(target)
    target.close()
    return copy


def _probe_write(conn: sqlite3.Connection) -> None:
    """Rewrite the header's version as it is: a file SQLite silently opened read-only
    (write-protected file or directory) fails here, at start, not at the first alarm."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"PRAGMA user_version = {schema.version(conn)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def prepare(path: Path) -> tuple[int, int]:
    """WAL mode, then the schema ladder (see :mod:`gateway.store.schema`). Synchronous."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        conn.execute(f"PRAGMA page_size = {schema.PAGE_SIZE}")  # a new file only
        conn.execute("PRAGMA journal_mode = WAL")
        copy = _backup_before_upgrade(conn, path)
        if copy is not None:
            log.warning("upgrading %s; the previous version is kept in %s", path, copy)
        versions = schema.migrate(conn)
        _probe_write(conn)
        return versions
    finally:
        conn.close()


@asynccontextmanager
async def open_database(
    path: Path, synchronous: str = "FULL", background_checkpoints: bool = False,
    busy_poll_s: float | None = None,
) -> AsyncIterator[Database]:  # fmt: skip
    """Open the database at ``path``, creating or upgrading its schema first.

    With ``background_checkpoints`` the writer never checkpoints the WAL itself: the
    caller must run :meth:`Database.checkpoint` regularly (:class:`Checkpointer`). With
    ``busy_poll_s`` a write lock held by another process is asked for again this often
    instead of by SQLite's growing sleeps (:func:`gateway.store.direct.begin`).

    Any failure is a :class:`StoreError`, raised only after every connection (and its
    thread) opened so far is closed again, so a caller that exits leaves nothing behind.
    """
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError("synchronous must be FULL or NORMAL")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        before, after = await asyncio.to_thread(prepare, path)
    except (OSError, sqlite3.Error) as exc:
        raise store_error(exc, f"{path}: cannot open database") from exc
    if after > before:
        log.info("database %s at schema version %d (was %d)", path, after, before)
    opened: list[aiosqlite.Connection] = []
    try:
        opened.append(
            await _connect(path, synchronous, not background_checkpoints, busy_poll_s is None)
        )
        opened.append(await _connect(path, synchronous))
        if background_checkpoints:
            opened.append(await _connect(path, synchronous))
    except sqlite3.Error as exc:
        for conn in opened:
            await conn.close()
        raise store_error(exc, f"{path}: cannot open database") from exc
    writer, reader, *rest = opened
    db = Database(writer, reader, rest[0] if rest else None, busy_poll_s=busy_poll_s)
    try:
        yield db
    finally:
        await db.close()


class Checkpointer:
    """Checkpoints the WAL every ``interval_s`` beside the writer (see
    :meth:`Database.checkpoint`), and says so once when readers keep it from catching up."""

    #: A WAL this long (frames of 4 KiB: 1 GiB) that does not shrink is worth a warning:
    #: a reader holding a snapshot keeps PASSIVE checkpoints from finishing.
    GROWING = 262_144

    def __init__(self, db: Database, interval_s: float = 1.0) -> None:
        self._db = db
        self._interval_s = interval_s
        self._warned = False

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                frames, done = await self._db.checkpoint()
            except (StoreFull, StoreReadOnly):
                raise  # the process cannot go on (the writer will meet it too)
            except StoreError as exc:  # counted by kind; the next one may succeed
                log.warning("%s", exc)
                continue
            metrics.WAL_FRAMES.set(frames)
            if frames > self.GROWING and done < frames and not self._warned:
                self._warned = True
                log.warning("the WAL holds %d frames and checkpoints cannot catch up: a"
                            " long-running reader?", frames)  # fmt: skip
            elif done == frames:
                self._warned = False
