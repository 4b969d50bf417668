"""The brokers' drop counts and bridge states become gauges, and stay out of intake."""

from __future__ import annotations

import pytest

from gateway.intake.monitor import BrokerMonitor, Reading, is_monitor_topic, parse
from tests.unit.gateway.helpers import T0, sample


@pytest.mark.parametrize(
    ("topic", "payload", "reading"),
    [
        ("$SYS/broker/publish/messages/dropped", b"17", Reading("dropped", "district", 17)),
        ("ec/v1/z/town3/broker/dropped", b"5", Reading("dropped", "town3", 5)),
        ("ec/v1/z/town3/bridge", b"0", Reading("bridge", "town3", 0)),
        ("ec/v1/z/town3/bridge", b"up", None),
        ("$SYS/broker/uptime", b"12", None),
    ],
)
def test_parse(topic: str, payload: bytes, reading: Reading | None) -> None:
    assert parse(topic, payload, "district") == reading


def test_terminal_topics_are_not_monitor_topics() -> None:
    for name in ("ec/v1/t/T1/status", "ec/v1/z/z1/t/T1/status", "ec/v1/z/z1/t/bridge/alert"):
        assert not is_monitor_topic(name)


def test_observe_sets_the_gauges() -> None:
    monitor = BrokerMonitor("site")

    assert monitor.observe("$SYS/broker/publish/messages/dropped", b"42", T0)
    assert monitor.observe("ec/v1/z/z9/bridge", b"1", T0)
    assert monitor.observe("ec/v1/z/z9/broker/dropped", b"3", T0)
    assert not monitor.observe("ec/v1/t/T1/alert", b"{}", T0)
    assert sample("gateway_broker_dropped_messages", broker="site") == 42
    assert sample("gateway_broker_dropped_messages", broker="z9") == 3
    assert sample("gateway_bridge_up", zone="z9") == 1
    monitor.observe("ec/v1/z/z9/bridge", b"0", T0)
    assert sample("gateway_bridge_up", zone="z9") == 0
