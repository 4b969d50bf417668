"""Latency percentiles (nearest rank), JSON-able and mergeable through raw samples."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(ordered: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile of ascending ``ordered`` (non-empty)."""
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], got {q}")
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Count and p50/p90/p99/max in seconds; the percentiles are ``None`` without samples."""

    count: int = 0
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, samples: Iterable[float]) -> LatencyStats:
        """Statistics of ``samples``."""
        ordered = sorted(samples)
        if not ordered:
            return cls()
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            max=ordered[-1],
        )

    def to_json(self) -> dict[str, Any]:
        """``{"count", "p50", "p90", "p99", "max"}``, seconds rounded to the millisecond."""
        return {
            "count": self.count,
            **{
                name: None if value is None else round(value, 3)
                for name, value in (
                    ("p50", self.p50),
                    ("p90", self.p90),
                    ("p99", self.p99),
                    ("max", self.max),
                )
            },
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> LatencyStats:
        """The inverse of :meth:`to_json`."""
        return cls(
            count=int(doc["count"]),
            p50=doc.get("p50"),
            p90=doc.get("p90"),
            p99=doc.get("p99"),
            max=doc.get("max"),
        )
