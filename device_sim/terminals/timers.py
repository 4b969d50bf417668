"""Due dates for thousands of terminals in one heap, polled by one scheduler task.

The heap holds ``(due, order)`` only and the items sit in a dict by ``order``: a tuple
of a float and an int is one the cyclic collector stops tracking at its first look,
while ``(due, order, item)`` would stay tracked as long as it is due. A fleet re-arms
every terminal's periodic reports and keepalive checks all the time, and those entries,
alive for a minute, would reach the oldest generation and bring on full collections of
the whole process (each one a pause for every terminal in it).
"""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

T = TypeVar("T")


class Timers(Generic[T]):
    """A min-heap of due dates; items due at the same time keep insertion order.

    Items are kept as given: an owner that re-arms the same object (rather than a new
    one per due date) adds nothing for the collector to walk.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int]] = []
        self._items: dict[int, T] = {}
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, due: float, item: T) -> None:
        """Make ``item`` due at ``due``."""
        order = next(self._order)
        self._items[order] = item
        heapq.heappush(self._heap, (due, order))

    def pop_due(self, now: float, limit: int | None = None) -> list[T]:
        """Remove and return the items due at or before ``now``, earliest first."""
        due: list[T] = []
        heap, items = self._heap, self._items
        while heap and heap[0][0] <= now and (limit is None or len(due) < limit):
            due.append(items.pop(heapq.heappop(heap)[1]))
        return due

    def next_due(self) -> float | None:
        """When the earliest item is due, or ``None`` when there is none."""
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        """Forget every item."""
        self._heap.clear()
        self._items.clear()
