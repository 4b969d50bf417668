"""Is a camera inside a maintenance window (or the daylight hours) at ``now``? Pure;
the time zone is passed in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from gateway.cameras.config import MaintenanceWindow


def in_maintenance(windows: Iterable[MaintenanceWindow], now: float, tz: tzinfo | None) -> bool:
    """True when any window covers ``now`` (Unix seconds); ``tz=None`` is system local."""
    local = _local(now, tz)
    return any(_covers(window, local) for window in windows)


def in_daily(spec: str | None, now: float, tz: tzinfo | None) -> bool:
    """True when the daily ``"HH:MM-HH:MM"`` range covers ``now``; False for ``None``."""
    if spec is None:
        return False
    local = _local(now, tz)
    return _daily_covers(spec, local.hour * 60 + local.minute)


def _local(now: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(now, tz) if tz else datetime.fromtimestamp(now).astimezone()


def _covers(window: MaintenanceWindow, local: datetime) -> bool:
    if window.daily is not None:
        return _daily_covers(window.daily, local.hour * 60 + local.minute)
    assert window.start is not None  # the model ensures start and end come together
    assert window.end is not None
    start = _aware(window.start, local.tzinfo)
    end = _aware(window.end, local.tzinfo)
    return start <= local < end


def _daily_covers(spec: str, minute: int) -> bool:
    begin, _, finish = spec.partition("-")
    start, end = _minutes(begin), _minutes(finish)
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # crosses midnight


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes)


def _aware(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
