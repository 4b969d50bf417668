"""The console's tables: accounts, sessions and failed logins, plus the feed's index.

Kept in SQLite so that several gateway processes share sessions and login limits.
``CREATE … IF NOT EXISTS`` makes :func:`ensure_schema` safe to run on every start.
"""

from __future__ import annotations

from gateway.store.db import Database

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS accounts (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('operator', 'technician', 'admin')),
        region TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    ) WITHOUT ROWID""",
    # The cookie holds the session id; only its SHA-256 is stored.
    """CREATE TABLE IF NOT EXISTS sessions (
        id_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        csrf TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (username)",
    "CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at)",
    """CREATE TABLE IF NOT EXISTS login_failures (
        key TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS login_failures_by_key ON login_failures (key, at)",
    # The live feed reads alerts changed since its cursor, and the open ones on connect;
    # the escalator reads the unaccepted ones. Partial indexes stay as small as those sets.
    "CREATE INDEX IF NOT EXISTS alerts_by_update ON alerts (updated_at)",
    "CREATE INDEX IF NOT EXISTS alerts_open ON alerts (received_at) WHERE stage_rank < 3",
    "CREATE INDEX IF NOT EXISTS alerts_unaccepted ON alerts (received_at) WHERE stage_rank < 2",
)


async def ensure_schema(db: Database) -> None:
    """Create the console's tables and indexes if they are missing."""
    async with db.transaction() as conn:
        for statement in STATEMENTS:
            await conn.execute(statement)
