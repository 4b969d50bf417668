"""The SQLite file: opening it, its schema, and one-writer transactions.

WAL mode so readers (API, console) never block the writer; ``synchronous=FULL`` by
default so a committed alert survives power loss, not just a process crash. Every write
goes through :meth:`Database.transaction` (``BEGIN IMMEDIATE``), so several gateway
processes may share the file: idempotent inserts keyed by end-to-end ids make any
interleaving safe.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from gateway.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    terminal_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    origin TEXT NOT NULL,
    pressed_at REAL NOT NULL,
    received_at REAL NOT NULL,
    stage TEXT NOT NULL DEFAULT 'received',
    stage_rank INTEGER NOT NULL DEFAULT 0,
    district TEXT NOT NULL,
    town TEXT NOT NULL,
    village TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    accepted_by TEXT,
    eta_s INTEGER,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    acked_rank INTEGER NOT NULL DEFAULT -1,
    updated_at REAL NOT NULL,
    PRIMARY KEY (terminal_id, alert_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_by_rank ON alerts (stage_rank, received_at);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (received_at);
CREATE INDEX IF NOT EXISTS alerts_by_update ON alerts (updated_at);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (received_at) WHERE stage_rank < 3;
CREATE INDEX IF NOT EXISTS alerts_unaccepted ON alerts (received_at) WHERE stage_rank < 2;
-- Stages committed but not yet confirmed published to the terminal (the ack outbox).
CREATE INDEX IF NOT EXISTS alerts_unacked ON alerts (updated_at) WHERE acked_rank < stage_rank;

CREATE TABLE IF NOT EXISTS alert_timeline (
    id INTEGER PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    action TEXT NOT NULL,
    at REAL NOT NULL,
    actor TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS timeline_by_alert ON alert_timeline (terminal_id, alert_id, at);

CREATE TABLE IF NOT EXISTS health (
    terminal_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    ts REAL NOT NULL,
    received_at REAL NOT NULL,
    vitals TEXT NOT NULL,
    PRIMARY KEY (terminal_id, report_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS health_by_terminal ON health (terminal_id, ts);

CREATE TABLE IF NOT EXISTS terminal_state (
    terminal_id TEXT PRIMARY KEY,
    last_seen REAL NOT NULL,
    online INTEGER NOT NULL DEFAULT 1,
    reported_offline INTEGER NOT NULL DEFAULT 0,
    will_at REAL,
    offline_at REAL,
    battery_pct INTEGER,
    signal_dbm INTEGER,
    firmware TEXT,
    last_selftest_at REAL,
    selftest_missed INTEGER NOT NULL DEFAULT 0,
    flap_penalty REAL NOT NULL DEFAULT 0,
    flap_at REAL NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS terminal_state_by_seen ON terminal_state (online, last_seen);

CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    occurred_at REAL NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_owner TEXT,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, sink)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sink, dead, priority, next_attempt_at);

CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
"""


class Database:
    """One aiosqlite connection (its own thread) for writes, one for reads."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.writer = writer
        self.reader = reader
        # One connection, one transaction at a time: coroutines take turns here.
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any error."""
        async with self._write_lock, self._transaction() as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        conn = self.writer
        try:
            await conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot begin transaction: {exc}") from exc
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        try:
            await conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"commit failed: {exc}") from exc

    async def close(self) -> None:
        await self.reader.close()
        await self.writer.close()


async def _connect(path: Path, synchronous: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA busy_timeout = 10000")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.row_factory = aiosqlite.Row
    return conn


@asynccontextmanager
async def open_database(path: Path, synchronous: str = "FULL") -> AsyncIterator[Database]:
    """Open (and create or migrate) the database at ``path``."""
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError("synchronous must be FULL or NORMAL")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        writer = await _connect(path, synchronous)
        await writer.executescript(SCHEMA)
        await writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        reader = await _connect(path, synchronous)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open database: {exc}") from exc
    db = Database(writer, reader)
    try:
        yield db
    finally:
        await db.close()
