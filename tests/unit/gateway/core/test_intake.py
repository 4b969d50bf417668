"""Intake planning: which rows and events each message becomes; ids derived from the source."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocol.messages import (
    Alert,
    AlertKind,
    Health,
    Status,
    TerminalState,
    Vitals,
)
from gateway.config import RulesConfig
from gateway.core.events import Priority
from gateway.core.intake import Cancel, IntakePlan, Seen, plan_intake
from tests.unit.gateway.helpers import T0, registry

RULES = RulesConfig()
REGISTRY = registry("T0001", "T0002")
NOW = T0 + 5


def plan(*messages: Alert | Health | Status, now: float = NOW) -> IntakePlan:
    return plan_intake(messages, REGISTRY, RULES, now)


def test_alert_becomes_a_row_a_sign_of_life_and_an_alert_event() -> None:
    result = plan(Alert("T0001", "b1", AlertKind.EMERGENCY, T0, note="fell in kitchen"))

    [row] = result.alerts
    assert (row.terminal_id, row.alert_id, row.kind, row.origin) == (
        "T0001", "b1", "emergency", "terminal",
    )  # fmt: skip
    assert (row.pressed_at, row.received_at) == (T0, NOW)
    assert row.region == ("District", "TownA", "V1")
    assert result.seen == [Seen("T0001", NOW)]
    [event] = result.events
    assert event.event_id == "alert:T0001:b1"
    assert (event.type, event.priority, event.source) == ("alert", Priority.ALERT, "T0001")
    assert event.data["kind"] == "emergency"
    assert event.data["note"] == "fell in kitchen"
    assert event.data["elder"] == {"name": "Elder T0001", "phone": "13800000000"}
    assert result.cancels == []
    assert result.health == []


def test_cancel_is_stored_targets_the_alert_and_is_announced() -> None:
    result = plan(Alert("T0001", "c1", AlertKind.CANCEL, T0, cancels="b1"))

    assert [(r.alert_id, r.kind) for r in result.alerts] == [("c1", "cancel")]
    assert result.cancels == [Cancel("T0001", "c1", "b1")]
    [event] = result.events
    assert event.event_id == "cancel:T0001:c1"
    assert (event.type, event.priority) == ("alert.cancelled", Priority.ALERT)
    assert event.data == {"terminal_id": "T0001", "alert_id": "b1", "cancel_id": "c1"}


def test_self_test_is_stored_and_reported_but_is_not_an_alarm() -> None:
    result = plan(Alert("T0001", "st1", AlertKind.TEST, T0))

    assert [(r.alert_id, r.kind) for r in result.alerts] == [("st1", "test")]
    assert result.seen == [Seen("T0001", NOW, selftest=True)]
    [event] = result.events
    assert event.event_id == "selftest:T0001:st1"
    assert (event.type, event.priority) == ("selftest", Priority.STATUS)


def test_normal_health_report_is_stored_and_forwarded_without_alert() -> None:
    result = plan(Health("T0002", "r1", T0, Vitals(heart_rate_bpm=70, steps=10)))

    [row] = result.health
    assert (row.terminal_id, row.report_id, row.ts, row.received_at) == ("T0002", "r1", T0, NOW)
    assert row.vitals == {"heart_rate_bpm": 70, "steps": 10}
    assert result.alerts == []
    assert result.seen == [Seen("T0002", NOW)]
    [event] = result.events
    assert event.event_id == "health:T0002:r1"
    assert (event.type, event.priority) == ("health", Priority.HEALTH)
    assert event.data["vitals"] == {"heart_rate_bpm": 70, "steps": 10}


def test_dangerous_health_report_raises_a_medical_alert_v_report_id() -> None:
    result = plan(Health("T0001", "r17", T0, Vitals(spo2_pct=85.0)))

    [row] = result.alerts
    assert (row.alert_id, row.kind, row.origin) == ("v-r17", "medical", "vitals")
    assert row.pressed_at == T0
    assert row.detail["report_id"] == "r17"
    assert row.detail["findings"] == [
        {"vital": "spo2_pct", "value": 85.0, "direction": "below", "limit": 90.0}
    ]
    assert [e.event_id for e in result.events] == ["health:T0001:r17", "alert:T0001:v-r17"]
    alert_event = result.events[1]
    assert (alert_event.type, alert_event.priority) == ("alert", Priority.ALERT)
    assert alert_event.data["findings"] == row.detail["findings"]


def test_status_is_a_sign_of_life_with_device_details_and_no_event() -> None:
    result = plan(Status("T0001", TerminalState.ONLINE, T0, 80, -70, "1.2.3"))

    assert result.seen == [Seen("T0001", NOW, TerminalState.ONLINE, 80, -70, "1.2.3")]
    assert result.events == []
    assert result.alerts == []


def test_last_will_is_recorded_as_offline_state() -> None:
    result = plan(Status("T0001", TerminalState.OFFLINE))

    assert result.seen == [Seen("T0001", NOW, TerminalState.OFFLINE)]


def test_batch_keeps_message_order() -> None:
    result = plan(
        Alert("T0001", "b1", AlertKind.MEAL, T0),
        Status("T0002", TerminalState.ONLINE),
        Alert("T0002", "b9", AlertKind.NURSING, T0),
    )

    assert [(r.terminal_id, r.alert_id) for r in result.alerts] == [
        ("T0001", "b1"),
        ("T0002", "b9"),
    ]
    assert [s.terminal_id for s in result.seen] == ["T0001", "T0002", "T0002"]


ids = st.from_regex(r"[A-Za-z0-9._:-]{1,20}", fullmatch=True).filter(
    lambda s: not s.startswith("v-")
)
help_kinds = st.sampled_from(sorted(AlertKind, key=str))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["T0001", "T0002"]), ids, help_kinds), max_size=8),
    st.floats(min_value=0, max_value=2**31, allow_nan=False),
    st.floats(min_value=0, max_value=2**31, allow_nan=False),
)
def test_event_ids_depend_only_on_the_sources_ids(
    specs: list[tuple[str, str, AlertKind]], now_a: float, now_b: float
) -> None:
    messages = [
        Alert(t, a, k, T0, cancels="x1" if k is AlertKind.CANCEL else None) for t, a, k in specs
    ]

    first = plan_intake(messages, REGISTRY, RULES, now_a)
    again = plan_intake(messages, REGISTRY, RULES, now_b)

    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]
    for (terminal_id, alert_id, _), event in zip(specs, first.events, strict=True):
        assert event.event_id.endswith(f":{terminal_id}:{alert_id}")
