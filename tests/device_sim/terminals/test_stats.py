from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_sim.terminals.stats import LatencyStats, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 1) == 7


def test_percentile_needs_values_and_a_sane_q() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 0)


def test_stats_of_unordered_samples() -> None:
    stats = LatencyStats.of([0.3, 0.1, 0.2, 0.4])
    assert (stats.count, stats.p50, stats.p90, stats.max) == (4, 0.2, 0.4, 0.4)


def test_no_samples_no_percentiles() -> None:
    assert LatencyStats.of([]).to_json() == {
        "count": 0,
        "p50": None,
        "p90": None,
        "p99": None,
        "max": None,
    }


@given(st.lists(st.floats(0, 1e4), min_size=1))
def test_percentiles_are_ordered_samples(samples: list[float]) -> None:
    stats = LatencyStats.of(samples)
    assert stats.p50 is not None
    assert stats.p90 is not None
    assert stats.p99 is not None
    assert min(samples) <= stats.p50 <= stats.p90 <= stats.p99 <= max(samples) == stats.max
    assert stats.p50 in samples


def test_json_round_trip() -> None:
    stats = LatencyStats.of([0.25, 0.5])
    assert LatencyStats.from_json(stats.to_json()) == stats
