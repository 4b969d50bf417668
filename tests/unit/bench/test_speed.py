"""bench.speed: the fixed work is the same work everywhere, and it is timed."""

from __future__ import annotations

from bench.speed import _round, core_speed


def test_the_work_has_a_fixed_result() -> None:
    assert _round(3) == (60 + 8) + (61 + 8) + (62 + 8)


def test_rounds_are_timed_best_first() -> None:
    speed = core_speed(messages=200, rounds=3)
    assert 0 < speed.best_ms <= speed.median_ms
    assert speed.checksum == _round(200)
