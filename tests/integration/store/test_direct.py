"""Transactions run whole in the writer's thread (``Database.run``), on a real file."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from gateway.errors import StoreError
from gateway.store.db import Database
from gateway.store.direct import Direct, NotDirect
from tests.integration.store.helpers import T0, rows

pytestmark = pytest.mark.integration

AUDIT = "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)"


def entry(n: int) -> tuple[Any, ...]:
    return (T0 + n, "tech", "note", f"t{n}", "{}")


async def audit_targets(db: Database) -> list[str]:
    return [r["target"] for r in await rows(db, "SELECT target FROM audit_log ORDER BY id")]


async def test_a_body_commits_in_the_writers_thread(db: Database) -> None:
    threads: list[int] = []

    async def body(conn: Direct) -> int:
        threads.append(threading.get_ident())
        await conn.execute(AUDIT, entry(1))
        cursor = await conn.executemany(AUDIT, [entry(2), entry(3)])
        return cursor.rowcount

    assert await db.run("test", body) == 2
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()
    assert await audit_targets(db) == ["t1", "t2", "t3"]


async def test_a_body_reads_with_the_cursor_surface_the_store_uses(db: Database) -> None:
    async def body(conn: Direct) -> tuple[Any, ...]:
        await conn.executemany(AUDIT, [entry(n) for n in range(4)])
        fetched = await conn.execute_fetchall("SELECT target FROM audit_log ORDER BY id")
        async with conn.execute("SELECT target FROM audit_log ORDER BY id") as cursor:
            iterated = [row["target"] async for row in cursor]
        cursor = await conn.execute("SELECT count(*) FROM audit_log")
        one = await cursor.fetchone()
        cursor = await conn.execute("SELECT target FROM audit_log WHERE target > 't1'")
        rest = await cursor.fetchall()
        return [r[0] for r in fetched], iterated, one[0], [r[0] for r in rest]

    fetched, iterated, count, rest = await db.run("test", body)

    assert fetched == iterated == ["t0", "t1", "t2", "t3"]
    assert count == 4
    assert rest == ["t2", "t3"]


async def test_an_error_in_the_body_rolls_everything_back(db: Database) -> None:
    async def body(conn: Direct) -> None:
        await conn.execute(AUDIT, entry(1))
        raise ValueError("halfway")

    with pytest.raises(ValueError, match="halfway"):
        await db.run("test", body)

    assert await audit_targets(db) == []
    await db.run("test", _insert(2))  # the connection is usable again
    assert await audit_targets(db) == ["t2"]


async def test_an_sqlite_error_is_a_store_error_and_rolls_back(db: Database) -> None:
    async def body(conn: Direct) -> None:
        await conn.execute(AUDIT, entry(1))
        await conn.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(StoreError, match="write failed"):
        await db.run("test", body)

    assert await audit_targets(db) == []


async def test_a_body_that_waits_on_the_loop_is_refused_and_rolled_back(db: Database) -> None:
    async def body(conn: Direct) -> None:
        await conn.execute(AUDIT, entry(1))
        await asyncio.sleep(0)

    with pytest.raises(NotDirect):
        await db.run("test", body)

    assert await audit_targets(db) == []


def _insert(n: int) -> Any:
    async def body(conn: Direct) -> None:
        await conn.execute(AUDIT, entry(n))

    return body


async def test_direct_and_stepwise_transactions_take_turns(db: Database) -> None:
    async def stepwise(n: int) -> None:
        async with db.transaction("test") as conn:
            await conn.execute(AUDIT, entry(n))
            await asyncio.sleep(0)  # other coroutines run here, the lock still held
            await conn.execute(AUDIT, entry(n + 100))

    tasks = [stepwise(n) if n % 2 else db.run("test", _insert(n)) for n in range(20)]
    await asyncio.gather(*tasks)

    targets = await audit_targets(db)
    assert sorted(targets) == sorted(
        [f"t{n}" for n in range(20)] + [f"t{n + 100}" for n in range(1, 20, 2)]
    )
    for n in range(1, 20, 2):  # a stepwise transaction's rows are not split by others
        assert targets.index(f"t{n + 100}") == targets.index(f"t{n}") + 1
