"""The schema ladder: old files are upgraded with every row kept, newer ones refused."""

from __future__ import annotations

import json
import sqlite3
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import StoreError
from gateway.store import schema
from gateway.store.db import open_database, prepare
from gateway.store.outbox import Outbox

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures"
#: Files written by released gateways, oldest first (all of them say version 1).
RELEASED = ("schema_v1_first.sql", "schema_v1_acked.sql")


def make_file(path: Path, fixture: str) -> Path:
    with sqlite3.connect(path) as conn:
        conn.executescript((FIXTURES / fixture).read_text(encoding="utf-8"))
    conn.close()
    return path


def dump(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as a dict, in a stable order."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted((dict(r) for r in conn.execute(f"SELECT * FROM {t}")), key=repr)
            for t in tables
        }
    finally:
        conn.close()


def at_version(tmp_path: Path, target: int) -> tuple[Path, sqlite3.Connection]:
    """A file climbed to ``target`` only, and a connection to add rows with."""
    path = tmp_path / f"v{target}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    schema.migrate(conn, target=target)
    return path, conn


def shape(path: Path) -> dict[str, Any]:
    """Tables with their columns (name, type, not null, default, pk) and the index names.

    Column order is left out: a column added by ALTER TABLE comes last, and no query
    depends on the order."""
    conn = sqlite3.connect(path)
    try:
        names = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        found: dict[str, Any] = {}
        for kind, name in sorted(names.fetchall()):
            if kind == "table":
                columns = conn.execute(f"PRAGMA table_info({name})")
                found[name] = sorted(tuple(c[1:]) for c in columns)
            else:
                found[name] = kind
        return found
    finally:
        conn.close()


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return schema.version(conn)
    finally:
        conn.close()


def as_columns(row: dict[str, Any]) -> dict[str, Any]:
    """An old health row (vitals as JSON text) in the later shape (a column per vital)."""
    row = dict(row)
    vitals = json.loads(row.pop("vitals"))
    if "fall_detected" in vitals:
        vitals["fall_detected"] = int(vitals["fall_detected"])
    return {**row, **vitals}


def kept(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Each old row is in the new file with the same values (new columns aside)."""
    for table, rows in before.items():
        if table == "health" and "vitals" in rows[0]:
            report = itemgetter("terminal_id", "report_id")
            rows = sorted(map(as_columns, rows), key=report)
            news = sorted(({k: v for k, v in r.items() if v is not None} for r in after[table]),
                          key=report)  # fmt: skip
        elif table == "events":
            # A health report's event moved into its outbox rows (version 5).
            owed = {r["event_id"]: r for r in after["outbox"]}
            for event in rows:
                carried = owed.get(event["event_id"]) if event["type"] == "health" else None
                if carried is not None and (carried["type"], carried["body"]) != (
                    "health",
                    event["body"],
                ):
                    return False
            rows = [r for r in rows if r["type"] != "health"]
            news = after[table]
        else:
            news = after[table]
        if [{k: row.get(k) for k in old} for row, old in zip(news, rows, strict=True)] != rows:
            return False
    return True


def test_a_new_file_climbs_to_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"

    assert prepare(path) == (0, schema.LATEST)
    assert user_version(path) == schema.LATEST


@pytest.mark.parametrize("fixture", RELEASED)
def test_a_released_file_upgrades_to_the_same_schema_as_a_new_one(
    tmp_path: Path, fixture: str
) -> None:
    old = make_file(tmp_path / "old.db", fixture)
    prepare(tmp_path / "new.db")

    assert prepare(old) == (1, schema.LATEST)
    assert shape(old) == shape(tmp_path / "new.db")


@pytest.mark.parametrize("fixture", RELEASED)
async def test_a_released_file_keeps_every_row(tmp_path: Path, fixture: str) -> None:
    path = make_file(tmp_path / "old.db", fixture)
    before = dump(path)

    async with open_database(path, "NORMAL"):
        pass

    after = dump(path)
    assert sum(map(len, before.values())) == 14 + (4 if "accounts" in before else 0)
    assert kept(before, after)


def test_the_first_release_gets_the_ack_outbox_with_open_alerts_to_resend(
    tmp_path: Path,
) -> None:
    path = make_file(tmp_path / "old.db", "schema_v1_first.sql")

    prepare(path)

    conn = sqlite3.connect(path)
    ranks = dict(conn.execute("SELECT alert_id, acked_rank FROM alerts").fetchall())
    conn.close()
    # The open alert's stage is sent once more; the resolved one counts as told.
    assert ranks == {"b1-0001": -1, "b1-0007": 3}


def test_an_upgrade_keeps_a_copy_of_the_old_file(tmp_path: Path) -> None:
    path = make_file(tmp_path / "gateway.db", "schema_v1_acked.sql")
    before = dump(path)

    prepare(path)

    copy = tmp_path / "gateway.db.schema-v1.bak"
    assert user_version(copy) == 1
    assert dump(copy) == before


def test_a_file_from_a_newer_gateway_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    prepare(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()

    with pytest.raises(StoreError, match=f"schema version {schema.LATEST + 1}, newer"):
        prepare(path)
    assert user_version(path) == schema.LATEST + 1


def test_a_failing_step_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_file(tmp_path / "old.db", "schema_v1_first.sql")
    before = shape(path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(schema, "STEPS", (*schema.STEPS, broken))
    monkeypatch.setattr(schema, "LATEST", len(schema.STEPS))
    with pytest.raises(sqlite3.OperationalError):
        prepare(path)

    assert user_version(path) == 1
    assert shape(path) == before


async def test_open_database_reports_a_newer_file_as_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    prepare(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 5}")
    conn.close()

    with pytest.raises(StoreError, match="newer than this gateway"):
        async with open_database(path):
            pass


def page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_file_gets_the_chosen_page_size(tmp_path: Path) -> None:
    """The page size decides how much a status writes into the WAL (every page a
    transaction touched goes in whole) and what saturated intake costs; it is chosen
    (``schema.PAGE_SIZE``), not left to the build's default."""
    path = tmp_path / "gateway.db"
    prepare(path)
    assert page_size(path) == schema.PAGE_SIZE


def test_a_file_with_other_pages_keeps_them(tmp_path: Path) -> None:
    """SQLite changes the page size of a file in WAL mode only by rebuilding it; an
    existing file is opened and upgraded as it is."""
    other = 1024 if schema.PAGE_SIZE != 1024 else 2048
    path = tmp_path / "gateway.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA page_size = {other}")
        conn.executescript((FIXTURES / RELEASED[-1]).read_text(encoding="utf-8"))
    conn.close()
    assert page_size(path) == other
    prepare(path)
    assert page_size(path) == other
    assert user_version(path) == schema.LATEST


