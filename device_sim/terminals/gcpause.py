"""The simulator's own garbage-collector pauses, and keeping them out of its latencies.

A simulator process holds up to ~17,000 terminals, ~290,000 objects that CPython's
cyclic collector tracks. A full collection walks all of them, and while it runs no
terminal of that process sends or reads anything: every press and every ack in flight
in the process is late by the pause. A real terminal (one device, one elder) never
waits for 16,999 others, so such a delay is the simulator's, and a latency that held
it would blame the gateway for it.

Measured here, one process of 17,000 terminals on a quiet machine: 7 full collections
while connecting, the last ones 150–290 ms; none in the next 5 minutes of status and
health. But every alert and health report a run keeps survives, and CPython collects
in full once the survivors since the last full collection are a quarter of what it
holds, so a long run with alarms crosses that line now and then. So once every
terminal is connected (the objects that live for the whole run exist by then) the
process collects once and freezes what is left (``gc.freeze()``): later collections
walk only what the run made since.

The young generations need help too. CPython starts a young collection when
allocations outnumber deallocations by 700, but a simulator mostly replaces objects (a
terminal's next timer, its next payload) as it frees the old ones, so that count barely
moves while the young generations fill: in the same process the middle generation's
collections came every 70 s or so and each walked 50,000–76,000 objects (50–60 ms). So the fleet's
scheduler collects the youngest generation on every tick (:meth:`PauseWatch.tick`,
10 a second): in the same 150 s, 1,453 collections of at most 1.2 ms, 0.10 s in all
(against 0.23 s).

The steady phase's pauses are counted, so a summary says how long the simulator itself
held its terminals.
"""

from __future__ import annotations

import gc
import time
from typing import Any


class PauseWatch:
    """Counts the collector's pauses of this process from :meth:`start` on."""

    def __init__(self) -> None:
        self.count = 0
        self.full = 0  # generation 2
        self.longest_s = 0.0
        self.total_s = 0.0
        self._began = 0.0
        self._frozen = False

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        pause = time.perf_counter() - self._began
        self.count += 1
        if info["generation"] == 2:
            self.full += 1
        self.total_s += pause
        self.longest_s = max(self.longest_s, pause)

    def start(self, *, freeze: bool = True) -> None:
        """Collect and freeze what exists now (unless ``freeze`` is false), then count."""
        if freeze and not self._frozen:
            gc.collect()
            gc.freeze()
            self._frozen = True
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)

    def tick(self) -> None:
        """Collect the youngest generation, once frozen (called ~10 times a second)."""
        if self._frozen:
            gc.collect(0)

    def stop(self) -> None:
        """Stop counting, and hand what was frozen back to the collector."""
        if self._observe in gc.callbacks:
            gc.callbacks.remove(self._observe)
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
