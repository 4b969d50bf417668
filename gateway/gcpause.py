"""Garbage-collector pauses, observed: ``gateway_gc_pause_seconds{generation}``.

CPython's cyclic collector holds the event loop for as long as a collection takes, and a
full (generation 2) collection walks every object the collector tracks — with a
district's registry loaded (170,000 terminals) ~70 ms on a quiet machine (measured with
``gc.collect()`` after ``load_registry``). Every alarm in flight waits for it, so each
pause is observed.

Tried at 170,000 terminals and not kept, each measured in the nominal 7 minutes and the
storm of district runs alone on the machine: freezing the start-up objects (the
registry above all, ``gc.freeze()``). After a freeze the collector holds few objects,
so CPython's rule "a full collection when the survivors since the last are a quarter of
what it holds" fires often — 140 and 169 full collections in two runs, against 45
without — and each walks whatever is alive at that moment: in the run whose intake fell
behind they held the loop ≤ 50 ms at the median and up to 1 s, and in both runs with the
freeze the storm's press → command center p99 was over 3 s (0.5–1.4 s without). With the
youngest generation's threshold raised to 10,000 as well, young collections took ≤ 25 ms
at the median and up to 250 ms. Without the freeze a full collection held the loop
≤ 250 ms at the median, up to 500 ms (45 in 7 minutes): the next thing to shorten.

With the gateway's sessions on the lean MQTT client (no paho/aiomqtt objects per
message) full collections fell to 6–8 in those minutes, each still 250–500 ms. One run
with the freeze and the oldest generation's threshold at 100 (``gc.set_threshold(700,
10, 100)``): 3 full collections in the nominal minutes (≤ 10, ≤ 250, ≤ 250 ms), but
that run was one of the slow-machine runs (brokers and simulator 20 % more CPU for the
same work, the downlink alone p99 437 ms), so it showed nothing either way; not kept.
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


def freeze() -> None:
    """Collect, then leave every object alive now out of all later collections (the
    registry above all). Called after start-up and after a registry reload put a new
    registry in force; the old one's objects are freed as usual once unreferenced."""
    gc.collect()
    gc.freeze()


def watch() -> None:
    """Observe every collection's pause from now on (once per process)."""
    if _observe not in gc.callbacks:
        gc.callbacks.append(_observe)
