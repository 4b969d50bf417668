"""The fleet's uplink queue: bounded, drained by a few publisher tasks.

Timers and API calls only enqueue; publishing (which waits for the broker's PUBACK)
happens here, so one slow connection never holds up the scheduler. A full queue drops
the publication and counts it: an alert dropped here is still pending and goes out
again with its next retransmission.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from device_sim.terminals.terminal import Publication, Terminal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A publication for one terminal."""

    terminal: Terminal
    publication: Publication


class OutboxStats:
    """Counts of what happened to publications."""

    __slots__ = ("dropped", "failed", "skipped_offline")

    def __init__(self) -> None:
        self.dropped = 0
        self.failed = 0
        self.skipped_offline = 0


class Outbox:
    """Bounded queue of :class:`Job`; run :meth:`drain` in as many tasks as wanted."""

    def __init__(
        self,
        size: int,
        publish_timeout_s: float,
        on_sent: Callable[[Terminal, Publication], None],
    ) -> None:
        self._queue: asyncio.Queue[Job] = asyncio.Queue(maxsize=size)
        self._timeout = publish_timeout_s
        self._on_sent = on_sent
        self.stats = OutboxStats()

    def __len__(self) -> int:
        return self._queue.qsize()

    def put(self, terminal: Terminal, publication: Publication) -> bool:
        """Queue a publication; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(Job(terminal, publication))
        except asyncio.QueueFull:
            if not self.stats.dropped:
                log.warning("outbox full (%d): dropping publications", self._queue.maxsize)
            self.stats.dropped += 1
            return False
        return True

    async def drain(self) -> None:
        """Publish queued jobs forever."""
        while True:
            job = await self._queue.get()
            await self._publish(job)

    async def _publish(self, job: Job) -> None:
        client = job.terminal.client
        if client is None:
            self.stats.skipped_offline += 1
            return
        publication = job.publication
        try:
            async with asyncio.timeout(self._timeout):
                await client.publish(
                    job.terminal.topic(publication.channel),
                    publication.payload,
                    qos=1,
                    retain=publication.retain,
                )
        except (aiomqtt.MqttError, TimeoutError) as exc:
            self.stats.failed += 1
            log.debug("terminal %s: publish failed: %s", job.terminal.id, exc)
            return
        self._on_sent(job.terminal, publication)
