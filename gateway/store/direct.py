"""A write transaction run whole in the writer's thread: one hand-over, not one per statement.

aiosqlite runs every statement in its connection's thread and hands each result back to
the event loop, so a transaction of eight statements waits eight times for a loop busy
with decoding, acks and HTTP — and holds the write lock all that while. Profiled in the
alarm path's forwarding drain (``bench/alarm_path.py`` phase (b)), the write lock was
held 93 % of the phase while SQLite itself worked in ~40 % of it: the rest was results
waiting for their turn on the loop.

The store's transaction bodies are ``async`` functions over a connection (so that the
same helpers serve :meth:`~gateway.store.db.Database.transaction`); :func:`whole` runs
such a body in the writer's thread against a :class:`Direct` connection whose awaitables
are complete when they are made, so the body runs to its end in one step, between
``BEGIN IMMEDIATE`` and ``COMMIT``. A body that awaits anything else (it would need the
event loop, from another thread) is refused with :class:`NotDirect` and rolled back.

Written by hand: aiosqlite has no public way to run a function in its thread; this uses
``Connection._execute`` (the pinned versions' own dispatch; a test covers it).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")


class NotDirect(RuntimeError):
    """A body run by :func:`whole` awaited something that is not one of its statements."""


#: SQLite's primary result code for a lock held by another connection.
SQLITE_BUSY = 5
#: How often the gateway's processes ask again for a write lock another one holds.
BUSY_POLL_S = 0.0005
#: How long :func:`begin` asks for a lock held by another process before it gives up
#: (the writer's ``busy_timeout`` otherwise).
BUSY_TIMEOUT_S = 10.0


def primary_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code of ``exc`` (0 when it carries none)."""
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def busy(exc: sqlite3.Error) -> bool:
    return primary_code(exc) == SQLITE_BUSY


def begin(conn: sqlite3.Connection, busy_poll_s: float | None = None) -> None:
    """``BEGIN IMMEDIATE``; with ``busy_poll_s``, retried that often while another
    process holds the write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between its tries. A
    process that shares the file with a gateway committing one batch after another
    (each holding the lock for its fsync, ~7 ms) so tries at moments the lock is almost
    always taken again and waits tens of milliseconds for a gap of one: an alarm's
    confirmation waited behind the gateway's intake, and the command center got the
    storm's alarms ~1.8 s late at p99 against 0.07 s with forwarding in one process.
    Asked every half millisecond, the lock is taken in the first gap between two
    commits.
    """
    if busy_poll_s is None:
        conn.execute("BEGIN IMMEDIATE")
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(busy_poll_s)


class BeginFailed(Exception):
    """``BEGIN IMMEDIATE`` failed (carries the sqlite3 error as its cause)."""


class CommitFailed(Exception):
    """``COMMIT`` failed (carries the sqlite3 error as its cause)."""


class DirectCursor:
    """A statement's result, read without waiting (the surface the store's bodies use)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def __aiter__(self) -> DirectCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class Executed(Awaitable[T]):
    """A statement already run: awaiting it (or entering it) gives its result at once."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self._value
        yield  # a generator that never suspends

    async def __aenter__(self) -> T:
        return self._value

    async def __aexit__(self, *exc: object) -> None:
        return None


class Direct:
    """The writer's own ``sqlite3`` connection, with aiosqlite's statement methods."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Executed[DirectCursor]:
        return Executed(DirectCursor(self._conn.execute(sql, parameters)))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Executed[DirectCursor]:
        return Executed(DirectCursor(self._conn.executemany(sql, parameters)))

    def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> Executed[list[Any]]:
        return Executed(self._conn.execute(sql, parameters).fetchall())


#: What the store's transaction bodies take: aiosqlite's connection, or the direct one.
Conn = aiosqlite.Connection | Direct
#: A transaction body: statements over a connection, and what they found.
Body = Callable[[Direct], Coroutine[Any, Any, T]]


def drive(step: Coroutine[Any, Any, T]) -> T:
    """Run ``step`` to its end now; :class:`NotDirect` if it would have to wait."""
    try:
        step.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    step.close()
    raise NotDirect("a direct transaction awaited something other than its statements")


def whole(conn: sqlite3.Connection, body: Body[T], busy_poll_s: float | None = None) -> T:
    """``BEGIN IMMEDIATE``, ``body``, ``COMMIT`` in the calling (the writer's) thread;
    rolled back on any error. With ``busy_poll_s`` (a connection whose busy timeout is
    0) a write lock held by another process is asked for again every ``busy_poll_s``
    (see :func:`begin`)."""
    try:
        begin(conn, busy_poll_s)
    except sqlite3.Error as exc:
        raise BeginFailed() from exc
    try:
        result = drive(body(Direct(conn)))
    except BaseException:
        conn.rollback()
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.rollback()
        raise CommitFailed() from exc
    return result
