"""Tiny inline SVG charts of an elder's recent vitals. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Vitals drawn on the alarm page, in order, with their unit.
CHARTED = (
    ("heart_rate_bpm", "bpm"),
    ("spo2_pct", "%"),
    ("bp_systolic_mmhg", "mmHg"),
    ("bp_diastolic_mmhg", "mmHg"),
    ("body_temp_c", "°C"),
    ("glucose_mmol_l", "mmol/L"),
)
WIDTH, HEIGHT, PAD = 240.0, 48.0, 3.0


@dataclass(frozen=True, slots=True)
class Sparkline:
    """One vital: the polyline's points, its last value and range."""

    name: str
    unit: str
    points: str
    last: float
    low: float
    high: float
    count: int


def polyline(samples: Sequence[tuple[float, float]], start: float, end: float) -> str:
    """``x,y`` pairs scaled into the chart box (time → x, value → y, higher is up)."""
    values = [value for _, value in samples]
    low, high = min(values), max(values)
    span_t = max(end - start, 1e-9)
    span_v = (high - low) or 1.0
    points = []
    for at, value in samples:
        x = PAD + (WIDTH - 2 * PAD) * min(max((at - start) / span_t, 0.0), 1.0)
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((value - low) / span_v if high > low else 0.5)
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def sparklines(
    reports: Iterable[tuple[float, str | dict[str, Any]]], start: float, end: float
) -> list[Sparkline]:
    """Charts for every charted vital present in ``reports`` (``(ts, vitals)``, by time)."""
    series: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in CHARTED}
    for at, raw in reports:
        vitals = json.loads(raw) if isinstance(raw, str) else raw
        for name, _ in CHARTED:
            value = vitals.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                series[name].append((at, float(value)))
    charts = []
    for name, unit in CHARTED:
        samples = series[name]
        if samples:
            values = [value for _, value in samples]
            charts.append(
                Sparkline(name, unit, polyline(samples, start, end), values[-1],
                          min(values), max(values), len(samples))
            )  # fmt: skip
    return charts
