"""The wall display's summary: open alarms and offline terminals per town. Pure.

Rows are one level below the viewer's region (towns of a district, villages of a town).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from gateway.core.reports import Area, group_of


@dataclass(slots=True)
class WallRow:
    area: Area
    open_alarms: int = 0
    emergencies_waiting: int = 0
    escalated: int = 0
    services_waiting: int = 0
    terminals_offline: int = 0


def summarise(
    scope: Sequence[str], open_alerts: Iterable[Mapping[str, Any]],
    offline: Iterable[Sequence[str]], areas: Iterable[Sequence[str]],
    alarm_kinds: Collection[str], service_kinds: Collection[str],
) -> dict[str, Any]:  # fmt: skip
    """Counts by area and in total. ``open_alerts`` rows: region, kind, stage_rank,
    escalation_level, n (how many alerts share those values)."""
    rows = {group_of(a, scope): WallRow(group_of(a, scope)) for a in areas}
    total = WallRow(tuple(scope))

    def both(region: Sequence[str]) -> tuple[WallRow, WallRow]:
        key = group_of(region, scope)
        return rows.setdefault(key, WallRow(key)), total

    for alert in open_alerts:
        waiting = alert["stage_rank"] < 2
        for row in both(alert["region"]):
            n = int(alert["n"])
            if alert["kind"] in service_kinds:
                row.services_waiting += n if waiting else 0
                continue
            row.open_alarms += n
            if waiting and alert["kind"] in alarm_kinds:
                row.emergencies_waiting += n
            if waiting and alert["escalation_level"] > 0:
                row.escalated += n
    for region in offline:
        for row in both(region):
            row.terminals_offline += 1
    return {
        "rows": [{**asdict(rows[k]), "name": k[-1] if k else "*"} for k in sorted(rows)],
        "total": asdict(total),
    }
