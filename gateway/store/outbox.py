"""The outbox: claim due deliveries, then delete them only once confirmed.

A claim is a lease (``lease_until``, ``lease_owner``): if the process dies mid-delivery
the lease runs out and the row is claimed again, so at-least-once holds across crashes;
the command center deduplicates on the event id.

New health reports have no rows here: a claim that has room left tops up from the
sink's health feed (:mod:`gateway.store.feed`), and a report whose delivery failed
becomes a row here when the failure is settled.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from firmware_protocol.messages import Stage
from gateway.core.events import Priority, compact_json
from gateway.core.intake import health_event
from gateway.store import feed
from gateway.store.alerts import Advance, Observed, advance_in, observe_stages
from gateway.store.db import Database
from gateway.store.direct import Direct
from gateway.store.health import vitals_of
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
    """One event due for one sink; ``raw`` is its body as stored (compact JSON).
    ``report`` is the id in ``health`` of a report taken from the feed (0: a row)."""

    event_id: str
    sink: str
    priority: int
    attempts: int
    created_at: float
    type: str
    raw: str
    report: int = 0

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


Regions = Callable[[str], Sequence[str]]


def _no_region(_terminal_id: str) -> Sequence[str]:
    return ()


def _fed(row: Any, sink: str, region: Sequence[str]) -> OutboxItem:
    """A report read from the feed (:data:`feed.READ`'s columns) as an item for ``sink``."""
    event = health_event(row[1], row[2], row[3], row[4], vitals_of(row[5:]), tuple(region))
    return OutboxItem(event.event_id, sink, Priority.HEALTH, 0, row[4], "health",
                      compact_json(event.to_json()), report=row[0])  # fmt: skip


class Outbox:
    """Store-and-forward queue over the ``outbox`` table and each sink's health feed.

    ``regions`` gives a terminal's region path, for the events built from the feed."""

    def __init__(self, db: Database, owner: str = OWNER, regions: Regions = _no_region) -> None:
        self._db = db
        self._owner = owner
        self._regions = regions
        self._cursors: dict[str, feed.Cursor] = {}
        self._leased: dict[str, float] = {}  # sink → until when this process holds its feed

    async def open_feeds(self, sinks: Sequence[str]) -> None:
        """Give each sink its health feed (the cursor starts at the newest report)."""
        async with self._db.transaction("open_feeds") as conn:
            await feed.ensure(conn, sinks)

    async def _feed(self, sink: str, now: float, lease_s: float) -> feed.Cursor | None:
        """The sink's feed cursor, while this process holds the feed's lease (renewed
        when half of it has gone); None when another process holds it, or no report was
        ever stored for the sink."""
        cursor = self._cursors.get(sink)
        held = self._leased.get(sink, 0.0)
        if cursor is not None and held - now > lease_s / 2:
            return cursor
        if cursor is None and await feed.stored_cursor(self._db.reader, sink) is None:
            return None
        owner, until = self._owner, now + lease_s

        async def take(conn: Direct) -> int | None:
            return await feed.take(conn, sink, owner, now, until)

        after = await self._db.run("feed_lease", take)
        if after is None:
            self._leased.pop(sink, None)
            return None
        self._leased[sink] = until
        if cursor is None or not cursor.open_batches:
            # Another process may have moved the cursor while this one held no lease.
            cursor = self._cursors[sink] = feed.Cursor(max(after, cursor.after if cursor else 0))
        return cursor

    async def release_own_leases(self) -> None:
        """On start: leases (of outbox rows and of health feeds) held by dead processes of
        this host are void at once.

        (A live sibling gateway on the same host keeps its leases; leases of other hosts
        simply run out.)"""
        host = self._owner.split(":", 1)[0]
        async with self._db.transaction("release") as conn:
            async with conn.execute(
                "SELECT DISTINCT lease_owner FROM outbox WHERE lease_owner LIKE ?"
                " UNION SELECT owner FROM feed WHERE owner LIKE ?",
                (f"{host}:%", f"{host}:%"),
            ) as cursor:
                owners = [row[0] async for row in cursor]
            dead = [owner for owner in owners if not _alive(owner)]
            await conn.executemany(
                "UPDATE outbox SET lease_until = 0, lease_owner = NULL WHERE lease_owner = ?",
                [(owner,) for owner in dead],
            )
            await feed.release(conn, dead)

    async def claim(
        self, sink: str, limit: int, now: float, lease_s: float, max_priority: int = MAX_PRIORITY,
        *, feed_too: bool = True,
    ) -> list[OutboxItem]:  # fmt: skip
        """Lease up to ``limit`` due rows of priority ``max_priority`` or more urgent,
        alerts first, oldest first; then, when that leaves room and health reports are
        wanted, the next reports of the sink's feed (unless not ``feed_too``: the sink is
        failing). The alarm lane's claim (alerts only) goes ahead of other writers."""
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
        room = limit - len(items)
        wanted = feed_too and room > 0 and max_priority >= Priority.HEALTH
        cursor = await self._feed(sink, now, lease_s) if wanted else None
        if cursor is not None:
            rows = await feed.read_after(self._db.reader, cursor.handed, room)
            regions = self._regions
            items.extend(_fed(row, sink, regions(row[1])) for row in rows)
            cursor.hand_out([row[0] for row in rows])
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
        rows = [(item.event_id, sink) for item in items if not item.report]
        settling = self._settling({sink: [item for item in items if item.report]})

        async def body(conn: Direct) -> list[StageUpdate]:
            await conn.executemany("DELETE FROM outbox WHERE event_id = ? AND sink = ?", rows)
            await self._store_cursors(conn, settling)
            if not advance:
                return []
            # "delivered" raises no event of its own, so no sinks are needed here.
            return await advance_in(conn, _deliveries(items), (), now, observed)

        moved = await self._db.run("confirm", body)
        await self._settled(settling)
        observe_stages(observed)
        return moved

    def _settling(self, reports: dict[str, list[OutboxItem]]) -> dict[str, feed.Settling]:
        return {
            sink: self._cursors[sink].settling(item.report for item in items)
            for sink, items in reports.items() if items
        }  # fmt: skip

    @staticmethod
    async def _store_cursors(conn: Direct, settling: dict[str, feed.Settling]) -> None:
        for sink, settles in settling.items():
            if settles.after is not None:
                await feed.store_cursor(conn, sink, settles.after)

    async def _settled(self, settling: dict[str, feed.Settling]) -> None:
        """After the commit: the cursors move; one that settled further than its
        commit could know (two settlements crossed) is stored now."""
        for sink, settles in settling.items():
            cursor = self._cursors[sink]
            cursor.settled(settles)
            if cursor.unsaved:
                after = cursor.after

                async def store(conn: Direct, sink: str = sink, after: int = after) -> None:
                    await feed.store_cursor(conn, sink, after)

                await self._db.run("feed", store)
                cursor.settled(feed.Settling(after, Counter()))

    async def settle_failures(
        self, retries: Sequence[Retry], dead: Sequence[tuple[OutboxItem, str]]
    ) -> None:
        """Deliveries that failed: try each again later, or give up (dead letter). A
        report from the feed becomes a row here, in the transaction that settles it."""
        if not retries and not dead:
            return
        reports: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in [r.item for r in retries] + [item for item, _ in dead]:
            if item.report:
                reports[item.sink].append(item)
        settling = self._settling(reports)
        failed = [(r.item, r.at, r.error, 0) for r in retries] + [
            (item, item.created_at, error, 1) for item, error in dead
        ]

        async def body(conn: Direct) -> None:
            await conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                [(r.at, r.error[:500], r.item.event_id, r.item.sink) for r in retries
                 if not r.item.report],
            )  # fmt: skip
            await conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, dead = 1, lease_until = 0,"
                " lease_owner = NULL, last_error = ? WHERE event_id = ? AND sink = ?",
                [(error[:500], item.event_id, item.sink) for item, error in dead
                 if not item.report],
            )  # fmt: skip
            await conn.executemany(
                "INSERT OR IGNORE INTO outbox (event_id, sink, priority, created_at,"
                " next_attempt_at, attempts, last_error, dead, type, body)"
                " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                [(item.event_id, item.sink, item.priority, item.created_at, at, error[:500],
                  gone, item.type, item.raw) for item, at, error, gone in failed
                 if item.report],
            )  # fmt: skip
            await self._store_cursors(conn, settling)

        await self._db.run("settle", body)
        await self._settled(settling)

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
            found = {(row[0], bool(row[1])): row[2] async for row in cursor}
        for sink, (count, _) in (await self._feed_owed()).items():
            found[(sink, False)] = found.get((sink, False), 0) + count
        return found

    async def _feed_owed(self) -> dict[str, tuple[int, float | None]]:
        async with self._db.reader.execute(feed.PENDING) as cursor:
            return feed.owed(list(await cursor.fetchall()))

    async def backlog(self) -> dict[str, tuple[int, float | None]]:
        """Live (not dead-lettered) deliveries per sink, the feed's reports included, and
        when the oldest of them was created."""
        async with self._db.reader.execute(
            "SELECT sink, count(*), min(created_at) FROM outbox WHERE dead = 0 GROUP BY sink"
        ) as cursor:
            found = {row[0]: (row[1], row[2]) async for row in cursor}
        for sink, (count, oldest) in (await self._feed_owed()).items():
            if not count:
                continue
            rows, first = found.get(sink, (0, None))
            times = [t for t in (first, oldest) if t is not None]
            found[sink] = (rows + count, min(times) if times else None)
        return found

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
