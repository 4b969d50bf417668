"""Keeping the file bounded: old reports folded into daily summaries, old rows dropped.

Everything is done in short transactions of at most :data:`CHUNK` rows, so the writer
lock is never held long enough to delay an alarm's commit. What is kept for good:
alarms, their timelines and the audit log (a district's alarm record is small and is the
record an inquiry asks for).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from gateway import metrics
from gateway.config import StoreConfig
from gateway.store import health
from gateway.store.db import Database

log = logging.getLogger(__name__)

DAY_S = 86_400.0
#: Rows per transaction.
CHUNK = 5_000


class Retention:
    """``run()`` applies the store's retention every ``retention_interval_s``."""

    def __init__(
        self, db: Database, cfg: StoreConfig, clock: Callable[[], float] = time.time,
        sinks: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """``sinks``: where events are forwarded; reports still owed to one are kept."""
        self._db = db
        self._cfg = cfg
        self._clock = clock
        self._sinks = list(sinks)

    async def run(self) -> None:
        while True:
            await self.apply()
            await asyncio.sleep(self._cfg.retention_interval_s)

    async def apply(self) -> dict[str, int]:
        """One pass until nothing is left to do; returns rows handled per table."""
        now = self._clock()
        done = {
            "health": await self._repeat(
                lambda: health.fold_old(
                    self._db, now - self._cfg.health_raw_days * DAY_S, CHUNK, self._sinks
                )
            ),
            "health_daily": await self._repeat(lambda: self._drop_old_summaries(now)),
            "events": await self._repeat(lambda: self._drop_old_events(now)),
        }
        for table, count in done.items():
            if count:
                metrics.RETENTION_ROWS.labels(table).inc(count)
        if any(done.values()):
            log.info("retention: %s", ", ".join(f"{t} {n}" for t, n in done.items() if n))
        return done

    @staticmethod
    async def _repeat(step: Callable[[], Awaitable[int]]) -> int:
        total = 0
        while True:
            count = await step()
            total += count
            if count < CHUNK:
                return total
            await asyncio.sleep(0)  # let intake in between chunks

    async def _drop_old_summaries(self, now: float) -> int:
        oldest_day = int((now - self._cfg.health_daily_days * DAY_S) // DAY_S)
        async with self._db.transaction("retention") as conn:
            cursor = await conn.execute(
                "DELETE FROM health_daily WHERE (terminal_id, day) IN (SELECT terminal_id, day"
                " FROM health_daily WHERE day < ? ORDER BY day LIMIT ?)",
                (oldest_day, CHUNK),
            )
            return max(cursor.rowcount, 0)

    async def _drop_old_events(self, now: float) -> int:
        """Events past ``events_days`` that no sink still owes (dead letters stay)."""
        async with self._db.transaction("retention") as conn:
            cursor = await conn.execute(
                "DELETE FROM events WHERE event_id IN (SELECT event_id FROM events"
                " WHERE type <> 'health' AND created_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM outbox WHERE outbox.event_id = events.event_id)"
                " ORDER BY created_at LIMIT ?)",
                (now - self._cfg.events_days * DAY_S, CHUNK),
            )
            return max(cursor.rowcount, 0)
