"""Bar charts for the report page, as plain numbers an SVG template draws. Pure.

The console's Content-Security-Policy allows no inline styles or scripts, so charts are
server-drawn SVG whose colours come from CSS classes in the console's stylesheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.core.reports import ACCEPT_BUCKETS, ANSWER_TARGET, Figures

WIDTH = 560.0
LABEL_W = 130.0
ROW_H = 30.0
BAR_H = 22.0
VALUE_W = 64.0


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    width: float
    css: str
    title: str


@dataclass(slots=True)
class Row:
    label: str
    y: float
    rects: list[Rect] = field(default_factory=list)
    value: str = ""


@dataclass(slots=True)
class BarChart:
    """Horizontal bars, one row per area; ``target_x`` draws a dashed target line."""

    rows: list[Row]
    height: float
    width: float = WIDTH
    label_w: float = LABEL_W
    bar_h: float = BAR_H
    target_x: float | None = None
    legend: list[tuple[str, str]] = field(default_factory=list)


def _label(fig: Figures) -> str:
    return fig.area[-1] if fig.area else "*"


def _scale() -> float:
    return WIDTH - LABEL_W - VALUE_W


def kinds_chart(rows: Sequence[Figures], kinds: Sequence[str]) -> BarChart:
    """Alarms per area, stacked by kind (emergencies first)."""
    top = max((sum(f.by_kind.values()) for f in rows), default=0) or 1
    chart = BarChart([], ROW_H * len(rows) + 4, legend=[(k, f"kind-{k}") for k in kinds])
    for n, fig in enumerate(rows):
        row, x = Row(_label(fig), n * ROW_H), LABEL_W
        for kind in kinds:
            count = fig.by_kind.get(kind, 0)
            if count:
                width = _scale() * count / top
                row.rects.append(Rect(x, width, f"kind-{kind}", f"{kind}: {count}"))
                x += width
        row.value = str(sum(fig.by_kind.values()))
        chart.rows.append(row)
    return chart


def share_chart(rows: Sequence[Figures]) -> BarChart:
    """Share of emergencies accepted within 60 s per area, against the 98.5 % target."""
    chart = BarChart([], ROW_H * len(rows) + 4, target_x=LABEL_W + _scale() * ANSWER_TARGET)
    for n, fig in enumerate(rows):
        share = fig.within_share
        row = Row(_label(fig), n * ROW_H, value="—" if share is None else f"{share:.1%}")
        if share is not None:
            css = "share-ok" if share >= ANSWER_TARGET else "share-low"
            row.rects.append(Rect(LABEL_W, max(1.0, _scale() * share), css, row.value))
        chart.rows.append(row)
    return chart


def bucket_labels() -> list[str]:
    """``≤15 s``, ``≤30 s`` … ``>15 min`` for :data:`ACCEPT_BUCKETS`."""

    def short(seconds: float) -> str:
        return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"

    return [f"≤ {short(b)}" for b in ACCEPT_BUCKETS] + [f"> {short(ACCEPT_BUCKETS[-1])}"]


def accept_chart(total: Figures) -> BarChart:
    """How long emergencies waited for acceptance, as counts per time bucket."""
    counts = total.accept_histogram()
    top = max(counts, default=0) or 1
    labels = bucket_labels()
    chart = BarChart([], ROW_H * len(counts) + 4)
    for n, count in enumerate(counts):
        css = "share-ok" if n < ACCEPT_BUCKETS.index(60.0) + 1 else "share-low"
        row = Row(labels[n], n * ROW_H, value=str(count))
        if count:
            row.rects.append(Rect(LABEL_W, _scale() * count / top, css, str(count)))
        chart.rows.append(row)
    return chart
