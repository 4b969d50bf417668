"""Garbage-collector pauses: observed, and kept short.

CPython's cyclic collector holds the event loop for as long as a collection takes, and a
full (generation 2) collection walks every object the collector tracks. With a district's
registry loaded (170,000 terminals) one takes ~70 ms on a quiet machine (measured with
``gc.collect()`` after ``load_registry``); in a 170,000-terminal run, on a busy machine,
45 full collections in the 7 nominal minutes held the loop ≤ 250 ms at the median and up
to 500 ms — every alarm in flight waited for them.

What the gateway builds at start (the registry above all) lives as long as the process,
so the gateway process moves it out of the collector's way with :func:`gc.freeze` once
it is loaded, and again after a registry reload (the new registry is as long-lived).
Frozen objects are still freed by reference counting when nothing refers to them (a
replaced registry goes); only cycles among them would stay. Full collections then come
more often — CPython starts one when the survivors since the last are a quarter of what
it holds, and after a freeze it holds little — but are short: in the same run with the
freeze, 140 full collections, ≤ 25 ms at the median, ≤ 100 ms at worst. Raising the
youngest generation's threshold as well (to 10,000) was tried and not kept: young
collections became ≤ 25 ms at the median and up to 250 ms.

Every collection's pause is observed in ``gateway_gc_pause_seconds{generation}``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from gateway import metrics

_PAUSES = [metrics.GC_PAUSE_SECONDS.labels(str(generation)) for generation in range(3)]
_began = [0.0]
_frozen = [False]  # this process froze its start-up objects (the gateway process does)


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _began[0] = time.perf_counter()
    else:
        _PAUSES[int(info["generation"])].observe(time.perf_counter() - _began[0])


def watch() -> None:
    """Observe every collection's pause from now on (once per process)."""
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)


def start() -> int:
    """For the gateway process, once what lives as long as it does is loaded: watch the
    pauses and freeze; returns how many objects are frozen."""
    watch()
    return freeze()


def freeze() -> int:
    """Collect what is garbage now, then keep every object left out of future
    collections; returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    _frozen[0] = True
    return gc.get_freeze_count()


def refreeze() -> None:
    """After a new long-lived object graph (a reloaded registry): freeze it too, if this
    process froze at start."""
    if _frozen[0]:
        freeze()
