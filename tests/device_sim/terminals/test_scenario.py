from __future__ import annotations

import random
from collections import Counter

import pytest

from device_sim.terminals.scenario import (
    GoOffline,
    Press,
    Scenario,
    SendMalformed,
    parse_weights,
    plan,
)
from firmware_protocol.messages import AlertKind

IDS = [f"t{i:03d}" for i in range(100)]


def test_same_seed_same_plan() -> None:
    scenario = Scenario(duration_s=30, alert_rate=5, storm_count=10, offline_fraction=0.1)
    assert plan(scenario, IDS, random.Random(4)) == plan(scenario, IDS, random.Random(4))


def test_plan_is_in_time_order_within_the_duration() -> None:
    scenario = Scenario(duration_s=20, alert_rate=10, malformed_rate=1, offline_fraction=0.2)
    planned = plan(scenario, IDS, random.Random(1))
    times = [p.at for p in planned]
    assert times == sorted(times)
    assert all(0 <= t < 20 for t in times)


def test_storm_presses_come_from_distinct_terminals_within_the_window() -> None:
    scenario = Scenario(duration_s=60, storm_count=40, storm_window_s=5, storm_at_s=10)
    planned = plan(scenario, IDS, random.Random(2))
    storm = [p.action for p in planned if isinstance(p.action, Press)]
    assert len(storm) == 40
    assert len({press.terminal_id for press in storm}) == 40
    assert all(10 <= p.at <= 15 for p in planned)
    assert all(press.storm and press.kind is AlertKind.EMERGENCY for press in storm)


def test_storm_larger_than_the_fleet_uses_every_terminal_once() -> None:
    planned = plan(Scenario(storm_count=500), IDS[:7], random.Random(0))
    assert len(planned) == 7


def test_offline_fraction_picks_that_many_distinct_terminals() -> None:
    scenario = Scenario(duration_s=10, offline_fraction=0.25, offline_for_s=3)
    offline = [p.action for p in plan(scenario, IDS, random.Random(3))]
    assert len(offline) == 25
    assert all(isinstance(a, GoOffline) and a.for_s == 3 for a in offline)
    assert len({a.terminal_id for a in offline}) == 25


def test_alert_rate_and_kind_weights_are_roughly_honoured() -> None:
    weights = parse_weights("emergency=1,meal=3")
    scenario = Scenario(duration_s=1000, alert_rate=2, kind_weights=weights)
    kinds = Counter(
        p.action.kind for p in plan(scenario, IDS, random.Random(5)) if isinstance(p.action, Press)
    )
    assert 1600 < kinds.total() < 2400
    assert set(kinds) == {AlertKind.EMERGENCY, AlertKind.MEAL}
    assert kinds[AlertKind.MEAL] > 2 * kinds[AlertKind.EMERGENCY]


def test_cancel_only_follows_an_earlier_help_request_of_that_terminal() -> None:
    weights = parse_weights("cancel=5,nursing=1")
    scenario = Scenario(duration_s=200, alert_rate=1, kind_weights=weights)
    helped: set[str] = set()
    cancels = 0
    for planned in plan(scenario, IDS, random.Random(6)):
        assert isinstance(planned.action, Press)
        if planned.action.kind is AlertKind.CANCEL:
            assert planned.action.terminal_id in helped
            cancels += 1
        else:
            helped.add(planned.action.terminal_id)
    assert cancels > 0


def test_malformed_payloads_cover_classes() -> None:
    scenario = Scenario(duration_s=100, malformed_rate=2)
    planned = plan(scenario, IDS, random.Random(7))
    assert all(isinstance(p.action, SendMalformed) for p in planned)
    assert len({p.action.klass for p in planned if isinstance(p.action, SendMalformed)}) == 8


def test_no_terminals_no_plan() -> None:
    assert plan(Scenario(alert_rate=5), [], random.Random(0)) == []


def test_weights_parse_and_name_bad_parts() -> None:
    assert parse_weights("emergency=2, meal")[AlertKind.MEAL] == 1.0
    assert parse_weights("emergency=2")[AlertKind.NURSING] == 0.0
    with pytest.raises(ValueError, match="teleport"):
        parse_weights("teleport=1")
    with pytest.raises(ValueError, match="must be >= 0"):
        parse_weights("meal=-1")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"duration_s": 0}, "duration_s"),
        ({"alert_rate": -1}, "alert_rate"),
        ({"offline_fraction": 1.5}, "offline_fraction"),
        ({"storm_count": -1}, "storm_count"),
        ({"alert_rate": 1, "kind_weights": {AlertKind.CANCEL: 1.0}}, "kind_weights"),
    ],
)
def test_invalid_scenarios_name_the_field(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Scenario(**kwargs)  # type: ignore[arg-type]


def _presses(scenario: Scenario) -> list[tuple[float, Press]]:
    planned = plan(scenario, IDS, random.Random(3))
    return [(p.at, p.action) for p in planned if isinstance(p.action, Press)]


def test_presses_once_the_storm_began_count_with_the_storm() -> None:
    scenario = Scenario(duration_s=60, alert_rate=20, storm_count=5, storm_window_s=5,
                        storm_at_s=30)  # fmt: skip
    presses = _presses(scenario)
    assert len([at for at, _ in presses if at >= 30]) > 5  # the storm's 5 and others
    assert all(press.storm == (at >= 30) for at, press in presses)


def test_without_a_storm_no_press_is_a_storm_press() -> None:
    presses = _presses(Scenario(duration_s=60, alert_rate=20, storm_at_s=1))
    assert presses
    assert not any(press.storm for _, press in presses)
