"""Vitals rules: which reported values are dangerous enough to raise an alert. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_protocol.messages import Vitals
from gateway.config import RulesConfig


@dataclass(frozen=True, slots=True)
class Finding:
    """One vital outside its bound: ``value`` is ``below``/``above`` ``limit``."""

    vital: str
    value: float | bool
    direction: str
    limit: float | bool

    def to_json(self) -> dict[str, object]:
        return {
            "vital": self.vital,
            "value": self.value,
            "direction": self.direction,
            "limit": self.limit,
        }


# (vital field, rules field for the low bound, rules field for the high bound)
_BOUNDS = (
    ("heart_rate_bpm", "heart_rate_low_bpm", "heart_rate_high_bpm"),
    ("spo2_pct", "spo2_low_pct", None),
    ("bp_systolic_mmhg", "systolic_low_mmhg", "systolic_high_mmhg"),
    ("bp_diastolic_mmhg", None, "diastolic_high_mmhg"),
    ("body_temp_c", "body_temp_low_c", "body_temp_high_c"),
    ("glucose_mmol_l", "glucose_low_mmol_l", "glucose_high_mmol_l"),
)


def _check(value: float, low: float | None, high: float | None, vital: str) -> list[Finding]:
    if low is not None and value < low:
        return [Finding(vital, value, "below", low)]
    if high is not None and value > high:
        return [Finding(vital, value, "above", high)]
    return []


def evaluate(vitals: Vitals, rules: RulesConfig) -> list[Finding]:
    """Every dangerous finding in ``vitals`` (empty when all is well)."""
    findings: list[Finding] = []
    if rules.fall_detected and vitals.fall_detected:
        findings.append(Finding("fall_detected", True, "equals", True))
    for vital, low_key, high_key in _BOUNDS:
        value = getattr(vitals, vital)
        if value is None:
            continue
        low = getattr(rules, low_key) if low_key else None
        high = getattr(rules, high_key) if high_key else None
        findings.extend(_check(value, low, high, vital))
    return findings
