"""When an unaccepted alarm escalates, and to whom. Pure.

A rule says: an alarm still not accepted ``after_s`` seconds after the gateway received
it reaches ``level`` (named for whom it now goes to: ``town``, ``district`` …). The level
of an alarm is the highest rule its age has reached; once accepted it never rises again.
The :class:`~gateway.console.escalator.Escalator` applies these levels to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.core.events import Event, Priority

#: Stages in which nobody has taken the alarm yet, so escalation still applies.
UNACCEPTED = frozenset({"received", "delivered"})


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """Not accepted after ``after_s`` seconds → ``level`` (goes to ``name``)."""

    after_s: float
    level: int
    name: str


def check_rules(rules: Sequence[EscalationRule]) -> None:
    """Raise ``ValueError`` unless levels are ≥ 1, unique, and later rules reach higher levels."""
    ordered = sorted(rules, key=lambda rule: rule.after_s)
    levels = [rule.level for rule in ordered]
    if any(level < 1 for level in levels):
        raise ValueError("escalation levels start at 1")
    if len(set(levels)) != len(levels):
        raise ValueError("each escalation level may appear once")
    if levels != sorted(levels):
        raise ValueError("a later escalation rule must reach a higher level")
    if len({rule.after_s for rule in ordered}) != len(ordered):
        raise ValueError("two escalation rules have the same after_s")


def due_level(age_s: float, stage: str, rules: Sequence[EscalationRule]) -> int:
    """The level an alarm of this age and stage should have reached (0 = none)."""
    if stage not in UNACCEPTED:
        return 0
    return max((rule.level for rule in rules if age_s >= rule.after_s), default=0)


def level_name(level: int, rules: Sequence[EscalationRule]) -> str | None:
    """Whom ``level`` goes to, or ``None`` for level 0 or an unknown level."""
    for rule in rules:
        if rule.level == level:
            return rule.name
    return None


def first_after_s(rules: Sequence[EscalationRule]) -> float | None:
    """The youngest age at which any rule applies; ``None`` without rules."""
    return min((rule.after_s for rule in rules), default=None)


def top_level(rules: Sequence[EscalationRule]) -> int:
    """The highest level any rule reaches (0 without rules)."""
    return max((rule.level for rule in rules), default=0)


def next_due_in(age_s: float, stage: str, rules: Sequence[EscalationRule]) -> float | None:
    """Seconds until the next rule applies, or ``None`` when nothing more is due."""
    if stage not in UNACCEPTED:
        return None
    ahead = [rule.after_s - age_s for rule in rules if rule.after_s > age_s]
    return min(ahead, default=None)


def escalation_event(
    terminal_id: str, alert_id: str, region: Sequence[str], level: int, name: str,
    reason: str, now: float,
) -> Event:  # fmt: skip
    """The event telling the command center an alarm went up a level.

    The id carries the level, so the escalator and the call sequence raising the same
    level (or two gateway processes) produce one event."""
    return Event(
        event_id=f"escalated:{terminal_id}:{alert_id}:{level}",
        type="alert.escalated",
        priority=Priority.ALERT,
        occurred_at=now,
        source=terminal_id,
        region=tuple(region),
        data={"terminal_id": terminal_id, "alert_id": alert_id, "level": level, "to": name,
              "reason": reason},
    )  # fmt: skip
