"""What a responder must be told, and the events that carry it to the command center's
telephony / SMS system. Pure.

``alert.dispatch`` asks one responder to go (who the elder is, where, what happened,
the medical notes, the language to speak) and carries the token they answer with.
Only the responder who accepted gets the access instructions (key safe, door code),
in ``alert.dispatch.accepted``. ``alert.dispatch.cancelled`` stands a notified
responder down. Ids derive from the alarm and the attempt number: a restart never
produces a second notification for the same attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.core.dispatch import Attempt, Outcome, Responder
from gateway.core.elders import ElderRecord
from gateway.core.events import Event, Priority
from gateway.registry import Terminal

#: Where a responder (or the telephony system for them) answers.
ANSWER_PATH = "/api/v1/responders/answer"


def brief(
    alert: Mapping[str, Any], terminal: Terminal | None, record: ElderRecord | None,
    *, with_access: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The facts read to a responder; ``access`` only ``with_access``."""
    told: dict[str, Any] = {
        "elder": terminal.elder_name if terminal else "",
        "elder_phone": terminal.phone if terminal else "",
        "kind": alert["kind"],
        "pressed_at": alert["pressed_at"],
        "region": list(alert["region"]),
        "village": alert["region"][-1] if alert["region"] else "",
        "address": record.address if record else "",
        "medical": record.medical if record else "",
        "language": record.language if record else "",
        "lives_alone": record.lives_alone if record else None,
    }
    findings = alert.get("detail", {}).get("findings")
    if findings:
        told["findings"] = findings
    if with_access:
        told["access"] = record.access if record else ""
    return told


def _responder(responder: Responder) -> dict[str, str]:
    return {"name": responder.name, "phone": responder.phone, "role": responder.role}


def _base(alert: Mapping[str, Any], attempt: Attempt) -> dict[str, Any]:
    return {
        "terminal_id": alert["terminal_id"],
        "alert_id": alert["alert_id"],
        "attempt": attempt.number,
        "round": attempt.round + 1,
        "position": None if attempt.position is None else attempt.position + 1,
        "responder": _responder(attempt.responder),
    }


def _event(kind: str, prefix: str, alert: Mapping[str, Any], number: int, now: float,
           data: dict[str, Any]) -> Event:  # fmt: skip
    return Event(
        event_id=f"{prefix}:{alert['terminal_id']}:{alert['alert_id']}:{number}",
        type=kind,
        priority=Priority.ALERT,
        occurred_at=now,
        source=alert["terminal_id"],
        region=tuple(alert["region"]),
        data=data,
    )


def notify_event(
    alert: Mapping[str, Any], attempt: Attempt, token: str, told: Mapping[str, Any], now: float
) -> Event:
    """``alert.dispatch``: call this responder; they answer with ``token`` by ``deadline``."""
    data = {
        **_base(alert, attempt),
        "answer": {"token": token, "path": ANSWER_PATH, "deadline": attempt.deadline},
        "brief": dict(told),
    }
    return _event("alert.dispatch", "dispatch", alert, attempt.number, now, data)


def accepted_event(
    alert: Mapping[str, Any], attempt: Attempt, eta_s: int | None, told: Mapping[str, Any],
    now: float,
) -> Event:  # fmt: skip
    """``alert.dispatch.accepted``: the accepting responder's confirmation, with access."""
    data = {**_base(alert, attempt), "eta_s": eta_s, "brief": dict(told)}
    return _event("alert.dispatch.accepted", "dispatch-accepted", alert, attempt.number, now, data)


def stand_down_event(
    alert: Mapping[str, Any], attempt: Attempt, outcome: Outcome, now: float
) -> Event:
    """``alert.dispatch.cancelled``: the notified responder is no longer needed."""
    data = {**_base(alert, attempt), "reason": outcome.value}
    return _event(
        "alert.dispatch.cancelled", "dispatch-cancelled", alert, attempt.number, now, data
    )


def service_event(
    alert: Mapping[str, Any], number: int, assignee: Responder, scheduled_for: float | None,
    told: Mapping[str, Any], now: float,
) -> Event:  # fmt: skip
    """``service.assigned``: a volunteer or provider is to serve this request."""
    data = {
        "terminal_id": alert["terminal_id"],
        "alert_id": alert["alert_id"],
        "assignment": number,
        "assignee": _responder(assignee),
        "scheduled_for": scheduled_for,
        "brief": dict(told),
    }
    return _event("service.assigned", "service-assigned", alert, number, now, data)
