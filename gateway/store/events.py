"""Events and their outbox rows, written inside the caller's transaction.

An event is inserted once; its outbox rows (one per sink) only when the event is new,
so a retransmitted alert whose delivery already completed is never delivered again. A
new health report's event is owed through the health feed (:mod:`gateway.store.feed`);
one that is an outbox row all the same (its delivery failed, or it was owed when the file
was upgraded) lives only in its outbox rows (see :func:`insert_events`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gateway.core.events import Event, compact_json
from gateway.store.direct import Conn

if TYPE_CHECKING:
    from gateway.store.db import Database


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


#: Events per INSERT statement (seven parameters each, well under SQLite's limit).
_CHUNK = 1000


async def _insert_new(conn: Conn, events: Sequence[Event], now: float) -> set[str]:
    """Insert the events not stored yet; return the ids of those that were new."""
    fresh: set[str] = set()
    for start in range(0, len(events), _CHUNK):
        chunk = events[start : start + _CHUNK]
        rows = await conn.execute_fetchall(
            "INSERT INTO events (event_id, type, priority, occurred_at, source, body, created_at)"
            f" VALUES {','.join(['(?,?,?,?,?,?,?)'] * len(chunk))}"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            [value for e in chunk for value in
             (e.event_id, e.type, int(e.priority), e.occurred_at, e.source,
              compact_json(e.to_json()), now)],
        )  # fmt: skip
        fresh.update(row[0] for row in rows)
    return fresh


async def insert_events(
    conn: Conn, events: Sequence[Event], sinks: Sequence[str], now: float
) -> list[Event]:
    """Insert new events and their outbox rows; return the events that were new.

    A health report's event is not a row of ``events``: its body travels in its outbox
    rows. (Intake does not pass new reports' events here: they are owed through the
    health feed.)
    """
    if not sinks:
        # Nothing to forward to: a health report's event would never be dropped.
        events = [e for e in events if e.type != "health"]
    unique = list({e.event_id: e for e in reversed(events)}.values())[::-1]
    if not unique:
        return []
    kept = [e for e in unique if e.type != "health"]
    fresh_ids = await _insert_new(conn, kept, now) if kept else set()
    fresh = [e for e in unique if e.type == "health" or e.event_id in fresh_ids]
    rows: list[tuple[Any, ...]] = []
    for e in fresh:
        carried = (e.type, compact_json(e.to_json())) if e.type == "health" else (None, None)
        rows.extend((e.event_id, sink, int(e.priority), now, now, *carried) for sink in sinks)
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (event_id, sink, priority, created_at, next_attempt_at,"
        " type, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return fresh


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
        async with self._db.transaction("emit") as conn:
            fresh = await insert_events(conn, events, self._sinks, self._clock())
        if fresh:
            self._on_new()
