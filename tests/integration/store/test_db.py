"""The database file: schema, durability settings, transactions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.errors import StoreError
from gateway.store.audit import AuditLog
from gateway.store.db import Database, open_database
from gateway.store.schema import LATEST
from tests.integration.store.helpers import T0, rows

pytestmark = pytest.mark.integration


async def pragma(db: Database, name: str) -> object:
    async with db.writer.execute(f"PRAGMA {name}") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return row[0]


async def test_new_file_has_schema_wal_and_full_sync(db: Database) -> None:
    tables = {
        r["name"] for r in await rows(db, "SELECT name FROM sqlite_master WHERE type='table'")
    }

    assert {"alerts", "alert_timeline", "health", "terminal_state", "events", "outbox",
            "audit_log"} <= tables  # fmt: skip
    assert await pragma(db, "journal_mode") == "wal"
    assert await pragma(db, "synchronous") == 2  # FULL
    assert await pragma(db, "user_version") == LATEST


async def test_normal_sync_can_be_chosen(tmp_path: Path) -> None:
    async with open_database(tmp_path / "n.db", "NORMAL") as db:
        assert await pragma(db, "synchronous") == 1


async def test_unknown_sync_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        async with open_database(tmp_path / "x.db", "OFF"):
            pass


async def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()

    with pytest.raises(StoreError, match="cannot open database"):
        async with open_database(tmp_path / "dir.db"):
            pass


async def test_committed_data_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    async with open_database(path) as db:
        await AuditLog(db).record("admin", "test", "x", {"n": 1}, T0)

    async with open_database(path) as db:
        assert [r["action"] for r in await AuditLog(db).recent()] == ["test"]


async def insert_then_fail(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO audit_log (at, actor, action) VALUES (?, 'a', 'x')", (T0,))
        raise RuntimeError("boom")


async def test_error_inside_a_transaction_rolls_everything_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        await insert_then_fail(db)

    assert await rows(db, "SELECT * FROM audit_log") == []
    # and the connection is usable again
    await AuditLog(db).record("a", "after", "x", {}, T0)
    assert len(await rows(db, "SELECT * FROM audit_log")) == 1


async def test_concurrent_transactions_from_several_tasks_all_commit(db: Database) -> None:
    audit = AuditLog(db)

    await asyncio.gather(*(audit.record("a", f"action-{n}", "x", {}, T0) for n in range(5)))

    assert len(await rows(db, "SELECT * FROM audit_log")) == 5
