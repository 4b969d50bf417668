"""Failed-login limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.console.ratelimit import LoginLimiter, retry_after
from gateway.store.db import Database
from tests.unit.console.conftest import FakeClock

WINDOW = 300.0


def test_allowed_below_the_limit() -> None:
    assert retry_after([10, 20, 30, 40], 50, 5, WINDOW) is None


def test_blocked_at_the_limit_until_the_oldest_leaves() -> None:
    failures = [10, 20, 30, 40, 50]
    assert retry_after(failures, 60, 5, WINDOW) == pytest.approx(250)
    assert retry_after(failures, 310, 5, WINDOW) is None


@given(
    st.lists(st.floats(0, 1000, allow_nan=False), max_size=30),
    st.floats(1000, 2000, allow_nan=False),
    st.integers(1, 10),
)
def test_waiting_the_answer_is_enough(failures: list[float], now: float, limit: int) -> None:
    # Failures lie in the past (``now`` is at least the latest one).
    wait = retry_after(failures, now, limit, WINDOW)
    if wait is not None:
        assert 0 < wait <= WINDOW
        assert retry_after(failures, now + wait + 1e-6, limit, WINDOW) is None


async def test_per_user_and_per_address(db: Database, clock: FakeClock) -> None:
    limiter = LoginLimiter(db, WINDOW, per_user=5, per_ip=8, clock=clock)
    for _ in range(5):
        assert await limiter.retry_after("wang", "10.0.0.1") is None
        await limiter.failed("wang", "10.0.0.1")
        clock.advance(1)
    assert await limiter.retry_after("wang", "10.0.0.9") == pytest.approx(WINDOW - 5)
    assert await limiter.retry_after("WANG", "10.0.0.9") is not None  # case does not help
    assert await limiter.retry_after("li", "10.0.0.9") is None
    for name in ("a", "b", "c"):
        await limiter.failed(name, "10.0.0.1")
    assert await limiter.retry_after("li", "10.0.0.1") is not None  # the address is out
    clock.advance(WINDOW)
    assert await limiter.retry_after("wang", "10.0.0.1") is None


async def test_success_clears_the_user_name(db: Database, clock: FakeClock) -> None:
    limiter = LoginLimiter(db, WINDOW, per_user=2, per_ip=100, clock=clock)
    await limiter.failed("wang", "10.0.0.1")
    await limiter.failed("wang", "10.0.0.1")
    assert await limiter.retry_after("wang", "10.0.0.1") is not None
    await limiter.succeeded("wang")
    assert await limiter.retry_after("wang", "10.0.0.1") is None


async def test_old_failures_are_purged(db: Database, clock: FakeClock) -> None:
    limiter = LoginLimiter(db, WINDOW, per_user=5, per_ip=5, clock=clock)
    await limiter.failed("wang", "10.0.0.1")
    clock.advance(WINDOW + 1)
    await limiter.failed("li", "10.0.0.2")
    async with db.reader.execute("SELECT count(*) FROM login_failures") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert row[0] == 2
