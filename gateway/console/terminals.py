"""Online/offline counts per town and village, and the terminals needing a visit. Pure.

``terminal_state`` knows how each terminal is doing; the registry knows where it is.
They are joined here, in Python, within the viewer's region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.http.auth import in_scope
from gateway.registry import Terminal


@dataclass(slots=True)
class Tally:
    """Terminals of one area by condition (``unseen``: registered, never heard from)."""

    online: int = 0
    offline: int = 0
    unseen: int = 0
    selftest_missed: int = 0

    @property
    def total(self) -> int:
        return self.online + self.offline + self.unseen


@dataclass(slots=True)
class TerminalReport:
    total: Tally = field(default_factory=Tally)
    towns: dict[tuple[str, ...], Tally] = field(default_factory=dict)
    villages: dict[tuple[str, ...], Tally] = field(default_factory=dict)
    offline: list[dict[str, Any]] = field(default_factory=list)
    selftest_missed: list[dict[str, Any]] = field(default_factory=list)


def _count(tallies: Sequence[Tally], state: Mapping[str, Any] | None) -> None:
    for tally in tallies:
        if state is None:
            tally.unseen += 1
        elif state["online"]:
            tally.online += 1
        else:
            tally.offline += 1
        if state is not None and state["selftest_missed"]:
            tally.selftest_missed += 1


def report(
    registry: Mapping[str, Terminal],
    states: Mapping[str, Mapping[str, Any]],
    scope: Sequence[str],
) -> TerminalReport:
    """Tallies and lists for the registered terminals inside ``scope``."""
    result = TerminalReport()
    for terminal in registry.values():
        if not in_scope(scope, terminal.region):
            continue
        state = states.get(terminal.terminal_id)
        town = result.towns.setdefault(terminal.region[:2], Tally())
        village = result.villages.setdefault(terminal.region[:3], Tally())
        _count((result.total, town, village), state)
        if state is None:
            continue
        entry = {
            "terminal_id": terminal.terminal_id, "elder": terminal.elder_name,
            "phone": terminal.phone, "region": terminal.region, **state,
        }  # fmt: skip
        if not state["online"]:
            result.offline.append(entry)
        if state["selftest_missed"]:
            result.selftest_missed.append(entry)
    result.offline.sort(key=lambda e: e.get("offline_at") or e["last_seen"], reverse=True)
    result.selftest_missed.sort(key=lambda e: e["region"])
    result.towns = dict(sorted(result.towns.items()))
    result.villages = dict(sorted(result.villages.items()))
    return result
