"""Garbage-collector pauses, observed (``gateway_gc_pause_seconds{generation}``), and the
start-up objects kept out of them.

CPython's cyclic collector holds the event loop for as long as a collection takes, and a
full (generation 2) collection walks every object the collector tracks. With a
district's registry loaded (170,000 terminals) that is ~250,000 objects, 170,000 of them
``Terminal`` rows, and ~100 ms per full collection on a quiet machine (measured with
``gc.collect()`` after building the gateway); under the district's load each held the
loop 250–500 ms, several times in every nominal 7 minutes of a 170,000-terminal run.
Every alarm in flight waits for it, so each pause is observed.

So :func:`freeze` runs once start-up has built the gateway, and again whenever a reload
puts a new registry in force: one collection, then ``gc.freeze()``, which leaves every
object alive at that moment out of all later collections. The registry never changes
in place (a reload replaces it whole), so nothing frozen needs collecting; the rows of
a registry replaced are freed as usual, by reference counting. Measured in 170,000-
terminal runs alone on the machine (``python -m bench.district --terminals 170000
--sustain 300 --alarms-per-s 6``), the nominal minutes' full collections: 14 of
≤ 250 ms at the median and ≤ 500 ms at most without the freeze; with it, in four runs,
15–32 of ≤ 10–25 ms at the median and ≤ 50–100 ms at most.

Tried before and not kept, when the gateway's sessions still ran on paho/aiomqtt (each
message left several of their objects behind): the same freeze made full collections
come 140–169 times in those minutes instead of 45 — after a freeze the collector holds
few objects, and CPython collects in full once the survivors since the last full
collection are a quarter of what it holds — and they walked a heap that per-message
objects kept large. With the lean MQTT client those objects are gone.
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
