"""The outbox: claim due deliveries, then delete them only once confirmed.

A claim is a lease (``lease_until``, ``lease_owner``): if the process dies mid-delivery
the lease runs out and the row is claimed again, so at-least-once holds across crashes;
the command center deduplicates on the event id.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.store.db import Database

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _in_region(scope: Sequence[str]) -> tuple[str, list[str]]:
    """SQL matching outbox rows whose event lies inside ``scope`` (its body's ``region``)."""
    if not scope:
        return "", []
    parts = " AND ".join(
        f"json_extract(body, '$.region[{depth}]') = ?" for depth in range(len(scope))
    )
    return f" AND event_id IN (SELECT event_id FROM events WHERE {parts})", list(scope)


def _alive(owner: str) -> bool:
    """Whether the process named in a lease owner ``host:pid`` still runs here."""
    pid = owner.rsplit(":", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        # Unreadable, or our own pid reused from an earlier life: we hold no leases yet.
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One event due for one sink."""

    event_id: str
    sink: str
    priority: int
    attempts: int
    created_at: float
    body: dict[str, Any]


class Outbox:
    """Store-and-forward queue over the ``outbox`` table."""

    def __init__(self, db: Database, owner: str = OWNER) -> None:
        self._db = db
        self._owner = owner

    async def release_own_leases(self) -> None:
        """On start: leases held by dead processes of this host are void at once.

        (A live sibling gateway on the same host keeps its leases; leases of other hosts
        simply run out.)"""
        host = self._owner.split(":", 1)[0]
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT DISTINCT lease_owner FROM outbox WHERE lease_owner LIKE ?", (f"{host}:%",)
            ) as cursor:
                owners = [row[0] async for row in cursor]
            dead = [owner for owner in owners if not _alive(owner)]
            await conn.executemany(
                "UPDATE outbox SET lease_until = 0, lease_owner = NULL WHERE lease_owner = ?",
                [(owner,) for owner in dead],
            )

    async def claim(self, sink: str, limit: int, now: float, lease_s: float) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows, alerts first, oldest first."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET lease_until = ?, lease_owner = ? WHERE rowid IN ("
                " SELECT rowid FROM outbox WHERE sink = ? AND dead = 0 AND next_attempt_at <= ?"
                " AND lease_until <= ? ORDER BY priority, next_attempt_at LIMIT ?)"
                " RETURNING event_id, priority, attempts, created_at",
                (now + lease_s, self._owner, sink, now, now, limit),
            )
            leased = list(await cursor.fetchall())
            await cursor.close()
            if not leased:
                return []
            marks = ",".join("?" * len(leased))
            async with conn.execute(
                f"SELECT event_id, body FROM events WHERE event_id IN ({marks})",
                [row["event_id"] for row in leased],
            ) as cursor:
                bodies = {row["event_id"]: json.loads(row["body"]) async for row in cursor}
        items = [
            OutboxItem(r["event_id"], sink, r["priority"], r["attempts"], r["created_at"],
                       bodies[r["event_id"]])
            for r in leased
        ]  # fmt: skip
        items.sort(key=lambda item: (item.priority, item.created_at))
        return items

    async def mark_delivered(self, sink: str, event_ids: Sequence[str]) -> None:
        """The sink confirmed: the rows leave the outbox."""
        if not event_ids:
            return
        async with self._db.transaction() as conn:
            await conn.executemany(
                "DELETE FROM outbox WHERE event_id = ? AND sink = ?",
                [(event_id, sink) for event_id in event_ids],
            )

    async def reschedule(self, item: OutboxItem, next_attempt_at: float, error: str) -> None:
        """Delivery failed: try again at ``next_attempt_at``."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                (next_attempt_at, error[:500], item.event_id, item.sink),
            )

    async def dead_letter(self, item: OutboxItem, error: str) -> None:
        """Give up on automatic retries; the row stays, visible and retryable by hand."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, dead = 1, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                (error[:500], item.event_id, item.sink),
            )

    async def retry_dead(
        self, sink: str, event_id: str, now: float, region: Sequence[str] = ()
    ) -> bool:
        """Put a dead-lettered row back in line (only if its event lies inside ``region``)."""
        scoped, params = _in_region(region)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = ?, created_at = ?"
                f" WHERE event_id = ? AND sink = ? AND dead = 1{scoped}",
                (now, now, event_id, sink, *params),
            )
            return cursor.rowcount > 0

    async def expedite(self, sink: str, now: float) -> None:
        """Make every live row of ``sink`` due now (after the receiver recovered)."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE sink = ? AND dead = 0"
                " AND next_attempt_at > ?",
                (now, sink, now),
            )

    async def next_due(self, sink: str) -> float | None:
        """When the earliest live row becomes due (None when empty)."""
        async with self._db.reader.execute(
            "SELECT min(max(next_attempt_at, lease_until)) FROM outbox WHERE sink = ? AND dead = 0",
            (sink,),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    async def counts(self) -> dict[tuple[str, bool], int]:
        """Rows per (sink, dead)."""
        async with self._db.reader.execute(
            "SELECT sink, dead, count(*) FROM outbox GROUP BY sink, dead"
        ) as cursor:
            return {(row[0], bool(row[1])): row[2] async for row in cursor}

    async def backlog(self) -> dict[str, tuple[int, float | None]]:
        """Live (not dead-lettered) rows per sink, and when the oldest of them was created."""
        async with self._db.reader.execute(
            "SELECT sink, count(*), min(created_at) FROM outbox WHERE dead = 0 GROUP BY sink"
        ) as cursor:
            return {row[0]: (row[1], row[2]) async for row in cursor}

    async def dead_letters(
        self, limit: int = 100, region: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Dead-lettered deliveries whose event lies inside ``region``, newest first."""
        scoped, params = _in_region(region)
        async with self._db.reader.execute(
            "SELECT event_id, sink, attempts, created_at, last_error FROM outbox WHERE dead = 1"
            f"{scoped} ORDER BY created_at DESC LIMIT ?",
            (*params, limit),
        ) as cursor:
            return [dict(row) async for row in cursor]
