"""Every table and index of the gateway's database, as a ladder of versions.

``PRAGMA user_version`` says how far up the ladder a file is. Opening a file runs the
missing steps, in order, inside one ``BEGIN IMMEDIATE`` transaction (SQLite's DDL is
transactional): an upgrade either completes or leaves the file exactly as it was. A
new file climbs the same ladder from 0, so there is one definition of the schema, not
a "current" one beside the migrations that could drift from it.

To change the schema, append a step; never edit a released one. A file from a newer
gateway (``user_version`` above :data:`LATEST`) is refused, not guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from gateway.errors import StoreError

Step = Sequence[str] | Callable[[sqlite3.Connection], None]

#: Bytes per page of a new file (SQLite's usual default is 4,096). A transaction writes
#: every page it touched into the WAL whole, and the district's traffic is mostly
#: statuses, each rewriting one terminal's row and its index entries on pages of their
#: own, so smaller pages write less: per status 16.4 KiB with 4 KiB pages, 9.5 with
#: 2 KiB, 5.5 with 1 KiB, and 2 KiB pages gave the fastest transactions (0.80–0.89 × the
#: time of 4 KiB ones; three runs of ``bench/store_pages.py``). In the 170,000-terminal
#: district the gateway wrote 50 MB/s with 4 KiB pages, 32 with 2 KiB, 19–20 with 1 KiB.
#: Saturated intake, whose large batches share pages anyway, gains nothing from them:
#: with forwarding on, 6,662 msg/s with 4 KiB pages, 5,663 with 2 KiB, 4,689 with 1 KiB
#: (``bench/alarm_path.py``, one run each; 3,300–5,200 in four earlier runs with 4 KiB),
#: so 1 KiB pages, lowest there, were not kept. An existing file keeps its page size (in
#: WAL mode SQLite changes it only by rebuilding the whole file).
PAGE_SIZE = 2048

# -- 0 → 1: the first released schema ------------------------------------------------
_V1 = (
    """CREATE TABLE IF NOT EXISTS alerts (
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
        updated_at REAL NOT NULL,
        PRIMARY KEY (terminal_id, alert_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS alerts_by_rank ON alerts (stage_rank, received_at)",
    "CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (received_at)",
    """CREATE TABLE IF NOT EXISTS alert_timeline (
        id INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        action TEXT NOT NULL,
        at REAL NOT NULL,
        actor TEXT,
        note TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS timeline_by_alert ON alert_timeline (terminal_id, alert_id, at)",
    """CREATE TABLE IF NOT EXISTS health (
        terminal_id TEXT NOT NULL,
        report_id TEXT NOT NULL,
        ts REAL NOT NULL,
        received_at REAL NOT NULL,
        vitals TEXT NOT NULL,
        PRIMARY KEY (terminal_id, report_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS health_by_terminal ON health (terminal_id, ts)",
    """CREATE TABLE IF NOT EXISTS terminal_state (
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
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS terminal_state_by_seen ON terminal_state (online, last_seen)",
    """CREATE TABLE IF NOT EXISTS events (
        event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        occurred_at REAL NOT NULL,
        source TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS outbox (
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
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sink, dead, priority, next_attempt_at)",
    """CREATE TABLE IF NOT EXISTS audit_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT
    )""",
)


# -- 1 → 2: the ack outbox and the console's tables ------------------------------------
def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _ack_outbox(conn: sqlite3.Connection) -> None:
    """Add ``acked_rank`` where an early version-1 file lacks it.

    Version 1 was released in two shapes (the ack outbox came later without a version
    bump), so this step looks before it alters. Resolved alerts count as acknowledged
    (their terminals may have forgotten them); open ones get their current stage
    re-sent once, which a terminal takes as a harmless repeat.
    """
    if "acked_rank" not in _columns(conn, "alerts"):
        conn.execute("ALTER TABLE alerts ADD COLUMN acked_rank INTEGER NOT NULL DEFAULT -1")
        conn.execute("UPDATE alerts SET acked_rank = stage_rank WHERE stage_rank >= 3")


_V2 = (
    "CREATE INDEX IF NOT EXISTS alerts_by_update ON alerts (updated_at)",
    # The live feed reads the open alerts on connect; the escalator the unaccepted ones.
    "CREATE INDEX IF NOT EXISTS alerts_open ON alerts (received_at) WHERE stage_rank < 3",
    "CREATE INDEX IF NOT EXISTS alerts_unaccepted ON alerts (received_at) WHERE stage_rank < 2",
    # Stages committed but not yet confirmed published to the terminal (the ack outbox).
    "CREATE INDEX IF NOT EXISTS alerts_unacked ON alerts (updated_at)"
    " WHERE acked_rank < stage_rank",
    """CREATE TABLE IF NOT EXISTS accounts (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('operator', 'technician', 'admin')),
        region TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    ) WITHOUT ROWID""",
    # The session cookie holds the session id; only its SHA-256 is stored.
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
)


def _v2(conn: sqlite3.Connection) -> None:
    _ack_outbox(conn)
    _run(conn, _V2)


# -- 2 → 3: district scale --------------------------------------------------------------
#: The protocol's numeric vitals (PROTOCOL.md §6.2), one column each; a boolean fall too.
_VITALS_V3 = (
    ("bp_systolic_mmhg", "INTEGER"),
    ("bp_diastolic_mmhg", "INTEGER"),
    ("heart_rate_bpm", "INTEGER"),
    ("spo2_pct", "REAL"),
    ("body_temp_c", "REAL"),
    ("glucose_mmol_l", "REAL"),
    ("steps", "INTEGER"),
)
_COLUMNS_V3 = ", ".join(name for name, _ in _VITALS_V3)


def _health_v3(conn: sqlite3.Connection) -> None:
    """Health reports as columns in arrival order, and a daily summary per terminal.

    A district sends ~49 million reports a day. One row per report with a column per
    vital is a third the size of a JSON text; the rowid follows arrival, so the oldest
    rows are dropped from one end (``health_by_time``); the unique index both answers a
    retransmitted report and finds a terminal's recent reports for the console's chart.
    Reports older than the raw retention are folded into ``health_daily``.
    """
    typed = ", ".join(f"{name} {kind}" for name, kind in _VITALS_V3)
    conn.execute(
        "CREATE TABLE health_v3 (id INTEGER PRIMARY KEY, terminal_id TEXT NOT NULL,"
        f" report_id TEXT NOT NULL, ts REAL NOT NULL, received_at REAL NOT NULL, {typed},"
        " fall_detected INTEGER)"
    )
    extract = ", ".join(f"json_extract(vitals, '$.{name}')" for name, _ in _VITALS_V3)
    conn.execute(
        f"INSERT INTO health_v3 (terminal_id, report_id, ts, received_at, {_COLUMNS_V3},"
        f" fall_detected) SELECT terminal_id, report_id, ts, received_at, {extract},"
        " json_extract(vitals, '$.fall_detected') FROM health ORDER BY received_at"
    )
    conn.execute("DROP TABLE health")
    conn.execute("ALTER TABLE health_v3 RENAME TO health")
    conn.execute("CREATE UNIQUE INDEX health_report ON health (terminal_id, report_id)")
    conn.execute("CREATE INDEX health_by_time ON health (received_at)")
    summaries = ", ".join(
        f"{name}_n INTEGER NOT NULL DEFAULT 0, {name}_min REAL, {name}_max REAL,"
        f" {name}_sum REAL NOT NULL DEFAULT 0"
        for name, _ in _VITALS_V3
    )
    conn.execute(
        "CREATE TABLE health_daily (terminal_id TEXT NOT NULL,"
        " day INTEGER NOT NULL,"  # days since 1970-01-01 UTC, of received_at
        " reports INTEGER NOT NULL, falls INTEGER NOT NULL DEFAULT 0,"
        f" {summaries}, PRIMARY KEY (terminal_id, day)) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX health_daily_by_day ON health_daily (day)")


_V3 = (
    # Events other than health reports are kept for a while after delivery (the record
    # of what the command center was told); this finds the old ones.
    "CREATE INDEX events_by_time ON events (created_at) WHERE type <> 'health'",
    # Supervision reads only the terminals that may change state, each set through its
    # own index, so a sweep costs what changes, not the size of the fleet.
    "CREATE INDEX terminal_state_will ON terminal_state (will_at)"
    " WHERE will_at IS NOT NULL AND online = 1",
    "CREATE INDEX terminal_state_back ON terminal_state (terminal_id)"
    " WHERE online = 0 AND will_at IS NULL AND last_seen > offline_at",
    "CREATE INDEX terminal_state_muted ON terminal_state (terminal_id) WHERE muted = 1",
    "CREATE INDEX terminal_state_selftest ON terminal_state (last_selftest_at)"
    " WHERE selftest_missed = 0",
    # Messages that made intake fail, set aside for a person to look at.
    """CREATE TABLE quarantine (
        topic TEXT NOT NULL,
        digest TEXT NOT NULL,
        payload BLOB NOT NULL,
        error TEXT NOT NULL,
        first_at REAL NOT NULL,
        last_at REAL NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (topic, digest)
    ) WITHOUT ROWID""",
)


def _v3(conn: sqlite3.Connection) -> None:
    _health_v3(conn)
    _run(conn, _V3)


# -- 3 → 4: elders' records, responder call sequences, service requests ----------------
_V4_DISPATCH = (
    # One row per terminal's elder: what a responder must know to help at the door.
    # ``access`` (key safe, door code) is shown only on request, and audited.
    """CREATE TABLE IF NOT EXISTS elders (
        terminal_id TEXT PRIMARY KEY,
        address TEXT NOT NULL DEFAULT '',
        access TEXT NOT NULL DEFAULT '',
        medical TEXT NOT NULL DEFAULT '',
        language TEXT NOT NULL DEFAULT '',
        lives_alone INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL,
        updated_by TEXT NOT NULL
    ) WITHOUT ROWID""",
    # The elder's contacts in calling order (position 0 is called first).
    """CREATE TABLE IF NOT EXISTS elder_contacts (
        terminal_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        phone TEXT NOT NULL,
        PRIMARY KEY (terminal_id, position)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS elder_contacts_by_role ON elder_contacts (role)",
    # One call sequence per alarm: the state machine's state as JSON, plus the columns
    # the worker and the feed select on.
    """CREATE TABLE IF NOT EXISTS dispatches (
        terminal_id TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        status TEXT NOT NULL,
        state TEXT NOT NULL,
        deadline REAL,
        attempt INTEGER NOT NULL DEFAULT 0,
        responder TEXT,
        started_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (terminal_id, alert_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS dispatches_due ON dispatches (deadline) WHERE deadline IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS dispatches_active ON dispatches (started_at)"
    " WHERE status IN ('calling', 'exhausted', 'taken_over', 'idle')",
    # Every responder notified: who, when, how it ended. The answer token is stored
    # only as its SHA-256.
    """CREATE TABLE IF NOT EXISTS dispatch_attempts (
        terminal_id TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        round INTEGER NOT NULL,
        position INTEGER,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        phone TEXT NOT NULL,
        notified_at REAL NOT NULL,
        deadline REAL NOT NULL,
        outcome TEXT,
        ended_at REAL,
        eta_s INTEGER,
        token_hash TEXT NOT NULL,
        PRIMARY KEY (terminal_id, alert_id, attempt)
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX IF NOT EXISTS dispatch_attempts_by_token"
    " ON dispatch_attempts (token_hash)",
    "CREATE INDEX IF NOT EXISTS dispatch_attempts_by_time ON dispatch_attempts (notified_at)",
    # Meal, errand, nursing and mobility presses: scheduled, assigned, completed.
    """CREATE TABLE IF NOT EXISTS service_requests (
        terminal_id TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        status TEXT NOT NULL,
        scheduled_for REAL,
        assignee TEXT,
        assignee_phone TEXT,
        assignee_role TEXT,
        assignments INTEGER NOT NULL DEFAULT 0,
        note TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        completed_at REAL,
        PRIMARY KEY (terminal_id, alert_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS service_requests_by_completion ON service_requests (completed_at)",
)


# -- 4 → 5: a health report's event travels in its outbox rows -------------------------
def _v5(conn: sqlite3.Connection) -> None:
    """A health report's event is kept only until its sinks confirmed it (the report
    itself is kept in ``health``), and keyed by its report there: as a row of ``events``
    it was written, looked up and deleted again for nothing, and its body, keyed at
    random, dirtied a page of that table for nearly every report. The body now travels
    in the outbox rows (``type``, ``body``; NULL for events kept in ``events``)."""
    conn.execute("ALTER TABLE outbox ADD COLUMN type TEXT")
    conn.execute("ALTER TABLE outbox ADD COLUMN body TEXT")
    conn.execute(
        "UPDATE outbox SET type = events.type, body = events.body FROM events"
        " WHERE events.event_id = outbox.event_id AND events.type = 'health'"
    )
    conn.execute("DELETE FROM events WHERE type = 'health'")


# -- 5 → 6: each sink's health events read from ``health`` by a cursor ------------------
def _v6(conn: sqlite3.Connection) -> None:
    """A sink is owed every health report past its cursor in ``feed`` (see
    :mod:`gateway.store.feed`), instead of an outbox row per report. The cursors start at
    the newest report: the reports of older files are owed through their outbox rows,
    which stay and are forwarded as before. Several gateways on one file take turns: a
    sink's feed is leased to one of them at a time (``owner``, ``lease_until``)."""
    conn.execute(
        "CREATE TABLE feed (sink TEXT PRIMARY KEY, after INTEGER NOT NULL, owner TEXT,"
        " lease_until REAL NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
    conn.execute(
        "INSERT INTO feed (sink, after) SELECT DISTINCT outbox.sink,"
        " (SELECT coalesce(max(id), 0) FROM health) FROM outbox"
    )


#: ``STEPS[n]`` takes a file from version ``n`` to ``n + 1``.
STEPS: tuple[Step, ...] = (_V1, _v2, _v3, _V4_DISPATCH, _v5, _v6)
LATEST = len(STEPS)


def _run(conn: sqlite3.Connection, step: Step) -> None:
    if callable(step):
        step(conn)
        return
    for statement in step:
        conn.execute(statement)


def version(conn: sqlite3.Connection) -> int:
    """The file's ``PRAGMA user_version``."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, target: int | None = None) -> tuple[int, int]:
    """Bring the file up to ``target`` (the latest) in one transaction; return (from, to).

    ``conn`` must be in autocommit mode (``isolation_level=None``). The write lock is
    taken before the version is read, so two processes opening one file at the same
    time migrate it once.
    """
    target = LATEST if target is None else target
    conn.execute("BEGIN IMMEDIATE")
    try:
        start = version(conn)
        if start > LATEST:
            raise StoreError(
                f"the database is at schema version {start}, newer than this gateway's"
                f" {LATEST}: run the newer gateway, or restore a backup made by this one"
            )
        for step in STEPS[start:target]:
            _run(conn, step)
        if target > start:
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return start, max(start, target)
