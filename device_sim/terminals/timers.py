"""Due dates for thousands of terminals in one heap, polled by one scheduler task."""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

T = TypeVar("T")


class Timers(Generic[T]):
    """A min-heap of ``(due, item)``; items due at the same time keep insertion order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, due: float, item: T) -> None:
        """Make ``item`` due at ``due``."""
        heapq.heappush(self._heap, (due, next(self._order), item))

    def pop_due(self, now: float, limit: int | None = None) -> list[T]:
        """Remove and return the items due at or before ``now``, earliest first."""
        due: list[T] = []
        while self._heap and self._heap[0][0] <= now and (limit is None or len(due) < limit):
            due.append(heapq.heappop(self._heap)[2])
        return due

    def next_due(self) -> float | None:
        """When the earliest item is due, or ``None`` when there is none."""
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        """Forget every item."""
        self._heap.clear()
