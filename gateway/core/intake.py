"""Turn decoded uplink messages into what must be stored and forwarded. Pure.

The store applies an :class:`IntakePlan` in one transaction; everything here is a
function of the messages, the registry, the rules and ``now``. Ids are derived from the
terminal's own ids so that a retransmission plans exactly the same rows and events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from firmware_protocol.messages import (
    GATEWAY_ALERT_PREFIX,
    Alert,
    AlertKind,
    Health,
    Status,
    TerminalState,
)
from gateway.config import RulesConfig
from gateway.core.events import Event, Priority
from gateway.core.vitals import evaluate
from gateway.registry import Terminal


@dataclass(frozen=True, slots=True)
class AlertRow:
    terminal_id: str
    alert_id: str
    kind: str
    origin: str
    pressed_at: float
    received_at: float
    region: tuple[str, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HealthRow:
    terminal_id: str
    report_id: str
    ts: float
    received_at: float
    vitals: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Seen:
    """A sign of life; ``state`` only when the message was a status report."""

    terminal_id: str
    at: float
    state: TerminalState | None = None
    battery_pct: int | None = None
    signal_dbm: int | None = None
    firmware: str | None = None
    selftest: bool = False


@dataclass(frozen=True, slots=True)
class Cancel:
    terminal_id: str
    cancel_id: str
    target_id: str


@dataclass(slots=True)
class IntakePlan:
    alerts: list[AlertRow] = field(default_factory=list)
    health: list[HealthRow] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    cancels: list[Cancel] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def health_event_id(terminal_id: str, report_id: str) -> str:
    """The event id of a health report (the store forwards a report only once)."""
    return f"health:{terminal_id}:{report_id}"


def health_event(
    terminal_id: str, report_id: str, ts: float, received_at: float,
    vitals: Mapping[str, Any], region: tuple[str, ...],
) -> Event:  # fmt: skip
    """The event that tells the command center about a health report (built again from
    the stored report when it is forwarded: see :mod:`gateway.store.feed`)."""
    return Event(
        health_event_id(terminal_id, report_id), "health", Priority.HEALTH, received_at,
        terminal_id, region,
        {"terminal_id": terminal_id, "report_id": report_id, "ts": ts, "vitals": dict(vitals)},
    )  # fmt: skip


def alert_event(row: AlertRow, terminal: Terminal) -> Event:
    """The event that tells the command center about an alert."""
    return Event(
        event_id=f"alert:{row.terminal_id}:{row.alert_id}",
        type="alert",
        priority=Priority.ALERT,
        occurred_at=row.received_at,
        source=row.terminal_id,
        region=terminal.region,
        data={
            "terminal_id": row.terminal_id,
            "alert_id": row.alert_id,
            "kind": row.kind,
            "origin": row.origin,
            "pressed_at": row.pressed_at,
            "received_at": row.received_at,
            "elder": {"name": terminal.elder_name, "phone": terminal.phone},
            **row.detail,
        },
    )


def _plan_alert(plan: IntakePlan, alert: Alert, terminal: Terminal, now: float) -> None:
    detail: dict[str, Any] = {}
    if alert.note:
        detail["note"] = alert.note
    if alert.cancels:
        detail["cancels"] = alert.cancels
    row = AlertRow(
        alert.terminal_id, alert.alert_id, alert.kind.value, "terminal", alert.ts, now,
        terminal.region, detail,
    )  # fmt: skip
    plan.alerts.append(row)
    plan.seen.append(Seen(alert.terminal_id, now, selftest=alert.kind is AlertKind.TEST))
    if alert.kind is AlertKind.TEST:
        plan.events.append(
            Event(f"selftest:{alert.terminal_id}:{alert.alert_id}", "selftest", Priority.STATUS,
                  now, alert.terminal_id, terminal.region, {"alert_id": alert.alert_id})
        )  # fmt: skip
    elif alert.kind is AlertKind.CANCEL and alert.cancels:
        plan.cancels.append(Cancel(alert.terminal_id, alert.alert_id, alert.cancels))
        plan.events.append(
            Event(f"cancel:{alert.terminal_id}:{alert.alert_id}", "alert.cancelled",
                  Priority.ALERT, now, alert.terminal_id, terminal.region,
                  {"terminal_id": alert.terminal_id, "alert_id": alert.cancels,
                   "cancel_id": alert.alert_id})
        )  # fmt: skip
    else:
        plan.events.append(alert_event(row, terminal))


def _plan_health(
    plan: IntakePlan, health: Health, terminal: Terminal, rules: RulesConfig, now: float
) -> None:
    vitals = health.vitals.present()
    plan.health.append(HealthRow(health.terminal_id, health.report_id, health.ts, now, vitals))
    plan.seen.append(Seen(health.terminal_id, now))
    plan.events.append(
        health_event(health.terminal_id, health.report_id, health.ts, now, vitals,
                     terminal.region)
    )  # fmt: skip
    findings = evaluate(health.vitals, rules)
    if findings:
        row = AlertRow(
            health.terminal_id, GATEWAY_ALERT_PREFIX + health.report_id, AlertKind.MEDICAL.value,
            "vitals", health.ts, now, terminal.region,
            {"report_id": health.report_id, "findings": [f.to_json() for f in findings]},
        )  # fmt: skip
        plan.alerts.append(row)
        plan.events.append(alert_event(row, terminal))


def _plan_status(plan: IntakePlan, status: Status, now: float) -> None:
    plan.seen.append(
        Seen(status.terminal_id, now, status.state, status.battery_pct, status.signal_dbm,
             status.firmware)
    )  # fmt: skip


def plan_intake(
    messages: Sequence[Alert | Health | Status],
    registry: Mapping[str, Terminal],
    rules: RulesConfig,
    now: float,
) -> IntakePlan:
    """Plan the rows and events for a batch of messages from registered terminals."""
    plan = IntakePlan()
    for message in messages:
        terminal = registry[message.terminal_id]
        if isinstance(message, Alert):
            _plan_alert(plan, message, terminal, now)
        elif isinstance(message, Health):
            _plan_health(plan, message, terminal, rules, now)
        else:
            _plan_status(plan, message, now)
    return plan
