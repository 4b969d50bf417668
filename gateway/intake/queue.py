"""The broker's incoming queue, with the gateway's shedding policy.

aiomqtt puts every received message here (``queue_type``). Alerts come out first, so a
backlog of telemetry never delays an emergency. When full, telemetry is shed oldest
first; alerts are shed only beyond their own, much larger bound — and a shed alert is
not lost: its terminal keeps retransmitting until it gets ``received``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiomqtt import Message

from gateway import metrics

ALERT_SUFFIX = "/alert"


class _Lanes:
    """The queue's storage: two FIFO lanes that ``asyncio.Queue`` sees as one."""

    def __init__(self) -> None:
        self.alerts: deque[Message] = deque()
        self.telemetry: deque[Message] = deque()

    def __len__(self) -> int:
        return len(self.alerts) + len(self.telemetry)


class IntakeQueue(asyncio.Queue[Message]):
    """Two lanes behind one ``asyncio.Queue`` interface. Configure via :func:`factory`."""

    alert_max = 200_000
    telemetry_max = 20_000

    def _init(self, maxsize: int) -> None:
        self._queue = _Lanes()  # asyncio.Queue's own methods use len(self._queue)

    def _put(self, item: Message) -> None:
        if item.topic.value.endswith(ALERT_SUFFIX):
            lane, limit, name = self._queue.alerts, self.alert_max, "alert"
        else:
            lane, limit, name = self._queue.telemetry, self.telemetry_max, "telemetry"
        if len(lane) >= limit:
            lane.popleft()
            metrics.SHED.labels(name).inc()
        lane.append(item)

    def _get(self) -> Message:
        lanes = self._queue
        return lanes.alerts.popleft() if lanes.alerts else lanes.telemetry.popleft()

    def get_batch(self, limit: int) -> list[Message]:
        """Up to ``limit`` messages that are already waiting, alerts first."""
        batch: list[Message] = []
        while len(batch) < limit and len(self._queue):
            batch.append(self.get_nowait())
        return batch


def factory(
    alert_max: int, telemetry_max: int, created: Callable[[IntakeQueue], None]
) -> Callable[..., IntakeQueue]:
    """A ``queue_type`` for aiomqtt that reports each queue it creates."""

    def make(maxsize: int = 0) -> IntakeQueue:
        queue = IntakeQueue(maxsize=0)  # bounds are per lane, see _put
        queue.alert_max = alert_max
        queue.telemetry_max = telemetry_max
        created(queue)
        return queue

    return make
