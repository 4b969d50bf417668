"""Events and their outbox rows, written inside the caller's transaction.

An event is inserted once; its outbox rows (one per sink) only when the event is new,
so a retransmitted alert whose delivery already completed is never delivered again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import aiosqlite

from gateway.core.events import Event, compact_json

if TYPE_CHECKING:
    from gateway.store.db import Database


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


async def existing_ids(conn: aiosqlite.Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of ``event_ids`` are already stored."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        query = f"SELECT event_id FROM events WHERE event_id IN ({_placeholders(len(chunk))})"
        async with conn.execute(query, chunk) as cursor:
            found.update([row[0] async for row in cursor])
    return found


async def insert_events(
    conn: aiosqlite.Connection, events: Sequence[Event], sinks: Sequence[str], now: float
) -> list[Event]:
    """Insert new events and their outbox rows; return the events that were new."""
    if not events:
        return []
    if not sinks:
        # Nothing to forward to: a health report's event would never be dropped.
        events = [e for e in events if e.type != "health"]
    known = await existing_ids(conn, [e.event_id for e in events])
    fresh: dict[str, Event] = {}
    for event in events:
        if event.event_id not in known:
            fresh.setdefault(event.event_id, event)
    await conn.executemany(
        "INSERT OR IGNORE INTO events (event_id, type, priority, occurred_at, source, body,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (e.event_id, e.type, int(e.priority), e.occurred_at, e.source,
             compact_json(e.to_json()), now)
            for e in fresh.values()
        ],
    )  # fmt: skip
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (event_id, sink, priority, created_at, next_attempt_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(e.event_id, sink, int(e.priority), now, now) for e in fresh.values() for sink in sinks],
    )
    return list(fresh.values())


class StoredEvents:
    """The :class:`~gateway.core.events.EventSink` for components that raise events
    on their own (the camera monitor): one transaction per batch, then a wake-up."""

    def __init__(
        self, db: Database, sinks: Sequence[str], on_new: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:  # fmt: skip
        self._db = db
        self._sinks = list(sinks)
        self._on_new = on_new
        self._clock = clock

    async def emit(self, events: Sequence[Event]) -> None:
        async with self._db.transaction() as conn:
            fresh = await insert_events(conn, events, self._sinks, self._clock())
        if fresh:
            self._on_new()
