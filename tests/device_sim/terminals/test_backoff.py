from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_sim.terminals.backoff import ALERT_RETRY, Backoff, FixedDelays


def test_alert_retry_doubles_from_two_seconds_up_to_thirty() -> None:
    assert [ALERT_RETRY.ceiling(n) for n in range(6)] == [2, 4, 8, 16, 30, 30]


@given(attempt=st.integers(0, 10_000), seed=st.integers(0, 2**32))
def test_delay_stays_within_jitter_and_never_passes_the_cap(attempt: int, seed: int) -> None:
    delay = ALERT_RETRY.delay(attempt, random.Random(seed))
    ceiling = ALERT_RETRY.ceiling(attempt)
    assert ceiling * 0.8 <= delay <= min(ceiling * 1.2, ALERT_RETRY.cap)


def test_jitter_spreads_delays() -> None:
    rng = random.Random(1)
    assert len({round(ALERT_RETRY.delay(1, rng), 6) for _ in range(20)}) > 1


@pytest.mark.parametrize(
    "kwargs",
    [{"base": 0}, {"factor": 0.5}, {"cap": 1, "base": 2}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_invalid_backoff_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        Backoff(**kwargs)


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        ALERT_RETRY.ceiling(-1)


def test_fixed_delays_repeat_the_last() -> None:
    delays = FixedDelays([0.1, 0.5])
    assert [delays.delay(n) for n in range(4)] == [0.1, 0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="delays"):
        FixedDelays([])
