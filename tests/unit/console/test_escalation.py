"""The pure escalation rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.escalation import (
    UNACCEPTED,
    EscalationRule,
    check_rules,
    due_level,
    first_after_s,
    level_name,
    next_due_in,
    top_level,
)

RULES = (EscalationRule(60, 1, "town"), EscalationRule(120, 2, "district"))
STAGES = ("received", "delivered", "accepted", "resolved")
FAST = settings(max_examples=300, deadline=None)


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[EscalationRule, ...]:
    """Valid rule sets: increasing ages reach increasing levels."""
    ages = sorted(draw(st.sets(st.floats(0.5, 86_400, allow_nan=False), min_size=1, max_size=5)))
    levels = sorted(draw(st.sets(st.integers(1, 9), min_size=len(ages), max_size=len(ages))))
    return tuple(
        EscalationRule(age, level, f"l{level}") for age, level in zip(ages, levels, strict=True)
    )


ages = st.floats(0, 200_000, allow_nan=False)


@FAST
@given(rule_sets(), st.sampled_from(STAGES), ages, ages)
def test_level_never_decreases_with_age(
    rules: tuple[EscalationRule, ...], stage: str, a: float, b: float
) -> None:
    younger, older = sorted((a, b))
    assert due_level(younger, stage, rules) <= due_level(older, stage, rules)


@FAST
@given(rule_sets(), st.sampled_from(["accepted", "resolved"]), ages)
def test_accepted_alerts_never_escalate(
    rules: tuple[EscalationRule, ...], stage: str, age: float
) -> None:
    assert due_level(age, stage, rules) == 0
    assert next_due_in(age, stage, rules) is None


@FAST
@given(rule_sets(), st.sampled_from(sorted(UNACCEPTED)), ages)
def test_level_is_a_configured_one_and_names_exist(
    rules: tuple[EscalationRule, ...], stage: str, age: float
) -> None:
    level = due_level(age, stage, rules)
    assert level == 0 or level_name(level, rules) is not None
    assert level <= top_level(rules)
    youngest = first_after_s(rules)
    assert youngest is not None
    assert (level > 0) == (age >= youngest)


def test_the_default_ladder() -> None:
    assert [due_level(age, "received", RULES) for age in (0, 59.9, 60, 119, 120, 10_000)] == [
        0, 0, 1, 1, 2, 2,
    ]  # fmt: skip
    assert due_level(500, "delivered", RULES) == 2
    assert level_name(1, RULES) == "town"
    assert level_name(0, RULES) is None
    assert next_due_in(30, "received", RULES) == 30
    assert next_due_in(130, "received", RULES) is None


def test_no_rules_no_escalation() -> None:
    assert due_level(1e9, "received", ()) == 0
    assert first_after_s(()) is None
    assert top_level(()) == 0


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ((EscalationRule(60, 0, "x"),), "start at 1"),
        ((EscalationRule(60, 1, "a"), EscalationRule(90, 1, "b")), "once"),
        ((EscalationRule(60, 2, "a"), EscalationRule(90, 1, "b")), "higher level"),
        ((EscalationRule(60, 1, "a"), EscalationRule(60, 2, "b")), "same after_s"),
    ],
)
def test_inconsistent_rules_are_rejected(rules: tuple[EscalationRule, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_rules(rules)
