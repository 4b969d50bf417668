"""Vitals rules: a finding just past each bound, none at the bound, none when disabled."""

from __future__ import annotations

import math
from typing import Any

import pytest

from firmware_protocol.messages import Vitals
from gateway.config import RulesConfig
from gateway.core.vitals import Finding, evaluate

RULES = RulesConfig()

# (vital field, rules field, direction, integer-valued)
BOUNDS = [
    ("heart_rate_bpm", "heart_rate_low_bpm", "below", True),
    ("heart_rate_bpm", "heart_rate_high_bpm", "above", True),
    ("spo2_pct", "spo2_low_pct", "below", False),
    ("bp_systolic_mmhg", "systolic_low_mmhg", "below", True),
    ("bp_systolic_mmhg", "systolic_high_mmhg", "above", True),
    ("bp_diastolic_mmhg", "diastolic_high_mmhg", "above", True),
    ("body_temp_c", "body_temp_low_c", "below", False),
    ("body_temp_c", "body_temp_high_c", "above", False),
    ("glucose_mmol_l", "glucose_low_mmol_l", "below", False),
    ("glucose_mmol_l", "glucose_high_mmol_l", "above", False),
]
IDS = [rule for _, rule, _, _ in BOUNDS]


def past(limit: float, direction: str, integer: bool) -> float:
    """The first value on the dangerous side of ``limit``."""
    if integer:
        return limit - 1 if direction == "below" else limit + 1
    return math.nextafter(limit, -math.inf if direction == "below" else math.inf)


def vitals(**values: Any) -> Vitals:
    return Vitals(**values)


def test_normal_vitals_raise_nothing() -> None:
    normal = vitals(
        heart_rate_bpm=72, spo2_pct=97.0, bp_systolic_mmhg=125, bp_diastolic_mmhg=80,
        body_temp_c=36.6, glucose_mmol_l=5.5, steps=4000, fall_detected=False,
    )  # fmt: skip

    assert evaluate(normal, RULES) == []


@pytest.mark.parametrize(("vital", "rule", "direction", "integer"), BOUNDS, ids=IDS)
def test_value_at_the_bound_is_not_a_finding(
    vital: str, rule: str, direction: str, integer: bool
) -> None:
    limit = getattr(RULES, rule)
    value = int(limit) if integer else float(limit)

    assert evaluate(vitals(**{vital: value}), RULES) == []


@pytest.mark.parametrize(("vital", "rule", "direction", "integer"), BOUNDS, ids=IDS)
def test_value_just_past_the_bound_is_a_finding(
    vital: str, rule: str, direction: str, integer: bool
) -> None:
    limit = getattr(RULES, rule)
    value = past(limit, direction, integer)
    value = int(value) if integer else value

    findings = evaluate(vitals(**{vital: value}), RULES)

    assert findings == [Finding(vital, value, direction, limit)]


@pytest.mark.parametrize(("vital", "rule", "direction", "integer"), BOUNDS, ids=IDS)
def test_disabled_bound_raises_nothing_even_far_past_it(
    vital: str, rule: str, direction: str, integer: bool
) -> None:
    rules = RulesConfig(**{rule: None})
    limit = getattr(RULES, rule)
    value = past(limit, direction, integer)
    value = int(value) if integer else value

    findings = evaluate(vitals(**{vital: value}), rules)

    assert findings == []


def test_disabling_one_bound_keeps_the_other_side() -> None:
    rules = RulesConfig(heart_rate_low_bpm=None)

    assert evaluate(vitals(heart_rate_bpm=20), rules) == []
    assert evaluate(vitals(heart_rate_bpm=141), rules) == [
        Finding("heart_rate_bpm", 141, "above", 140)
    ]


def test_custom_bounds_are_used() -> None:
    rules = RulesConfig(spo2_low_pct=94.0)

    assert evaluate(vitals(spo2_pct=93.5), rules) == [Finding("spo2_pct", 93.5, "below", 94.0)]
    assert evaluate(vitals(spo2_pct=94.0), rules) == []


def test_detected_fall_is_a_finding() -> None:
    assert evaluate(vitals(fall_detected=True), RULES) == [
        Finding("fall_detected", True, "equals", True)
    ]


def test_no_fall_is_not_a_finding() -> None:
    assert evaluate(vitals(fall_detected=False), RULES) == []


def test_fall_rule_can_be_disabled() -> None:
    assert evaluate(vitals(fall_detected=True), RulesConfig(fall_detected=False)) == []


def test_every_dangerous_vital_is_reported() -> None:
    findings = evaluate(
        vitals(fall_detected=True, heart_rate_bpm=30, spo2_pct=85.0, body_temp_c=40.0),
        RULES,
    )

    assert [(f.vital, f.direction) for f in findings] == [
        ("fall_detected", "equals"),
        ("heart_rate_bpm", "below"),
        ("spo2_pct", "below"),
        ("body_temp_c", "above"),
    ]


def test_steps_never_raise_an_alert() -> None:
    assert evaluate(vitals(steps=1_000_000), RULES) == []
    assert evaluate(vitals(steps=0), RULES) == []


def test_finding_json() -> None:
    assert Finding("spo2_pct", 85.0, "below", 90.0).to_json() == {
        "vital": "spo2_pct",
        "value": 85.0,
        "direction": "below",
        "limit": 90.0,
    }
