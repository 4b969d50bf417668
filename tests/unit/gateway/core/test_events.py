"""Event: the one shape forwarded upstream."""

from __future__ import annotations

import json

from gateway.core.events import Event, Priority


def test_to_json_is_plain_json_with_region_as_list() -> None:
    event = Event("alert:T1:b1", "alert", Priority.ALERT, 12.5, "T1", ("D", "T", "V"), {"k": 1})

    body = event.to_json()

    assert body == {
        "event_id": "alert:T1:b1",
        "type": "alert",
        "occurred_at": 12.5,
        "source": "T1",
        "region": ["D", "T", "V"],
        "data": {"k": 1},
    }
    assert json.loads(json.dumps(body)) == body


def test_priorities_put_alarms_before_telemetry() -> None:
    assert Priority.ALERT < Priority.SUPERVISION < Priority.HEALTH < Priority.STATUS
