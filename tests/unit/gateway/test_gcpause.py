"""gcpause: every collection's pause is observed; freezing is for the gateway process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

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


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()
    gcpause._frozen[0] = False


def test_refreeze_only_in_a_process_that_froze_at_start(thawed: None) -> None:
    gcpause.refreeze()
    assert gc.get_freeze_count() == 0
    assert gcpause.freeze() > 0
    gc.unfreeze()
    registry = {f"T{n}": [n] for n in range(1000)}  # a new long-lived graph
    gcpause.refreeze()
    assert gc.get_freeze_count() >= len(registry)
