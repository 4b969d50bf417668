"""bench.district: which presses count as nominal and which as the storm's, and the
alarms' way on from the district broker."""

from __future__ import annotations

import pytest

from bench.district import onward, press_windows


def inside(window: tuple[float, float], at: float) -> bool:
    return window[0] <= at < window[1]


def test_a_storm_of_an_early_process_is_not_counted_as_nominal() -> None:
    """Should one simulator process start its scenario 40 s before another (its parent's
    go-ahead reached it late), its storm comes 40 s earlier too."""
    nominal, storm = press_windows([1000.0, 1040.0], sustain_s=300.0, storm_window_s=10.0)
    early_storm_press, late_storm_press = 1000.0 + 300.0 + 5.0, 1040.0 + 300.0 + 9.9
    assert not inside(nominal, early_storm_press)
    assert inside(storm, early_storm_press)
    assert inside(storm, late_storm_press)
    assert inside(nominal, 1299.0)  # the last process's nominal press before any storm
    assert not inside(nominal, 1039.0)  # the last process has not begun its scenario


def test_one_process_gives_the_windows_of_its_own_scenario() -> None:
    nominal, storm = press_windows([500.0], sustain_s=120.0, storm_window_s=10.0)
    assert nominal == (500.0, 620.0)  # the warm-up is before the scenario's start
    assert storm[0] == 620.0
    assert storm[1] > 630.0  # a press is dispatched on the scheduler's tick: a little late


def test_onward_is_the_intake_batch_less_the_probes_arrival_of_alarms_pressed_inside() -> None:
    arrivals = {("T1", "a1"): 100.2, ("T2", "a2"): 100.5, ("T3", "a3"): 200.0}
    alarms = [
        ("T1", "a1", 100.0, 100.25),  # inside: 50 ms on
        ("T2", "a2", 100.1, 101.5),  # inside: 1 s on
        ("T3", "a3", 199.9, 200.1),  # pressed after the window
        ("T4", "a4", 100.0, 100.3),  # never seen by the probe
    ]

    stats = onward(arrivals, alarms, (100.0, 150.0))

    assert stats.count == 2  # the two pressed inside and seen by the probe
    assert stats.max == pytest.approx(1.0)
    assert stats.p50 is not None
    assert stats.p50 >= 0.05 - 1e-9
