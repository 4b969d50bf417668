"""The figures supervisors ask for, per area and period. Pure.

Per area (the towns of a district, the villages of a town …) and for the whole scope:
alarms by kind; for emergencies the time from receipt to acceptance (p50, p90) and
the share accepted within 60 s — the social-alarm answer standard asks 98.5 % — the
time to resolution, how many escalated; responder calls nobody answered; terminals
offline; service requests received and completed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: Accepted within this many seconds counts as answered in time.
ANSWER_WITHIN_S = 60.0
#: The share of alarms the standard wants answered in time.
ANSWER_TARGET = 0.985
#: Bounds of the time-to-accept distribution shown as a chart, seconds.
ACCEPT_BUCKETS = (15.0, 30.0, 60.0, 120.0, 300.0, 900.0)

Area = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AlarmTimes:
    """One alarm of the period: where, what, and when it was accepted and resolved."""

    area: Area
    kind: str
    received_at: float
    accepted_at: float | None
    resolved_at: float | None
    escalated: bool


@dataclass(slots=True)
class Figures:
    """The figures of one area."""

    area: Area
    by_kind: Counter[str] = field(default_factory=Counter)
    alarms: int = 0
    within_target: int = 0
    accept_s: list[float] = field(default_factory=list)
    resolve_s: list[float] = field(default_factory=list)
    escalated: int = 0
    unanswered_calls: int = 0
    offline_now: int = 0
    went_offline: int = 0
    service_requests: int = 0
    service_completed: int = 0

    @property
    def within_share(self) -> float | None:
        """Share of emergencies accepted within :data:`ANSWER_WITHIN_S` (``None``: none)."""
        return self.within_target / self.alarms if self.alarms else None

    def accept_p(self, q: float) -> float | None:
        return percentile(self.accept_s, q)

    def resolve_p(self, q: float) -> float | None:
        return percentile(self.resolve_s, q)

    def accept_histogram(self) -> list[int]:
        """Accepted emergencies per :data:`ACCEPT_BUCKETS` bucket, plus one for longer."""
        counts = [0] * (len(ACCEPT_BUCKETS) + 1)
        for seconds in self.accept_s:
            counts[next((n for n, b in enumerate(ACCEPT_BUCKETS) if seconds <= b),
                        len(ACCEPT_BUCKETS))] += 1  # fmt: skip
        return counts


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of ``values``; ``None`` when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def group_of(region: Sequence[str], scope: Sequence[str]) -> Area:
    """The row an item of ``region`` is counted in: one level below ``scope``."""
    return tuple(region[: min(len(scope) + 1, 3)])


@dataclass(slots=True)
class Report:
    """Rows by area (sorted) and the total of the scope."""

    scope: Area
    rows: list[Figures]
    total: Figures


def build_report(
    scope: Sequence[str], alarm_kinds: Iterable[str], service_kinds: Iterable[str],
    alarms: Iterable[AlarmTimes], unanswered: Iterable[Area], offline_now: Iterable[Area],
    went_offline: Iterable[Area], completed: Iterable[Area], areas: Iterable[Area] = (),
) -> Report:  # fmt: skip
    """Count everything of the period into its area row and the total.

    Each ``Area`` argument is the region of one item (a call, a terminal, a request);
    ``areas`` lists rows to show even when nothing happened there."""
    emergencies, services = set(alarm_kinds), set(service_kinds)
    total = Figures(tuple(scope))
    rows: dict[Area, Figures] = {group_of(a, scope): Figures(group_of(a, scope)) for a in areas}

    def both(region: Sequence[str]) -> tuple[Figures, Figures]:
        key = group_of(region, scope)
        return rows.setdefault(key, Figures(key)), total

    for alarm in alarms:
        for fig in both(alarm.area):
            _count_alarm(fig, alarm, emergencies, services)
    counted = {
        "unanswered_calls": unanswered,
        "offline_now": offline_now,
        "went_offline": went_offline,
        "service_completed": completed,
    }
    for name, items in counted.items():
        for region in items:
            for fig in both(region):
                setattr(fig, name, getattr(fig, name) + 1)
    return Report(tuple(scope), [rows[k] for k in sorted(rows)], total)


def _count_alarm(
    fig: Figures, alarm: AlarmTimes, emergencies: set[str], services: set[str]
) -> None:
    fig.by_kind[alarm.kind] += 1
    if alarm.kind in services:
        fig.service_requests += 1
        return
    if alarm.kind not in emergencies:
        return
    fig.alarms += 1
    fig.escalated += alarm.escalated
    if alarm.accepted_at is not None:
        waited = max(0.0, alarm.accepted_at - alarm.received_at)
        fig.accept_s.append(waited)
        fig.within_target += waited <= ANSWER_WITHIN_S
    if alarm.resolved_at is not None:
        fig.resolve_s.append(max(0.0, alarm.resolved_at - alarm.received_at))


def figures_json(fig: Figures) -> dict[str, object]:
    """One row for the API and the CSV export (seconds rounded to 0.1 s)."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    share = fig.within_share
    return {
        "area": list(fig.area),
        "alarms_by_kind": dict(sorted(fig.by_kind.items())),
        "emergencies": fig.alarms,
        "accepted_within_60s": fig.within_target,
        "accepted_within_60s_share": None if share is None else round(share, 4),
        "accept_p50_s": rounded(fig.accept_p(0.5)),
        "accept_p90_s": rounded(fig.accept_p(0.9)),
        "resolve_p50_s": rounded(fig.resolve_p(0.5)),
        "resolve_p90_s": rounded(fig.resolve_p(0.9)),
        "escalated": fig.escalated,
        "unanswered_calls": fig.unanswered_calls,
        "terminals_offline_now": fig.offline_now,
        "terminals_went_offline": fig.went_offline,
        "service_requests": fig.service_requests,
        "service_completed": fig.service_completed,
    }


DAY_S = 86_400


def parse_period(first: str, last: str, now: float, default_days: int = 7) -> tuple[float, float]:
    """``[start, end)`` from two local dates ``YYYY-MM-DD`` (both days included).

    Empty values default to the ``default_days`` days up to and including today.
    ``ValueError`` names the bad value; the period is at most 366 days."""
    today = time.strftime("%Y-%m-%d", time.localtime(now))
    last = last or today
    end = _next_midnight(_midnight(last, "to") + DAY_S)
    start = _midnight(first, "from") if first else _next_midnight(end - default_days * DAY_S)
    if start >= end:
        raise ValueError("from: must not be after to")
    if end - start > 366 * DAY_S + 3600:
        raise ValueError("from: the period is at most 366 days")
    return start, end


def _midnight(day: str, name: str) -> float:
    try:
        parsed = time.strptime(day, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{name}: expected YYYY-MM-DD, got {day[:20]!r}") from None
    return time.mktime((*parsed[:3], 0, 0, 0, 0, 0, -1))


def _next_midnight(approx: float) -> float:
    """The local midnight nearest ``approx`` (a day is not always 24 h: DST)."""
    parsed = time.localtime(approx + 3 * 3600)
    return time.mktime((*parsed[:3], 0, 0, 0, 0, 0, -1))
