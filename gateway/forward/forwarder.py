"""Store-and-forward: long-lived delivery workers drain one sink's outbox in batches.

::

    outbox ─claim (lease)─▶ lane dispatcher ─batch─▶ worker × N ─▶ sink ─▶ confirm (one commit)
                                                                      └─▶ retry later / dead letter

Each lane has one dispatcher. It claims a batch only when one of its workers is free, so
claims never stampede the database, and a slow or hung response holds back only the one
worker waiting for it. The *alarm* lane claims nothing but alarms and never waits to
fill a batch; the *general* lane claims everything (alarms first) and, after a short
claim, lingers a moment so that telemetry goes out in full batches instead of one
request per report.

Rows leave the outbox only after the sink confirmed them (:meth:`Outbox.confirm`, one
transaction with the alerts' ``delivered`` stage). A failed delivery is retried with the
shared backoff until ``retry_for_s`` after the event was created, then dead-lettered
(kept, counted and listed in the API for a person to retry).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway import metrics
from gateway.core.backoff import Backoff
from gateway.core.events import Priority
from gateway.errors import DeliveryError, PermanentDeliveryError
from gateway.intake.pipeline import AckSink
from gateway.store.outbox import MAX_PRIORITY, Outbox, OutboxItem, Retry

log = logging.getLogger(__name__)

IDLE_POLL_S = 5.0
#: After an unexpected error (a bug) a worker's batch waits this long, so it cannot spin.
BUG_RETRY_S = 30.0

Failures = Mapping[str, DeliveryError]
Batches = asyncio.Queue[list[OutboxItem]]


class Meter(Protocol):
    """Where a forwarder counts what it did: this process's /metrics, or (in a
    forwarding process of its own) the pipe to the gateway that serves them."""

    def batch(self, sink: str, size: int) -> None:
        """One delivery of ``size`` events was sent."""

    def outcome(self, sink: str, outcome: str, count: int) -> None:
        """``count`` events ended one attempt as ``outcome`` (ok, retry, rejected, dead,
        error)."""

    def delivered(self, sink: str, ages: Sequence[float]) -> None:
        """Events were confirmed ``ages`` seconds after they were created."""


class PrometheusMeter:
    """Counts into this process's metrics."""

    def batch(self, sink: str, size: int) -> None:
        metrics.DELIVERY_BATCH.labels(sink).observe(size)

    def outcome(self, sink: str, outcome: str, count: int) -> None:
        metrics.DELIVERIES.labels(sink, outcome).inc(count)

    def delivered(self, sink: str, ages: Sequence[float]) -> None:
        histogram = metrics.DELIVERY_SECONDS.labels(sink)
        for age in ages:
            histogram.observe(age)


class Sink(Protocol):
    """Where events go. ``deliver`` returns the items it could *not* deliver."""

    name: str

    async def deliver(self, items: Sequence[OutboxItem]) -> Failures:
        """Send ``items``; return ``{event_id: error}`` for each one not confirmed
        (empty: the receiver confirmed them all)."""
        ...


@dataclass(frozen=True, slots=True)
class Lane:
    """A dispatcher and its workers: which rows they claim and how they batch them."""

    name: str
    workers: int
    batch_max: int
    max_priority: int = MAX_PRIORITY
    linger_s: float = 0.0


def lanes(workers: int, alarm_workers: int, batch_max: int, linger_s: float) -> list[Lane]:
    """The usual pair: alarms only, at once; and everything, lingering for full batches."""
    return [
        Lane("alarms", alarm_workers, batch_max, max_priority=Priority.ALERT),
        Lane("general", workers, batch_max, linger_s=linger_s),
    ]


