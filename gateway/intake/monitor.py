"""The brokers' own account of what they dropped, and the state of the district's bridges.

Mosquitto publishes ``$SYS/broker/publish/messages/dropped`` — messages it discarded because
a client's queue was full — every ``sys_interval``. Town brokers forward theirs over their
bridge, and each bridge publishes its own state (retained ``1``/``0``). The gateway turns
them into ``gateway_broker_dropped_messages{broker}`` and ``gateway_bridge_up{zone}``: a drop
that happened before a message could reach the gateway is still counted, where it happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway import metrics
from gateway.logonce import LogOnce
from gateway.zones import DROPPED, ZONE_ROOT

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reading:
    kind: str  # "dropped" or "bridge"
    broker: str  # the gateway's own broker's name, or a zone
    value: int


def is_monitor_topic(topic: str) -> bool:
    """Cheap test for the few topics :func:`parse` understands."""
    return topic.startswith("$SYS/") or (
        topic.startswith(ZONE_ROOT) and topic.endswith(("/bridge", "/broker/dropped"))
    )


def parse(topic: str, payload: bytes, own: str) -> Reading | None:
    """A reading from one monitor message; ``own`` names the broker the gateway is on."""
    try:
        value = int(payload)
    except ValueError:
        return None
    if topic == DROPPED:
        return Reading("dropped", own, value)
    parts = topic.split("/")
    if len(parts) == 5 and parts[4] == "bridge":
        return Reading("bridge", parts[3], value)
    if len(parts) == 6 and parts[4:] == ["broker", "dropped"]:
        return Reading("dropped", parts[3], value)
    return None


class BrokerMonitor:
    """Keeps the gauges; ``observe`` says whether a message was one of its topics."""

    def __init__(self, own: str) -> None:
        self._own = own
        self._log_once = LogOnce(log)

    def observe(self, topic: str, payload: bytes, now: float) -> bool:
        if not is_monitor_topic(topic):
            return False
        reading = parse(topic, payload, self._own)
        if reading is None:
            self._log_once.warning(topic, now, "unexpected broker state on %s", topic[:120])
        elif reading.kind == "dropped":
            metrics.BROKER_DROPPED.labels(reading.broker).set(reading.value)
        else:
            metrics.BRIDGE_UP.labels(reading.broker).set(1 if reading.value else 0)
            if not reading.value:
                log.warning("bridge of zone %s is down", reading.broker)
        return True
