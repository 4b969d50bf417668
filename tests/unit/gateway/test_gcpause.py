"""gcpause: every collection's pause is observed, by generation."""

from __future__ import annotations

import gc

from gateway import gcpause
from tests.unit.gateway.helpers import sample


def test_each_collection_is_observed_by_generation() -> None:
    gcpause.watch()
    gcpause.watch()  # once per process, however often asked
    name = "gateway_gc_pause_seconds_count"
    full, young = sample(name, generation="2"), sample(name, generation="0")
    gc.collect(2)
    gc.collect(0)
    assert sample(name, generation="2") - full == 1
    assert sample(name, generation="0") - young == 1


class _Row:
    """Stands for a registry row: an object the collector tracks."""


def test_freeze_leaves_what_exists_out_of_later_collections() -> None:
    before = _Row()
    try:
        gcpause.freeze()
        after = _Row()
        walked = {id(o) for o in gc.get_objects()}
        assert id(before) not in walked  # frozen: no full collection walks it
        assert id(after) in walked  # made since: collected as usual
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
