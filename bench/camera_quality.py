"""Scoring fault detection on the simulator's fault matrix. Pure.

Each observation is one probe of one camera: the fault the simulator was told to show
(``"none"`` for a healthy camera) and the fault kinds the monitor reported. For an
injected fault ``f`` whose acceptable kinds are ``A = EXPECTED[f]``:

* a true positive is a probe of an ``f`` camera that reported a kind in ``A``;
* a false negative is a probe of an ``f`` camera that reported none of ``A``;
* a false positive is a probe of any other camera that reported a kind in ``A`` which
  that camera's own fault does not account for (so an offline camera reporting
  ``unreachable`` is no false positive for ``refused``, which also maps to it).

Kinds reported outside the camera's own ``EXPECTED`` set are listed as unexpected, also
when no injected fault maps to them (``probe_error``). The labelled scene set
(:mod:`bench.camera_scenes`) is scored the same way with its own table, once over all
probes and once per condition (day, night, infrared).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.cameras.faults import FaultKind

HEALTHY = "none"

EXPECTED: dict[str, frozenset[FaultKind]] = {
    HEALTHY: frozenset(),
    "offline": frozenset({FaultKind.TIMEOUT, FaultKind.UNREACHABLE}),
    "refused": frozenset({FaultKind.UNREACHABLE}),
    "unauthorized": frozenset({FaultKind.AUTH_FAILED}),
    "not_found": frozenset({FaultKind.NOT_FOUND}),
    "stall": frozenset({FaultKind.NO_SIGNAL}),
    "frozen": frozenset({FaultKind.FROZEN}),
    "black": frozenset({FaultKind.BLACK}),
    "overexposed": frozenset({FaultKind.OVEREXPOSED}),
    "blurred": frozenset({FaultKind.BLURRED}),
    "occluded": frozenset({FaultKind.OCCLUDED}),
    "snow": frozenset({FaultKind.NOISY}),
    "color_cast": frozenset({FaultKind.COLOUR_CAST}),
    "moved": frozenset({FaultKind.SCENE_CHANGED}),
    "low_fps": frozenset({FaultKind.LOW_FPS}),
}
"""Injected fault -> kinds the monitor may report for it (as in the integration test)."""

INJECTED = tuple(fault for fault in EXPECTED if fault != HEALTHY)


@dataclass(frozen=True, slots=True)
class Observation:
    """One probe of one camera (``condition``: day, night or ir, where known)."""

    camera_id: str
    injected: str
    reported: frozenset[FaultKind]
    condition: str = ""


def assign(camera_ids: Sequence[str], per_fault: int) -> dict[str, str]:
    """Camera id -> injected fault: ``per_fault`` consecutive cameras (so different
    scenes) for each fault in turn, the rest healthy."""
    needed = per_fault * len(INJECTED)
    if len(camera_ids) < needed:
        raise ValueError(f"{needed} cameras needed for {per_fault} per fault")
    plan = dict.fromkeys(camera_ids, HEALTHY)
    for index, camera_id in enumerate(camera_ids[:needed]):
        plan[camera_id] = INJECTED[index // per_fault]
    return plan


def score(
    observations: Iterable[Observation],
    expected: dict[str, frozenset[FaultKind]] = EXPECTED,
) -> dict[str, Any]:
    """Precision and recall per injected fault, and every unexpected report.

    ``expected`` maps each injected fault (and ``"none"``) to the kinds that may be
    reported for it.
    """
    seen = list(observations)
    rows = {fault: _row(fault, seen, expected) for fault in expected if fault != HEALTHY}
    unexpected = Counter(
        f"{o.injected}->{kind.value}"
        for o in seen
        for kind in sorted(o.reported - expected[o.injected])
    )
    healthy = [o for o in seen if o.injected == HEALTHY]
    return {
        "by_fault": rows,
        "healthy": {
            "probes": len(healthy),
            "false_alarms": sum(bool(o.reported) for o in healthy),
        },
        "unexpected": dict(sorted(unexpected.items())),
        "met": not unexpected and all(r["precision"] == r["recall"] == 1.0 for r in rows.values()),
    }


def _row(
    fault: str, seen: Sequence[Observation], expected: dict[str, frozenset[FaultKind]]
) -> dict[str, Any]:
    accepted = expected[fault]
    mine = [o for o in seen if o.injected == fault]
    tp = sum(bool(o.reported & accepted) for o in mine)
    fp = sum(
        bool((o.reported & accepted) - expected[o.injected]) for o in seen if o.injected != fault
    )
    reported = Counter(kind.value for o in mine for kind in o.reported)
    return {
        "expected": sorted(kind.value for kind in accepted),
        "cameras": len({o.camera_id for o in mine}),
        "probes": len(mine),
        "tp": tp,
        "fn": len(mine) - tp,
        "fp": fp,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / len(mine) if mine else None,
        "reported": dict(sorted(reported.items())),
    }
