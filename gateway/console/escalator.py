"""Raises the escalation level of alarms nobody accepted in time.

Every sweep reads the unaccepted alarms old enough for some rule, asks
:func:`gateway.core.escalation.due_level` where each should be, and raises those behind
with ``UPDATE … WHERE escalation_level < ?``: a level only rises, so several gateway
processes sweeping the same file write each escalation once. Each one adds an
``escalated`` timeline entry, bumps ``updated_at`` so the live feed shows it, and raises
an ``alert.escalated`` event for the command center in the same commit. Service requests
(meal, errand …) are not emergencies and never escalate by age.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from gateway.console import metrics
from gateway.core.escalation import EscalationRule, due_level, first_after_s, level_name, top_level
from gateway.errors import StoreError
from gateway.store.db import Database
from gateway.store.escalations import raise_level

log = logging.getLogger(__name__)

ACTOR = "escalator"
#: Escalations written per transaction.
CHUNK = 100
#: Up to this many escalations in one sweep are logged one by one; more, as a count.
LOG_EACH = 20


@dataclass(frozen=True, slots=True)
class Escalation:
    terminal_id: str
    alert_id: str
    level: int
    name: str


class Escalator:
    """``await run()`` sweeps every ``interval_s`` until cancelled."""

    def __init__(
        self, db: Database, rules: Sequence[EscalationRule],
        clock: Callable[[], float] = time.time, interval_s: float = 1.0, *,
        sinks: Sequence[str] = (), on_new_events: Callable[[], None] = lambda: None,
        exclude_kinds: Collection[str] = (),
    ) -> None:  # fmt: skip
        self._db = db
        self._rules = tuple(rules)
        self._clock = clock
        self._interval = interval_s
        self._sinks = list(sinks)
        self._on_new_events = on_new_events
        self._skipped = ("test", "cancel", *sorted(exclude_kinds))

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except (StoreError, sqlite3.Error) as exc:  # the next sweep retries
                metrics.ESCALATION_ERRORS.inc()
                log.warning("escalation sweep failed: %s", exc)
            await asyncio.sleep(self._interval)

    async def sweep(self) -> list[Escalation]:
        """One pass; returns the escalations this process wrote."""
        now = self._clock()
        return await self.apply(await self.due(now), now)

    async def due(self, now: float) -> list[Escalation]:
        """Unaccepted alarms whose level is behind their age."""
        youngest = first_after_s(self._rules)
        if youngest is None:
            return []
        due = []
        async with self._db.reader.execute(
            "SELECT terminal_id, alert_id, stage, received_at, escalation_level FROM alerts"
            " WHERE stage_rank < 2 AND received_at <= ? AND escalation_level < ?"
            f" AND kind NOT IN ({','.join('?' * len(self._skipped))})",
            (now - youngest, top_level(self._rules), *self._skipped),
        ) as cursor:
            async for row in cursor:
                level = due_level(now - row["received_at"], row["stage"], self._rules)
                if level > row["escalation_level"]:
                    name = level_name(level, self._rules) or str(level)
                    due.append(Escalation(row["terminal_id"], row["alert_id"], level, name))
        return due

    async def apply(self, due: Sequence[Escalation], now: float) -> list[Escalation]:
        """Raise each alarm still behind (and unaccepted); return those this call raised.

        In chunks, one short transaction each, so that escalating an alarm storm never
        holds the write lock long enough to delay the intake of new alarms."""
        done: list[Escalation] = []
        for start in range(0, len(due), CHUNK):
            done += await self._apply_chunk(due[start : start + CHUNK], now)
        for item in done:
            metrics.ESCALATIONS.labels(str(item.level)).inc()
        if 0 < len(done) <= LOG_EACH:
            for item in done:
                log.info("alarm %s/%s escalated to %s", item.terminal_id, item.alert_id, item.name)
        elif done:
            log.info("%d alarms escalated", len(done))
        return done

    async def _apply_chunk(self, chunk: Sequence[Escalation], now: float) -> list[Escalation]:
        done = []
        async with self._db.transaction() as conn:
            for item in chunk:
                raised = await raise_level(
                    conn, item.terminal_id, item.alert_id, item.level, item.name, actor=ACTOR,
                    reason="not accepted in time", sinks=self._sinks, now=now,
                )  # fmt: skip
                if raised:  # else accepted meanwhile, or another process was first
                    done.append(item)
        if done and self._sinks:
            self._on_new_events()
        return done
