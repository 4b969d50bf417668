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

from firmware_protocol.messages import Stage
from gateway.core.events import Priority
from gateway.store.alerts import Advance, Observed, advance_in, observe_stages
from gateway.store.db import Database
from gateway.store.direct import Direct
from gateway.store.intake import StageUpdate

OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _carried(column: str) -> str:
    """An outbox row's event ``type`` or ``body``: its own (a health report's), else
    from its row of ``events``."""
    return (
        f"coalesce(outbox.{column},"
        f" (SELECT events.{column} FROM events WHERE events.event_id = outbox.event_id))"
    )


def _in_region(scope: Sequence[str]) -> tuple[str, list[str]]:
    """SQL matching outbox rows whose event lies inside ``scope`` (its body's ``region``)."""
    if not scope:
        return "", []
    parts = " AND ".join(
        f"json_extract({_carried('body')}, '$.region[{depth}]') = ?" for depth in range(len(scope))
    )
    return f" AND {parts}", list(scope)


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


#: Above every event priority: ``claim`` without a ceiling.
MAX_PRIORITY = 99


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One event due for one sink; ``raw`` is its body as stored (compact JSON)."""

    event_id: str
    sink: str
    priority: int
    attempts: int
    created_at: float
    type: str
    raw: str

    @property
    def body(self) -> dict[str, Any]:
        """The body, parsed (sinks send ``raw`` as it is; this is for the few who look)."""
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed


@dataclass(frozen=True, slots=True)
class Retry:
    """A failed delivery to try again at ``at``."""

    item: OutboxItem
    at: float
    error: str


def _deliveries(items: Sequence[OutboxItem]) -> list[Advance]:
    alerts = [item.body["data"] for item in items if item.type == "alert"]  # parsed once
    return [Advance(data["terminal_id"], data["alert_id"], Stage.DELIVERED, "command-center")
            for data in alerts]  # fmt: skip


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
        async with self._db.transaction("release") as conn:
            async with conn.execute(
                "SELECT DISTINCT lease_owner FROM outbox WHERE lease_owner LIKE ?", (f"{host}:%",)
            ) as cursor:
                owners = [row[0] async for row in cursor]
            dead = [owner for owner in owners if not _alive(owner)]
            await conn.executemany(
                "UPDATE outbox SET lease_until = 0, lease_owner = NULL WHERE lease_owner = ?",
                [(owner,) for owner in dead],
            )

    async def claim(
        self, sink: str, limit: int, now: float, lease_s: float, max_priority: int = MAX_PRIORITY
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows of priority ``max_priority`` or more urgent,
        alerts first, oldest first. The alarm lane's claim (alerts only) goes ahead of
        other writers."""
        alarms = max_priority <= Priority.ALERT
        name = "claim_alarms" if alarms else "claim"

        async def body(conn: Direct) -> list[Any]:
            return await conn.execute_fetchall(
                "UPDATE outbox SET lease_until = ?, lease_owner = ? WHERE rowid IN ("
                " SELECT rowid FROM outbox WHERE sink = ? AND dead = 0 AND priority <= ?"
                " AND next_attempt_at <= ? AND lease_until <= ?"
                " ORDER BY priority, next_attempt_at LIMIT ?)"
                " RETURNING event_id, priority, attempts, created_at,"
                f" {_carried('type')}, {_carried('body')}",
                (now + lease_s, self._owner, sink, max_priority, now, now, limit),
            )

        leased = await self._db.run(name, body, urgent=alarms)
        items = [OutboxItem(r[0], sink, r[1], r[2], r[3], r[4], r[5]) for r in leased]
        items.sort(key=lambda item: (item.priority, item.created_at))
        return items

    async def confirm(
        self, sink: str, items: Sequence[OutboxItem], now: float, *, advance: bool
    ) -> list[StageUpdate]:
        """The sink confirmed ``items``: one transaction for all that follows from it.

        Their rows leave the outbox (a health report's event with them: it lives only
        there, the report itself is kept in ``health``); and when this sink speaks for
        the terminals (``advance``), the alerts among them reach ``delivered``. Returns
        those stage changes, for the caller to tell the terminals after the commit.
        """
        if not items:
            return []
        observed: Observed = []

        async def body(conn: Direct) -> list[StageUpdate]:
            await conn.executemany(
                "DELETE FROM outbox WHERE event_id = ? AND sink = ?",
                [(item.event_id, sink) for item in items],
            )
            if not advance:
                return []
            # "delivered" raises no event of its own, so no sinks are needed here.
            return await advance_in(conn, _deliveries(items), (), now, observed)

        moved = await self._db.run("confirm", body)
        observe_stages(observed)
        return moved

    async def settle_failures(
        self, retries: Sequence[Retry], dead: Sequence[tuple[OutboxItem, str]]
    ) -> None:
        """Deliveries that failed: try each again later, or give up (dead letter)."""
        if not retries and not dead:
            return
        async with self._db.transaction("settle") as conn:
            await conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                [(r.at, r.error[:500], r.item.event_id, r.item.sink) for r in retries],
            )
            await conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, dead = 1, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                [(error[:500], item.event_id, item.sink) for item, error in dead],
            )

    async def retry_dead(
        self, sink: str, event_id: str, now: float, region: Sequence[str] = ()
    ) -> bool:
        """Put a dead-lettered row back in line (only if its event lies inside ``region``)."""
        scoped, params = _in_region(region)
        async with self._db.transaction("retry_dead") as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = ?, created_at = ?"
                f" WHERE event_id = ? AND sink = ? AND dead = 1{scoped}",
                (now, now, event_id, sink, *params),
            )
            return cursor.rowcount > 0

    async def expedite(self, sink: str, now: float) -> None:
        """Make every live row of ``sink`` due now (after the receiver recovered)."""
        async with self._db.transaction("expedite") as conn:
            await conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE sink = ? AND dead = 0"
                " AND next_attempt_at > ?",
                (now, sink, now),
            )

    async def next_due(self, sink: str, max_priority: int = MAX_PRIORITY) -> float | None:
        """When the earliest live row (of ``max_priority`` or more urgent) becomes due
        (None when there is none)."""
        async with self._db.reader.execute(
            "SELECT min(max(next_attempt_at, lease_until)) FROM outbox"
            " WHERE sink = ? AND dead = 0 AND priority <= ?",
            (sink, max_priority),
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
