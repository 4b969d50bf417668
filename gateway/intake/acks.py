"""Publishing ack stages to terminals, from a bounded queue, many in flight at once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import aiomqtt

from firmware_protocol.codec import encode_ack
from firmware_protocol.messages import Ack
from firmware_protocol.topics import Channel, topic
from gateway import metrics
from gateway.store.intake import StageUpdate

log = logging.getLogger(__name__)

ClientSource = Callable[[], Awaitable[aiomqtt.Client]]


class AckPublisher:
    """``submit`` queues stage updates; ``run`` publishes them QoS 1.

    The queue is bounded: when the broker is slow, ``submit`` waits, which slows intake
    (back-pressure) rather than dropping acks.
    """

    def __init__(self, client: ClientSource, maxsize: int, batch: int = 500) -> None:
        self._client = client
        self._queue: asyncio.Queue[StageUpdate] = asyncio.Queue(maxsize)
        self._batch = batch

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        for update in updates:
            await self._queue.put(update)

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            client = await self._client()
            results = await asyncio.gather(
                *(self._publish(client, update) for update in batch), return_exceptions=True
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                metrics.ACK_FAILURES.inc(len(failures))
                log.warning("%d acks not published: %s", len(failures), failures[0])

    async def _publish(self, client: aiomqtt.Client, update: StageUpdate) -> None:
        ack = Ack(update.alert_id, update.stage, time.time(), update.by, update.eta_s, update.note)
        await client.publish(topic(update.terminal_id, Channel.ACK), encode_ack(ack), qos=1)
        metrics.ACKS.labels(update.stage.value).inc()
