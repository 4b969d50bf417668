"""Waiting for an outcome that only shows up as state (a metric, a flag)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(predicate: Callable[[], bool], interval: float = 0.05) -> None:
    """Return once ``predicate()`` holds; the caller bounds it with asyncio.timeout."""
    while not predicate():  # noqa: ASYNC110 - polling state that has no event to wait on
        await asyncio.sleep(interval)
