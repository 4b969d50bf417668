"""Backoff: exponential ceiling, hard cap, jitter within [ceiling/2, ceiling]."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.backoff import Backoff

FAST = settings(max_examples=300, deadline=None)

bases = st.floats(min_value=0.001, max_value=3600, allow_nan=False)
caps = st.floats(min_value=0.001, max_value=86_400, allow_nan=False)
factors = st.floats(min_value=1.0, max_value=10.0, allow_nan=False)
attempts = st.integers(min_value=0, max_value=10_000)


def test_ceiling_doubles_from_base_until_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=30.0)

    assert [backoff.ceiling(n) for n in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=30.0)

    assert backoff.ceiling(10**9) == 30.0
    assert 15.0 <= backoff.delay(10**9) <= 30.0


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        Backoff().ceiling(-1)


@FAST
@given(bases, caps, factors, attempts)
def test_ceiling_is_positive_and_never_above_cap(
    base: float, cap: float, factor: float, attempt: int
) -> None:
    ceiling = Backoff(base, cap, factor).ceiling(attempt)

    assert 0 < ceiling <= cap
    assert ceiling <= max(base, base * factor ** min(attempt, 64))


@FAST
@given(bases, caps, factors, attempts)
def test_ceiling_never_decreases(base: float, cap: float, factor: float, attempt: int) -> None:
    backoff = Backoff(base, cap, factor)

    assert backoff.ceiling(attempt) <= backoff.ceiling(attempt + 1)


@FAST
@given(bases, caps, factors, attempts, st.randoms(use_true_random=False))
def test_delay_lies_between_half_the_ceiling_and_the_ceiling(
    base: float, cap: float, factor: float, attempt: int, rng: random.Random
) -> None:
    backoff = Backoff(base, cap, factor)
    ceiling = backoff.ceiling(attempt)

    delay = backoff.delay(attempt, rng)

    assert ceiling / 2 <= delay <= ceiling
    assert delay <= cap


def test_jitter_spreads_delays_over_the_whole_range() -> None:
    backoff = Backoff(base=10.0, cap=300.0)
    rng = random.Random(1234)

    delays = [backoff.delay(3, rng) for _ in range(2000)]

    assert len(set(delays)) > 1900  # not one fixed value
    assert min(delays) < 40 + 2  # reaches near ceiling/2 = 40
    assert max(delays) > 80 - 2  # and near the ceiling = 80


def test_delay_without_rng_uses_module_random() -> None:
    backoff = Backoff(base=4.0, cap=4.0)

    delays = {backoff.delay(0) for _ in range(50)}

    assert all(2.0 <= d <= 4.0 for d in delays)
    assert len(delays) > 1


def test_large_factor_does_not_overflow() -> None:
    assert Backoff(base=1.0, cap=60.0, factor=1e6).ceiling(100) == 60.0
