from __future__ import annotations

from typing import Any

import pytest

from device_sim.command_center.records import BadEventError, EventLog, parse_event
from tests.device_sim.command_center.helpers import event


def test_alert_event_gets_its_receive_latency() -> None:
    body = event(data={"terminal_id": "t1", "alert_id": "a", "kind": "meal", "pressed_at": 100.0})
    received = parse_event("w1", body, now=100.75)
    assert received.latency_s == 0.75
    assert received.event_id == body["event_id"]
    assert (received.type, received.region) == ("alert", body["region"])
    assert parse_event("w2", event(event_type="status", data={}), 1.0).latency_s is None


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"event_id": 5}, "event_id"),
        ({"type": None}, "type"),
        ({"occurred_at": "now"}, "occurred_at"),
        ({"region": "d1"}, "region"),
        ({"region": [1]}, "region"),
        ({"data": []}, "data"),
        ({"source": True}, "source"),
    ],
)
def test_bad_events_name_the_field(change: dict[str, Any], name: str) -> None:
    with pytest.raises(BadEventError, match=name):
        parse_event("w", {**event(), **change}, 1.0)


def test_log_deduplicates_by_event_id_and_counts() -> None:
    log = EventLog()
    assert log.add(parse_event("w1", event(), 1.0))
    assert not log.add(parse_event("batch-2", event(), 2.0))  # the same event, again
    assert log.add(parse_event("w2", event("health:t-01:r1", event_type="health", data={}), 2.0))
    doc = log.to_json(with_events=True)
    assert (doc["events"], doc["duplicates"]) == (2, 1)
    assert doc["by_type"] == {"alert": 1, "health": 1}
    assert doc["latency_s"]["alert_receive"]["count"] == 1
    assert [e["webhook_id"] for e in doc["event_list"]] == ["w1", "w2"]


def test_log_keeps_at_most_limit_but_counts_all() -> None:
    log = EventLog(limit=1)
    log.add(parse_event("w1", event("alert:t-01:b1"), 1.0))
    log.add(parse_event("w2", event("alert:t-01:b2"), 1.0))
    assert len(log.events) == 1
    assert log.to_json()["events"] == 2
    assert log.tally.not_stored == 1


def test_receive_latency_of_the_alarms_pressed_within_a_window() -> None:
    log = EventLog()
    for n, (pressed, arrived) in enumerate([(10.0, 10.5), (20.0, 22.0), (30.0, 30.1)]):
        data = {"terminal_id": "t1", "alert_id": f"a{n}", "kind": "emergency",
                "pressed_at": pressed}  # fmt: skip
        log.add(parse_event(f"w{n}", event(f"alert:t1:a{n}", data=data), arrived))

    assert log.latency().count == 3
    window = log.latency((15.0, 31.0))
    assert (window.count, window.max) == (2, 2.0)
    assert log.latency((100.0, 200.0)).count == 0
