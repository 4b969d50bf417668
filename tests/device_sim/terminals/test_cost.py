"""The cost figures a summary carries, and how processes add up."""

from __future__ import annotations

import gc

import pytest

from device_sim.terminals.cost import Cost, CostMeter, rss_bytes
from device_sim.terminals.summary import Counters, Summary, merge, summarize
from device_sim.terminals.tracker import AlertBook


def test_per_terminal_figures() -> None:
    cost = Cost(terminals=10_000, processes=1, connect_s=2.0, steady_s=100.0,
                steady_cpu_s=5.0, rss_bytes=40_000_000)  # fmt: skip
    assert cost.rss_per_terminal == 4_000
    assert cost.steady_cores == pytest.approx(0.05)
    assert cost.steady_cpu_us_per_terminal_s == pytest.approx(5.0)
    doc = cost.to_json()
    assert doc["rss_per_terminal_bytes"] == 4_000
    assert Cost.from_json(doc) == cost


def test_processes_add_memory_and_cpu_and_take_the_longest_time() -> None:
    a = Cost(terminals=2, processes=1, connect_s=1.0, connect_cpu_s=0.5, steady_s=10.0,
             steady_cpu_s=1.0, rss_bytes=100, peak_rss_bytes=150)  # fmt: skip
    b = Cost(terminals=3, processes=1, connect_s=3.0, connect_cpu_s=0.25, steady_s=9.0,
             steady_cpu_s=2.0, rss_bytes=200, peak_rss_bytes=250)  # fmt: skip
    merged = Cost.merge([a, b])
    assert (merged.terminals, merged.processes) == (5, 2)
    assert (merged.connect_s, merged.steady_s) == (3.0, 10.0)  # the longest
    assert (merged.connect_cpu_s, merged.steady_cpu_s) == (0.75, 3.0)  # summed
    assert (merged.rss_bytes, merged.peak_rss_bytes) == (300, 400)
    assert Cost.merge([a, Cost(terminals=1, processes=1)]).connect_s is None  # one never did


def test_summary_carries_cost_through_json_and_merge() -> None:
    part = summarize(AlertBook(), Counters(), 4, Cost(terminals=4, processes=1, rss_bytes=8))
    back = Summary.from_json(part.to_json(samples=True))
    assert back.cost == part.cost
    assert merge([back, back]).cost.rss_bytes == 16
    assert merge([back, back]).cost.processes == 2


def test_meter_measures_this_process() -> None:
    meter = CostMeter(terminals=1)
    assert not meter.steady
    meter.all_connected()
    assert meter.steady
    cost = meter.finish()
    assert cost.connect_s is not None
    assert cost.connect_s >= 0
    assert cost.rss_bytes == pytest.approx(rss_bytes(), rel=0.5)
    assert cost.peak_rss_bytes >= cost.rss_bytes // 2


def test_processes_add_their_collector_pauses_and_keep_the_longest() -> None:
    a = Cost(terminals=1, processes=1, gc_pauses=3, gc_full=1, gc_pause_longest_s=0.2,
             gc_pause_total_s=0.25)  # fmt: skip
    b = Cost(terminals=1, processes=1, gc_pauses=5, gc_full=0, gc_pause_longest_s=0.01,
             gc_pause_total_s=0.02)  # fmt: skip
    merged = Cost.merge([a, b])
    assert (merged.gc_pauses, merged.gc_full) == (8, 1)
    assert merged.gc_pause_longest_s == 0.2
    assert merged.gc_pause_total_s == pytest.approx(0.27)
    assert Cost.from_json(merged.to_json()) == merged


def test_meter_counts_the_steady_phases_collections_only() -> None:
    meter = CostMeter(terminals=1)
    gc.collect()  # connecting: not counted
    meter.all_connected()
    gc.collect()
    gc.collect()
    cost = meter.finish()
    gc.collect()  # after the end: not counted
    assert (cost.gc_pauses, cost.gc_full) == (2, 2)
    assert 0 < cost.gc_pause_longest_s <= cost.gc_pause_total_s
    assert meter.finish().gc_pauses == 2


def test_the_steady_phase_begins_owing_the_collector_nothing() -> None:
    """Connecting leaves ~330,000 new objects per process. Left in the young generations,
    they are promoted later and bring on a full collection at a time no one chose (in
    one district run in the storm, 3.4 s long); collected at the switch, the steady
    phase starts with every survivor in the oldest generation and nothing pending."""
    young = [[i] for i in range(5_000)]  # what connecting leaves behind
    assert len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1)) > 0
    meter = CostMeter(terminals=1)
    meter.all_connected()
    assert len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1)) < 50
    assert meter.finish().gc_full == 0  # the collection at the switch is not the run's
    del young
