"""Periodic sweep of terminal state: offline, restored, flapping, missed self-tests.

The decisions are :func:`gateway.core.supervision.step`; this module reads the rows that
may change, writes the new state and the events in one transaction. Event ids carry
the transition time, so two gateway processes sweeping together raise each event once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple

from gateway import metrics
from gateway.config import SupervisionConfig
from gateway.core.events import Event, Priority
from gateway.core.supervision import TerminalRow, step
from gateway.registry import Terminal
from gateway.store.db import Database
from gateway.store.events import insert_events

log = logging.getLogger(__name__)

_COLUMNS = (
    "terminal_id, last_seen, online, reported_offline, will_at, offline_at, flap_penalty,"
    " flap_at, muted, last_selftest_at, selftest_missed"
)


# The terminals that may change state, each set through its own (partial) index, so a
# sweep reads what changes rather than the whole fleet: silent for the reporting time;
# a last will not yet acted on; offline but heard from since; muted flappers; self-test
# overdue. UNION drops a terminal that is in two sets. INDEXED BY, because without
# statistics SQLite would rather walk every online terminal for the second set.
CANDIDATES = " UNION ".join(
    f"SELECT {_COLUMNS} FROM terminal_state INDEXED BY {index} WHERE {condition}"
    for index, condition in (
        ("terminal_state_by_seen", "online = 1 AND last_seen < ?1"),
        ("terminal_state_will", "will_at IS NOT NULL AND online = 1"),
        ("terminal_state_back", "online = 0 AND will_at IS NULL AND last_seen > offline_at"),
        ("terminal_state_muted", "muted = 1"),
        ("terminal_state_selftest", "selftest_missed = 0 AND last_selftest_at < ?2"),
    )
)
#: The offline gauge counts every offline terminal: refreshed every this many sweeps
#: (and whenever a sweep changed something), not on every one.
OFFLINE_COUNT_EVERY = 12


class Supervisor:
    """``run()`` sweeps every ``sweep_interval_s``."""

    def __init__(
        self,
        db: Database,
        registry: Mapping[str, Terminal],
        cfg: SupervisionConfig,
        sinks: Sequence[str],
        on_new_events: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._registry = registry
        self._cfg = cfg
        self._sinks = list(sinks)
        self._on_new_events = on_new_events
        self._clock = clock
        self._sweeps = 0

    async def run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self._cfg.sweep_interval_s)

    async def sweep(self) -> int:
        """One pass; returns the number of events raised."""
        now = self._clock()
        cfg = self._cfg
        due = cfg.selftest_interval_s + cfg.selftest_grace_s
        async with self._db.transaction("supervision") as conn:
            async with conn.execute(CANDIDATES, (now - cfg.reporting_time_s, now - due)) as cursor:
                rows = [TerminalRow(*row) async for row in cursor]
            changed, events = self._decide(rows, now)
            await conn.executemany(
                f"UPDATE terminal_state SET ({_COLUMNS}) = ({','.join('?' * 11)})"
                " WHERE terminal_id = ?",
                [(*astuple(row), row.terminal_id) for row in changed],
            )
            await insert_events(conn, events, self._sinks, now)
        self._sweeps += 1
        if self._sweeps % OFFLINE_COUNT_EVERY == 1 or changed:
            await self._count_offline()
        if events:
            self._on_new_events()
        return len(events)

    async def _count_offline(self) -> None:
        async with self._db.reader.execute(
            "SELECT count(*) FROM terminal_state WHERE online = 0"
        ) as cursor:
            row = await cursor.fetchone()
        metrics.TERMINALS_OFFLINE.set(row[0] if row else 0)

    def _decide(self, rows: list[TerminalRow], now: float) -> tuple[list[TerminalRow], list[Event]]:
        changed, events = [], []
        for row in rows:
            if row.terminal_id not in self._registry:
                continue  # removed from the registry: nobody is to be told about it
            new, raised = step(row, now, self._cfg)
            if new != row:
                changed.append(new)
            for kind in raised:
                metrics.TERMINAL_EVENTS.labels(kind).inc()
                events.append(self._event(new, kind, now))
        return changed, events

    def _event(self, row: TerminalRow, kind: str, now: float) -> Event:
        terminal = self._registry.get(row.terminal_id)
        region = terminal.region if terminal else ()
        moments = {"terminal.restored": now, "terminal.selftest_missed": row.last_selftest_at}
        stamp = int(moments.get(kind, row.offline_at) or now)
        return Event(
            event_id=f"{kind}:{row.terminal_id}:{stamp}",
            type=kind,
            priority=Priority.SUPERVISION,
            occurred_at=now,
            source=row.terminal_id,
            region=region,
            data={
                "terminal_id": row.terminal_id,
                "last_seen": row.last_seen,
                "elder": {"name": terminal.elder_name} if terminal else {},
            },
        )
