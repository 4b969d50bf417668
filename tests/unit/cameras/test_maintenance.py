"""Maintenance windows: daily local-time ranges (also across midnight) and absolute ones."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.cameras.config import MaintenanceWindow
from gateway.cameras.maintenance import in_maintenance

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 10) -> float:
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def window(spec: object) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate(spec)


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [(1, 59, False), (2, 0, True), (2, 59, True), (3, 0, False)],
)
def test_daily_window(hour: int, minute: int, inside: bool) -> None:
    assert in_maintenance([window("02:00-03:00")], at(hour, minute), SHANGHAI) is inside


@pytest.mark.parametrize(("hour", "inside"), [(22, False), (23, True), (0, True), (1, False)])
def test_daily_window_across_midnight(hour: int, inside: bool) -> None:
    assert in_maintenance([window("23:00-01:00")], at(hour), SHANGHAI) is inside


def test_whole_day() -> None:
    assert in_maintenance([window("00:00-24:00")], at(13), SHANGHAI)


def test_daily_window_is_local_time_of_the_configured_zone() -> None:
    two_am_shanghai = at(2, 30)  # 18:30 UTC the day before
    assert in_maintenance([window("02:00-03:00")], two_am_shanghai, SHANGHAI)
    assert not in_maintenance([window("02:00-03:00")], two_am_shanghai, UTC)


def test_absolute_window_naive_means_configured_zone() -> None:
    spec = {"start": "2025-03-10T08:00:00", "end": "2025-03-10T12:00:00"}
    assert in_maintenance([window(spec)], at(9), SHANGHAI)
    assert not in_maintenance([window(spec)], at(9, day=11), SHANGHAI)
    assert not in_maintenance([window(spec)], at(12), SHANGHAI)


def test_absolute_window_with_offset() -> None:
    spec = {"start": "2025-03-10T00:00:00+00:00", "end": "2025-03-10T01:00:00+00:00"}
    assert in_maintenance([window(spec)], at(8, 30), SHANGHAI)


def test_no_windows_means_never() -> None:
    assert not in_maintenance([], at(2), SHANGHAI)


def test_system_local_time_when_no_zone_given() -> None:
    assert in_maintenance([window("00:00-24:00")], at(2), None)
