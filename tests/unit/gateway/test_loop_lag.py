"""The event-loop lag gauge sees a loop that was kept busy."""

from __future__ import annotations

import asyncio
import time

from gateway.app import watch_loop_lag
from tests.unit.gateway.helpers import sample


async def test_a_blocked_loop_shows_as_lag() -> None:
    late = "gateway_event_loop_lag_seconds_bucket"
    before_total = sample("gateway_event_loop_lag_seconds_count")
    before_fast = sample(late, le="0.1")
    watcher = asyncio.create_task(watch_loop_lag(0.01))
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # noqa: ASYNC251 - the synchronous work that holds the loop
    await asyncio.sleep(0.05)
    watcher.cancel()
    observed = sample("gateway_event_loop_lag_seconds_count") - before_total
    fast = sample(late, le="0.1") - before_fast
    assert observed >= 3
    assert observed - fast >= 1  # one wake-up came later than 0.1 s
