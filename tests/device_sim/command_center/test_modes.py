from __future__ import annotations

import pytest

from device_sim.command_center.modes import Answer, Mode, ModeSetting, ModeSwitch, parse_control


def test_control_body_parses_with_defaults() -> None:
    setting = parse_control({"mode": "fail", "status": 502, "for_s": 30}, now=100.0)
    assert setting == ModeSetting(Mode.FAIL, 502, 2.0, until=130.0)
    assert parse_control({"mode": "ok"}, 0.0) == ModeSetting()


@pytest.mark.parametrize(
    ("doc", "name"),
    [
        ({"mode": "sideways"}, "mode"),
        ({"mode": "fail", "status": 404}, "status"),
        ({"mode": "fail", "status": 503.5}, "status"),
        ({"mode": "slow", "delay_s": "2"}, "delay_s"),
        ({"mode": "down", "for_s": -1}, "for_s"),
        ({"mode": "ok", "colour": "red"}, "colour"),
        (["ok"], "body"),
    ],
)
def test_bad_control_names_the_key(doc: object, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        parse_control(doc, 0.0)


def test_mode_reverts_to_ok_when_its_time_is_up() -> None:
    switch = ModeSwitch()
    switch.set(ModeSetting(Mode.FAIL, 500, until=10.0))
    assert switch.answer(9.9, draw=0.99) == Answer(status=500)
    assert switch.current(10.0).mode is Mode.OK
    assert switch.answer(10.0, draw=0.99) == Answer()


def test_slow_delays_then_answers() -> None:
    switch = ModeSwitch()
    switch.set(ModeSetting(Mode.SLOW, delay_s=1.5))
    assert switch.answer(0.0, draw=0.5) == Answer(delay_s=1.5)


def test_down_answers_the_stragglers_with_the_status() -> None:
    switch = ModeSwitch()
    switch.set(ModeSetting(Mode.DOWN, 503))
    assert switch.answer(0.0, draw=0.5) == Answer(status=503)


def test_fail_rate_fails_the_low_draws() -> None:
    switch = ModeSwitch(fail_rate=0.25, fail_status=502)
    assert switch.answer(0.0, draw=0.2) == Answer(status=502)
    assert switch.answer(0.0, draw=0.3) == Answer()
    with pytest.raises(ValueError, match="fail_rate"):
        ModeSwitch(fail_rate=2)
