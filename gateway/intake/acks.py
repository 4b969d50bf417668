"""Publishing ack stages to terminals, from a bounded queue, many in flight at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from firmware_protocol.codec import encode_ack
from firmware_protocol.messages import Ack
from firmware_protocol.topics import Channel
from gateway import metrics
from gateway.logonce import LogOnce
from gateway.store.intake import StageUpdate
from gateway.zones import Downlinks, Publisher, Unroutable

log = logging.getLogger(__name__)

ClientSource = Callable[[], Awaitable[Publisher]]
#: How long one ack may take to be confirmed by the broker (PUBACK) before it is left to
#: the resender: a publish in flight when a connection drops is never confirmed.
PUBLISH_TIMEOUT_S = 10.0
Confirm = Callable[[Sequence[StageUpdate]], Awaitable[None]]


class AckPublisher:
    """``submit`` queues stage updates; long-lived workers publish them QoS 1.

    The queue is bounded: when the broker is slow, ``submit`` waits, which slows intake
    (back-pressure) rather than dropping acks. Several workers each take what is queued
    (up to ``batch``), publish it and hand what the broker accepted to one confirmer,
    which marks it acked in the store: a batch waiting for its PUBACKs, or a commit
    waiting for the store's write lock, never holds back the next ack to an elder.
    Acks may so reach a terminal reordered, which the protocol allows (§ acks: keep the
    highest rank seen).
    """

    def __init__(
        self, client: ClientSource, maxsize: int, confirm: Confirm,
        downlinks: Downlinks | None = None, batch: int = 500, workers: int = 4,
    ) -> None:  # fmt: skip
        self._client = client
        self._confirm = confirm
        self._downlinks = downlinks or Downlinks({}, bridged=False)
        self._queue: asyncio.Queue[tuple[StageUpdate, float]] = asyncio.Queue(maxsize)
        # Published acks waiting to be marked acked, as many as may wait to be published:
        # a store that stalls for seconds (a checkpoint, a large intake transaction)
        # delays only this bookkeeping; one stalled for good stops the workers (and
        # through them intake) instead of growing memory.
        self._published: asyncio.Queue[StageUpdate] = asyncio.Queue(maxsize)
        self._batch = batch
        self._workers = workers
        self._log_once = LogOnce(log)

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        for update in updates:
            await self._queue.put((update, time.monotonic()))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._confirmer(), name="ack-confirmer")
            for n in range(self._workers):
                tg.create_task(self._work(), name=f"ack-publisher-{n}")

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            client = await self._client()
            results = await asyncio.gather(
                *(self._publish(client, update, queued) for update, queued in batch),
                return_exceptions=True,
            )
            updates = [update for update, _ in batch]
            unroutable = [
                u for u, r in zip(updates, results, strict=True) if isinstance(r, Unroutable)
            ]
            failures = [r for r in results if isinstance(r, BaseException)]
            failures = [r for r in failures if not isinstance(r, Unroutable)]
            if unroutable:
                self._drop_unroutable(unroutable)
            if failures:
                # Left in the ack outbox: the resender publishes them again later.
                metrics.ACK_FAILURES.inc(len(failures))
                log.warning("%d acks not published: %s", len(failures), failures[0])
            sent = [u for u, r in zip(updates, results, strict=True) if r is None]
            for update in (*sent, *unroutable):
                await self._published.put(update)

    async def _confirmer(self) -> None:
        """One store transaction for everything published since the last one."""
        while True:
            done = [await self._published.get()]
            while not self._published.empty():
                done.append(self._published.get_nowait())
            await self._confirm(done)

    def _drop_unroutable(self, updates: Sequence[StageUpdate]) -> None:
        """A terminal no longer in the registry has no zone to reach: its acks are
        confirmed as done (nobody is left to hear them), counted and logged."""
        metrics.ACK_FAILURES.inc(len(updates))
        for update in updates:
            self._log_once.warning(
                update.terminal_id, time.time(),
                "ack %s for %s/%s dropped: the terminal has no zone in the registry",
                update.stage.value, update.terminal_id, update.alert_id,
            )  # fmt: skip

    async def _publish(self, client: Publisher, update: StageUpdate, queued: float) -> None:
        name = self._downlinks.topic(update.terminal_id, Channel.ACK)
        async with asyncio.timeout(PUBLISH_TIMEOUT_S):
            ack = Ack(update.alert_id, update.stage, time.time(), update.by, update.eta_s,
                      update.note)  # fmt: skip
            await client.publish(name, encode_ack(ack), qos=1)
        metrics.ACKS.labels(update.stage.value).inc()
        metrics.ACK_SECONDS.labels(update.stage.value).observe(time.monotonic() - queued)


class AckResender:
    """Re-publishes stages whose ack never got out (broker down, or a crash between the
    commit and the publish). With the ack outbox in the store, kill -9 at any moment
    leaves no terminal stuck at a stale stage."""

    def __init__(
        self,
        unacked: Callable[[float], Awaitable[Sequence[StageUpdate]]],
        publisher: AckPublisher,
        interval_s: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._unacked = unacked
        self._publisher = publisher
        self._interval_s = interval_s
        self._clock = clock

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            # Only stages older than two intervals: younger ones are still in flight.
            pending = await self._unacked(self._clock() - 2 * self._interval_s)
            if pending:
                log.info("re-sending %d acks", len(pending))
                await self._publisher.submit(pending)
