"""One intake batch: route → plan → store (one commit) → acks. In that order, always.

Failure policy: a batch that makes intake raise (a bug, a poison payload) is taken
apart and its messages handled one by one, so the rest are stored and acknowledged; a
message that fails alone is set aside in the ``quarantine`` table (counted, logged, kept
for inspection) and dropped on sight from then on, so a terminal that keeps
retransmitting it cannot make the gateway fail again. Only when nothing can be written
— not even the message being set aside — does the error leave intake (the store is
unusable: the process ends and its supervisor restarts it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from gateway import metrics
from gateway.config import RulesConfig
from gateway.core.intake import plan_intake
from gateway.errors import StoreFull, StoreReadOnly
from gateway.intake.router import Raw, Router
from gateway.registry import Terminal
from gateway.store.db import Database
from gateway.store.intake import StageUpdate, apply_plan
from gateway.store.quarantine import Quarantine, digest

log = logging.getLogger(__name__)


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
        on_new_events: Callable[[int], None],
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
        self._quarantine = Quarantine(db)
        self._poison: set[str] = set()

    async def prepare(self) -> None:
        """Remember the messages set aside before (so they are dropped on sight)."""
        self._poison |= await self._quarantine.digests()

    async def handle(self, raws: list[Raw]) -> None:
        raws = self._screen(raws)
        if not raws:
            return
        try:
            await self._process(raws)
        except (StoreFull, StoreReadOnly):
            raise  # the store, not a message: no message is to blame
        except Exception as exc:  # the per-batch guard: find the message that breaks it
            metrics.INTAKE_FAILURES.inc()
            log.exception("intake failed on a batch of %d (%s); handling its messages one by"
                          " one", len(raws), type(exc).__name__)  # fmt: skip
            await self._isolate(raws)

    def _screen(self, raws: list[Raw]) -> list[Raw]:
        if not self._poison:
            return raws
        kept = [raw for raw in raws if digest(raw.topic, raw.payload) not in self._poison]
        if len(kept) < len(raws):
            metrics.QUARANTINED.labels("repeat").inc(len(raws) - len(kept))
        return kept

    async def _isolate(self, raws: list[Raw]) -> None:
        for raw in raws:
            try:
                await self._process([raw])
            except (StoreFull, StoreReadOnly):
                raise
            except Exception as exc:  # the per-message guard
                key = await self._quarantine.set_aside(
                    raw.topic, raw.payload, f"{type(exc).__name__}: {exc}", self._clock()
                )
                self._poison.add(key)
                metrics.QUARANTINED.labels("new").inc()
                log.error("set aside a message on %s that intake cannot handle (%s: %s);"
                          " digest %s", raw.topic[:120], type(exc).__name__, exc, key,
                          exc_info=True)  # fmt: skip

    async def _process(self, raws: list[Raw]) -> None:
        now = self._clock()
        metrics.BATCH_SIZE.observe(len(raws))
        messages = self._router.route(raws, now)
        if not messages:
            return
        plan = plan_intake(messages, self._registry, self._rules, now)
        for row in plan.alerts:
            if row.origin == "terminal":  # pressed (not raised from vitals): ts is the press
                metrics.ALERT_AGE_SECONDS.observe(max(0.0, now - row.pressed_at))
        with metrics.BATCH_SECONDS.time():
            result = await apply_plan(self._db, plan, self._sinks, now)
        for row in result.new_alerts:
            metrics.ALERTS.labels(row.kind, row.origin).inc()
        duplicates = len(plan.alerts) - len(result.new_alerts)
        if duplicates > 0:
            metrics.DUPLICATES.inc(duplicates)
        if result.urgent is not None:
            self._on_new_events(result.urgent)
        await self._acks.submit(result.acks)