class Forwarder:
    """Drains ``outbox`` into ``sink``; ``confirms_terminals``: this sink's confirmation
    is what moves alarms to ``delivered`` (and tells their terminals through ``acks``)."""

    def __init__(
        self,
        sink: Sink,
        outbox: Outbox,
        *,
        acks: AckSink,
        confirms_terminals: bool,
        lease_s: float,
        retry_for_s: float,
        backoff: Backoff,
        lanes: Sequence[Lane] = (Lane("general", 1, 1),),
        clock: Callable[[], float] = time.time,
        meter: Meter | None = None,
    ) -> None:
        self._sink = sink
        self._meter: Meter = meter or PrometheusMeter()
        self._outbox = outbox
        self._acks = acks
        self._confirms = confirms_terminals
        self._lease_s = lease_s
        self._retry_for_s = retry_for_s
        self._backoff = backoff
        self._lanes = list(lanes)
        self._clock = clock
        self._wakes = [asyncio.Event() for _ in self._lanes]
        self._failing = False

    @property
    def sink_name(self) -> str:
        return self._sink.name

    def wake(self, priority: int | None = None) -> None:
        """New rows were committed: look now instead of at the next poll. With
        ``priority`` (the most urgent of the new rows) only the lanes that carry it look:
        a commit of health reports does not make the alarm lane claim."""
        for lane, event in zip(self._lanes, self._wakes, strict=True):
            if priority is None or priority <= lane.max_priority:
                event.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for lane, wake in zip(self._lanes, self._wakes, strict=True):
                batches: Batches = asyncio.Queue(lane.workers)
                free = asyncio.Semaphore(lane.workers)
                name = f"forward-{self._sink.name}-{lane.name}"
                tg.create_task(self._dispatch(lane, wake, batches, free), name=name)
                for n in range(lane.workers):
                    tg.create_task(self._work(batches, free), name=f"{name}-{n}")

    async def _dispatch(
        self, lane: Lane, wake: asyncio.Event, batches: Batches, free: asyncio.Semaphore
    ) -> None:
        """Claim a batch whenever a worker is free; sleep when nothing is due."""
        while True:
            await free.acquire()
            wake.clear()
            batch = await self._outbox.claim(
                self._sink.name,
                lane.batch_max,
                self._clock(),
                self._lease_s,
                lane.max_priority,
                feed_too=not self._failing,  # while failing, the reports wait in the feed
            )
            if not batch:
                free.release()
                await self._sleep_until_due(lane, wake)
                continue
            batches.put_nowait(batch)
            if len(batch) < lane.batch_max and lane.linger_s > 0:
                await asyncio.sleep(lane.linger_s)

    async def _sleep_until_due(self, lane: Lane, wake: asyncio.Event) -> None:
        due = await self._outbox.next_due(self._sink.name, lane.max_priority)
        wait = IDLE_POLL_S if due is None else min(IDLE_POLL_S, max(0.0, due - self._clock()))
        try:
            async with asyncio.timeout(wait):
                await wake.wait()
        except TimeoutError:
            pass

    async def _work(
        self, batches: asyncio.Queue[list[OutboxItem]], free: asyncio.Semaphore
    ) -> None:
        """One long-lived worker: take a batch, send it, settle it; forever."""
        while True:
            batch = await batches.get()
            try:
                await self._deliver(batch)
            except Exception:  # per-batch guard: a bug must not stop forwarding
                self._meter.outcome(self._sink.name, "error", len(batch))
                log.exception("forwarding %d events to %s failed", len(batch), self._sink.name)
                await self._settle({i.event_id: DeliveryError("internal error") for i in batch},
                                   batch, delay_s=BUG_RETRY_S)  # fmt: skip
            finally:
                free.release()

    async def _deliver(self, batch: list[OutboxItem]) -> None:
        self._meter.batch(self._sink.name, len(batch))
        failures = dict(await self._sink.deliver(batch))
        if len(batch) > 1 and any(_permanent(e) for e in failures.values()):
            # One bad event must not sink its batch: send the refused ones alone.
            for item in [i for i in batch if _permanent(failures.get(i.event_id))]:
                failures.pop(item.event_id)
                failures.update(await self._sink.deliver([item]))
        delivered = [item for item in batch if item.event_id not in failures]
        await self._confirm(delivered)
        await self._settle(failures, batch)

    async def _confirm(self, delivered: list[OutboxItem]) -> None:
        if not delivered:
            return
        name = self._sink.name
        moved = await self._outbox.confirm(name, delivered, self._clock(), advance=self._confirms)
        self._meter.outcome(name, "ok", len(delivered))
        now = self._clock()
        self._meter.delivered(name, [max(0.0, now - item.created_at) for item in delivered])
        if self._failing:
            # The receiver is back: everything backing off goes now, not in minutes.
            self._failing = False
            await self._outbox.expedite(name, now)
            self.wake()
        await self._acks.submit(moved)

    async def _settle(
        self, failures: Failures, batch: Sequence[OutboxItem], delay_s: float | None = None
    ) -> None:
        if not failures:
            return
        if len(failures) == len(batch):
            self._failing = True
        now = self._clock()
        retries: list[Retry] = []
        refused: list[tuple[OutboxItem, str]] = []
        expired: list[tuple[OutboxItem, str]] = []
        for item in batch:
            error = failures.get(item.event_id)
            if error is None:
                continue
            if _permanent(error):
                refused.append((item, str(error)))
            elif now - item.created_at >= self._retry_for_s:
                expired.append((item, str(error)))
            else:
                wait = self._backoff.delay(item.attempts) if delay_s is None else delay_s
                retries.append(Retry(item, now + wait, str(error)))
        await self._outbox.settle_failures(retries, [*refused, *expired])
        self._report(retries, refused, expired)

    def _report(
        self, retries: Sequence[Retry], refused: Sequence[tuple[OutboxItem, str]],
        expired: Sequence[tuple[OutboxItem, str]],
    ) -> None:  # fmt: skip
        """Count every failed delivery. Dead letters are logged one by one (a person must
        look at each); retries once per batch, when they are an event's first failure."""
        name = self._sink.name
        for outcome, items in (("retry", retries), ("rejected", refused), ("dead", expired)):
            if items:
                self._meter.outcome(name, outcome, len(items))
        for item, error in refused:
            log.error("%s refused event %s for good: %s", name, item.event_id, error)
        for item, error in expired:
            log.error("giving up on %s to %s after %d attempts: %s", item.event_id, name,
                      item.attempts + 1, error)  # fmt: skip
        first = [r for r in retries if r.item.attempts == 0]
        if first:
            log.warning("delivery of %d events to %s failed (first %s), will retry: %s",
                        len(first), name, first[0].item.event_id, first[0].error)  # fmt: skip


def _permanent(error: DeliveryError | None) -> bool:
    return isinstance(error, PermanentDeliveryError)
