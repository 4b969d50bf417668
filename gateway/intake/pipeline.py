"""One intake batch: route → plan → store (one commit) → acks. In that order, always."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from gateway import metrics
from gateway.config import RulesConfig
from gateway.core.intake import plan_intake
from gateway.intake.router import Raw, Router
from gateway.registry import Terminal
from gateway.store.db import Database
from gateway.store.intake import StageUpdate, apply_plan


class AckSink(Protocol):
    """What the pipeline hands acks to (the AckPublisher, or a fake in tests)."""

    async def submit(self, updates: Sequence[StageUpdate]) -> None: ...


class Intake:
    """Handles batches from the broker link."""

    def __init__(
        self,
        registry: Mapping[str, Terminal],
        rules: RulesConfig,
        db: Database,
        sinks: Sequence[str],
        acks: AckSink,
        on_new_events: Callable[[], None],
        clock: Callable[[], float] = time.time,
        bridged: bool = False,
    ) -> None:
        self._router = Router(registry, bridged)
        self._registry = registry
        self._rules = rules
        self._db = db
        self._sinks = list(sinks)
        self._acks = acks
        self._on_new_events = on_new_events
        self._clock = clock

    async def handle(self, raws: list[Raw]) -> None:
        now = self._clock()
        metrics.BATCH_SIZE.observe(len(raws))
        messages = self._router.route(raws, now)
        if not messages:
            return
        plan = plan_intake(messages, self._registry, self._rules, now)
        with metrics.BATCH_SECONDS.time():
            result = await apply_plan(self._db, plan, self._sinks, now)
        for row in result.new_alerts:
            metrics.ALERTS.labels(row.kind, row.origin).inc()
        duplicates = len(plan.alerts) - len(result.new_alerts)
        if duplicates > 0:
            metrics.DUPLICATES.inc(duplicates)
        if result.new_events:
            self._on_new_events()
        await self._acks.submit(result.acks)
