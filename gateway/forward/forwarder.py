"""Store-and-forward: drain one sink's outbox, alerts first, with retries.

Rows leave the outbox only after the sink confirmed them. A failed delivery is retried
with the shared backoff until ``retry_for_s`` after the event was created, then
dead-lettered (kept, counted and listed in the API for a person to retry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from gateway import metrics
from gateway.core.backoff import Backoff
from gateway.errors import DeliveryError, PermanentDeliveryError
from gateway.store.outbox import Outbox, OutboxItem

log = logging.getLogger(__name__)

IDLE_POLL_S = 5.0


class Sink(Protocol):
    name: str

    async def deliver(self, item: OutboxItem) -> None:
        """Return once the receiver confirmed; raise DeliveryError otherwise."""


OnDelivered = Callable[[Sequence[OutboxItem]], Awaitable[None]]


class Forwarder:
    """Drains ``outbox`` into ``sink`` with ``concurrency`` deliveries in flight."""

    def __init__(
        self,
        sink: Sink,
        outbox: Outbox,
        *,
        concurrency: int,
        lease_s: float,
        retry_for_s: float,
        backoff: Backoff,
        on_delivered: OnDelivered | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sink = sink
        self._outbox = outbox
        self._concurrency = concurrency
        self._lease_s = lease_s
        self._retry_for_s = retry_for_s
        self._backoff = backoff
        self._on_delivered = on_delivered
        self._clock = clock
        self._wake = asyncio.Event()
        self._failing = False

    @property
    def sink_name(self) -> str:
        return self._sink.name

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            items = await self._outbox.claim(
                self._sink.name, self._concurrency, self._clock(), self._lease_s
            )
            if items:
                await self._deliver_all(items)
                continue
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        due = await self._outbox.next_due(self._sink.name)
        wait = IDLE_POLL_S if due is None else min(IDLE_POLL_S, max(0.0, due - self._clock()))
        try:
            async with asyncio.timeout(wait):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _deliver_all(self, items: list[OutboxItem]) -> None:
        results = await asyncio.gather(*(self._attempt(item) for item in items))
        delivered = [item for item, ok in zip(items, results, strict=True) if ok]
        if not delivered:
            self._failing = True
            return
        await self._outbox.mark_delivered(self._sink.name, [i.event_id for i in delivered])
        if self._failing:
            # The receiver is back: everything backing off goes now, not in minutes.
            self._failing = False
            await self._outbox.expedite(self._sink.name, self._clock())
        now = self._clock()
        for item in delivered:
            metrics.DELIVERY_SECONDS.labels(self._sink.name).observe(
                max(0.0, now - item.created_at)
            )
        if self._on_delivered is not None:
            await self._on_delivered(delivered)

    async def _attempt(self, item: OutboxItem) -> bool:
        name = self._sink.name
        try:
            await self._sink.deliver(item)
        except PermanentDeliveryError as exc:
            metrics.DELIVERIES.labels(name, "rejected").inc()
            log.error("%s refused event %s for good: %s", name, item.event_id, exc)
            await self._outbox.dead_letter(item, str(exc))
            return False
        except DeliveryError as exc:
            await self._retry_later(item, str(exc))
            return False
        metrics.DELIVERIES.labels(name, "ok").inc()
        return True

    async def _retry_later(self, item: OutboxItem, error: str) -> None:
        name = self._sink.name
        now = self._clock()
        if now - item.created_at >= self._retry_for_s:
            metrics.DELIVERIES.labels(name, "dead").inc()
            log.error("giving up on %s to %s after %d attempts: %s", item.event_id, name,
                      item.attempts + 1, error)  # fmt: skip
            await self._outbox.dead_letter(item, error)
            return
        metrics.DELIVERIES.labels(name, "retry").inc()
        if item.attempts == 0:
            log.warning("delivery of %s to %s failed, will retry: %s", item.event_id, name, error)
        await self._outbox.reschedule(item, now + self._backoff.delay(item.attempts), error)
