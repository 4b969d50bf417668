from __future__ import annotations

import gc

from device_sim.terminals.timers import Timers


def test_items_come_due_in_time_then_insertion_order() -> None:
    timers: Timers[str] = Timers()
    timers.add(2.0, "b")
    timers.add(1.0, "a")
    timers.add(2.0, "c")
    timers.add(5.0, "late")
    assert timers.next_due() == 1.0
    assert timers.pop_due(0.5) == []
    assert timers.pop_due(2.0) == ["a", "b", "c"]
    assert len(timers) == 1
    assert timers.next_due() == 5.0


def test_pop_due_respects_a_limit() -> None:
    timers: Timers[int] = Timers()
    for i in range(5):
        timers.add(0.0, i)
    assert timers.pop_due(1.0, limit=2) == [0, 1]
    assert timers.pop_due(1.0) == [2, 3, 4]
    assert timers.next_due() is None


def test_a_due_date_leaves_the_collector_nothing_to_walk() -> None:
    """A fleet re-arms ~17,000 periodic timers a minute per process: an entry that the
    cyclic collector keeps tracking is promoted to the oldest generation within a minute
    and brings the next full collection of the whole process closer."""
    timers: Timers[list[int]] = Timers()
    item: list[int] = []  # an object the collector tracks, as every timer item is
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1000):
        timers.add(float(i), item)
    gc.collect()
    assert len(gc.get_objects()) - before < 50
    assert timers.pop_due(999.0) == [item] * 1000
