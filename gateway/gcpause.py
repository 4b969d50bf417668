"""Garbage-collector pauses, observed: ``gateway_gc_pause_seconds{generation}``.

CPython's cyclic collector holds the event loop for as long as a collection takes, and a
full (generation 2) collection walks every object the collector tracks — with a
district's registry loaded (170,000 terminals) ~70 ms on a quiet machine (measured with
``gc.collect()`` after ``load_registry``). Every alarm in flight waits for it, so each
pause is observed.

Tried at 170,000 terminals and not kept (one run each, district traffic, the nominal
7 minutes): freezing the start-up objects (``gc.freeze()``) with CPython's default
thresholds made full collections frequent — 140 of them, ≤ 25 ms at the median, ≤ 100 ms
at worst — because CPython starts one when the survivors since the last are a quarter of
the objects it holds, and after a freeze it holds few; raising the youngest generation's
threshold to 10,000 as well made them rare (6) but every young collection ≤ 25 ms at the
median and up to 250 ms. Neither moved press → ``received``.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from gateway import metrics

_PAUSES = [metrics.GC_PAUSE_SECONDS.labels(str(generation)) for generation in range(3)]
_began = [0.0]


def _observe(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _began[0] = time.perf_counter()
    else:
        _PAUSES[int(info["generation"])].observe(time.perf_counter() - _began[0])


def watch() -> None:
    """Observe every collection's pause from now on (once per process)."""
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)