async def test_version_5_moves_owed_health_events_into_their_outbox_rows(
    tmp_path: Path,
) -> None:
    path, conn = at_version(tmp_path, 4)
    body = '{"event_id":"health:T1:r1","type":"health","data":{"vitals":{"spo2_pct":97}}}'
    conn.executemany(
        "INSERT INTO events (event_id, type, priority, occurred_at, source, body, created_at)"
        " VALUES (?, ?, ?, 1, 'T1', ?, 1)",
        [("health:T1:r1", "health", 2, body), ("alert:T1:b1", "alert", 0, '{"data":{}}')],
    )
    conn.executemany(
        "INSERT INTO outbox (event_id, sink, priority, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, 1, 1)",
        [("health:T1:r1", "webhook", 2), ("health:T1:r1", "up", 2), ("alert:T1:b1", "webhook", 0)],
    )
    conn.close()

    async with open_database(path) as db:
        outbox = Outbox(db)
        by_sink = {
            sink: {i.event_id: (i.type, i.raw) for i in await outbox.claim(sink, 10, 2, 30)}
            for sink in ("webhook", "up")
        }
        async with db.reader.execute("SELECT event_id FROM events") as cursor:
            events = [row[0] async for row in cursor]

    assert by_sink == {
        "webhook": {"alert:T1:b1": ("alert", '{"data":{}}'), "health:T1:r1": ("health", body)},
        "up": {"health:T1:r1": ("health", body)},
    }
    assert events == ["alert:T1:b1"]  # the health event lives in its outbox rows only


async def test_version_6_owes_new_reports_through_the_feed_and_keeps_old_rows(
    tmp_path: Path,
) -> None:
    path, conn = at_version(tmp_path, 5)
    conn.execute(
        "INSERT INTO health (terminal_id, report_id, ts, received_at, steps)"
        " VALUES ('T1', 'r1', 1, 1, 10)"
    )
    body = '{"event_id":"health:T1:r1","type":"health","data":{"vitals":{"steps":10}}}'
    conn.execute(
        "INSERT INTO outbox (event_id, sink, priority, created_at, next_attempt_at, type, body)"
        " VALUES ('health:T1:r1', 'webhook', 2, 1, 1, 'health', ?)",
        (body,),
    )
    conn.close()

    async with open_database(path) as db:
        async with db.reader.execute("SELECT sink, after FROM feed") as cursor:
            feed = [tuple(row) async for row in cursor]
        outbox = Outbox(db)
        claimed = [(i.event_id, i.raw, i.report) for i in await outbox.claim("webhook", 10, 2, 30)]

    assert feed == [("webhook", 1)]  # r1 is owed by its outbox row, not again by the feed
    assert claimed == [("health:T1:r1", body, 0)]
