"""The broker's incoming queue, with the gateway's shedding policy.

Every session of the gateway puts what it receives here. Alerts come out first, so a
backlog of telemetry never delays an emergency, and alerts are served by sender in turn,
so a terminal flooding its alert topic delays nobody else's alarm. When full, telemetry is
shed oldest first; a sender with more than :data:`PER_SENDER_ALERTS` alerts waiting sheds
its own oldest — and a shed alert is not lost: its terminal keeps retransmitting until it
gets ``received``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from gateway import metrics
from gateway.intake.router import Raw

ALERT_SUFFIX = "/alert"
#: Alerts one terminal may have waiting; a real one has a few at most.
PER_SENDER_ALERTS = 64


class _FairLane:
    """Alerts by sender (its topic), served round-robin; FIFO within each sender. Each
    alert's time in the lane is observed as it leaves (``gateway_alert_wait_seconds``)."""

    def __init__(self) -> None:
        self._parts: dict[str, deque[tuple[Raw, float]]] = {}
        self._turns: deque[str] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, item: Raw, limit: int) -> bool:
        """Queue ``item``; True when that made the lane shed an older alert."""
        key = item.topic
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = deque()
            self._turns.append(key)
        shed = len(part) >= PER_SENDER_ALERTS or self._size >= limit
        if shed:
            victim = part if part else self._parts[self._turns[0]]
            victim.popleft()
            self._size -= 1
        part.append((item, time.monotonic()))
        self._size += 1
        return shed

    def popleft(self) -> Raw:
        key = self._turns[0]
        part = self._parts[key]
        item, queued = part.popleft()
        metrics.ALERT_WAIT_SECONDS.observe(time.monotonic() - queued)
        self._size -= 1
        if part:
            self._turns.rotate(-1)
        else:
            self._turns.popleft()
            del self._parts[key]
        return item


class _Lanes:
    """The queue's storage: two lanes that ``asyncio.Queue`` sees as one."""

    def __init__(self) -> None:
        self.alerts = _FairLane()
        self.telemetry: deque[Raw] = deque()

    def __len__(self) -> int:
        return len(self.alerts) + len(self.telemetry)


class IntakeQueue(asyncio.Queue[Raw]):
    """Two lanes behind one ``asyncio.Queue`` interface. Make with :func:`bounded_queue`."""

    alert_max = 200_000
    telemetry_max = 20_000

    def _init(self, maxsize: int) -> None:
        self._queue = _Lanes()  # asyncio.Queue's own methods use len(self._queue)

    def _put(self, item: Raw) -> None:
        if self.is_alert(item):
            if self._queue.alerts.append(item, self.alert_max):
                metrics.SHED.labels("alert").inc()
            return
        lane = self._queue.telemetry
        if len(lane) >= self.telemetry_max:
            lane.popleft()
            metrics.SHED.labels("telemetry").inc()
        lane.append(item)

    def _get(self) -> Raw:
        lanes = self._queue
        return lanes.alerts.popleft() if lanes.alerts else lanes.telemetry.popleft()

    def get_batch(self, limit: int, alerts_only: bool = False) -> list[Raw]:
        """Up to ``limit`` messages that are already waiting, alerts first.

        With ``alerts_only`` (the batch began with an alert) no telemetry joins: an
        alarm's transaction stays a few rows long instead of carrying hundreds of
        health and status reports that can wait for the next batch.
        """
        batch: list[Raw] = []
        lanes = self._queue
        while len(batch) < limit and (lanes.alerts if alerts_only else len(lanes)):
            batch.append(self.get_nowait())
        return batch

    @staticmethod
    def is_alert(message: Raw) -> bool:
        """True for a message of the alerts lane."""
        return message.topic.endswith(ALERT_SUFFIX)


def bounded_queue(alert_max: int, telemetry_max: int) -> IntakeQueue:
    """An intake queue whose lanes shed beyond these bounds."""
    queue = IntakeQueue(maxsize=0)  # bounds are per lane, see _put
    queue.alert_max = alert_max
    queue.telemetry_max = telemetry_max
    return queue
