"""Jinja filters for times, durations and region paths."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def clock(ts: float | None) -> str:
    """Local date and time, or a dash."""
    if ts is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def hms(ts: float | None) -> str:
    """Local time of day, or a dash."""
    return "—" if ts is None else time.strftime("%H:%M:%S", time.localtime(ts))


def duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s``, ``12s``."""
    if seconds is None:
        return "—"
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def region(path: Sequence[str] | None) -> str:
    """``District / Town / Village``; empty path is the whole site."""
    return " / ".join(path) if path else "*"


FILTERS: dict[str, Callable[..., Any]] = {
    "clock": clock,
    "hms": hms,
    "duration": duration,
    "region": region,
}
