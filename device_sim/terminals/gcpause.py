"""The simulator's own garbage-collector pauses, counted so a run says how much of its
latencies is the simulator's.

A simulator process holds up to ~17,000 terminals, ~290,000 objects that CPython's
cyclic collector tracks. While a collection runs no terminal of that process sends or
reads anything: every press and every ack in flight in the process is late by the
pause. A real terminal (one device, one elder) never waits for 16,999 others, so such a
delay is the simulator's own, and the summary's cost carries every pause after
connecting (count, full collections, the longest, the sum over all).

Measured here, one process of 17,000 terminals on a quiet machine: 7 full collections
while connecting, the last ones 150–290 ms; none in the next 5 minutes of status and
health, and a collection of the middle generation every ~70 s that walked 50,000–76,000
objects (50–60 ms): CPython starts a young collection when allocations outnumber
deallocations by 700, and a simulator mostly replaces objects (a terminal's next timer,
its next payload) as it frees the old ones, so that count barely moves while the young
generations fill.

Tried and not kept, in 170,000-terminal district runs alone on the machine: freezing
the objects that exist once every terminal is connected (``gc.freeze()``) — one run
had a single full collection, but of 1.6 s — and, on top of it, collecting the youngest
generation on every scheduler tick, which on a quiet machine turned those 50–60 ms
pauses into 1.2 ms ones but in the district run promoted survivors so fast that 16 full
collections came, up to 1.5 s each, and press → ``received`` p99 rose to 1.6 s. The
simulator leaves the collector as CPython sets it.
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

    def start(self) -> None:
        """Count every collection from now on."""
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)

    def stop(self) -> None:
        """Stop counting."""
        if self._observe in gc.callbacks:
            gc.callbacks.remove(self._observe)
