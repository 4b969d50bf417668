"""The simulator's own garbage-collector pauses, counted so a run says how much of its
latencies is the simulator's.

A simulator process holds up to ~17,000 terminals, ~330,000 objects that CPython's
cyclic collector tracks. While a collection runs no terminal of that process sends or
reads anything: every press and every ack in flight in the process is late by the
pause. A real terminal (one device, one elder) never waits for 16,999 others, so such a
delay is the simulator's own, and the summary's cost carries every pause after
connecting (count, full collections, the longest, the sum over all).

Measured here, one process of 17,000 terminals on a quiet machine: 7 full collections
while connecting, the last ones 150–290 ms; then, with status every 60 s and health
every 5 min, a middle generation that filled up to ~70,000 objects between its
collections (each up to 58 ms), and an oldest generation that grew from 372,000 to
414,000 objects in 150 s. CPython starts a young collection when allocations outnumber
deallocations by 700, and a simulator mostly replaces objects as it frees old ones, so
that count barely moves while the young generations fill; and what it replaced were
objects the collector tracks for as long as they live: every re-armed timer's heap
entry ``(due, order, item)``, every keepalive check's ``(terminal, connection)`` pair,
every health report kept for matching. Promoted into the oldest generation at ~45,000
per middle collection, they bring on a full collection of the whole process (~400,000
objects, up to ~1 s when the machine is busy) every few minutes, which fits the 10 full
collections of up to 1.1 s in a 170,000-terminal run over 10 processes.

Now the timers' heap holds ``(due, order)`` with the items by ``order`` beside it, a
keepalive check re-arms the connection itself, and the book keeps a report as a plain
``(sent_at, dangerous)``: tuples of atoms, which the collector stops tracking at its
first look. The same 3 minutes (pauses from ``gc.callbacks``, generation sizes from
``gc.get_objects(generation)`` every 30 s): the oldest generation stays at 343,670
objects from the first minute on, the middle generation holds ≤ 3,000 objects (its
collections ≤ 9 ms), and the pauses sum to 80 ms instead of 220 ms (27 young ones of
≤ 4 ms).

Tried and not kept, in 170,000-terminal district runs alone on the machine: freezing
the objects that exist once every terminal is connected (``gc.freeze()``) — one run
had a single full collection, but of 1.6 s — and, on top of it, collecting the youngest
generation on every scheduler tick, which on a quiet machine turned those 50–60 ms
pauses into 1.2 ms ones but in the district run promoted survivors so fast that 16 full
collections came, up to 1.5 s each, and press → ``received`` p99 rose to 1.6 s. Beyond
one full collection when connecting ends (:func:`settle`), the simulator leaves the
collector as CPython sets it.
"""

from __future__ import annotations

import gc
import time
from typing import Any


def settle() -> None:
    """Collect everything now, at the end of connecting, so that the steady phase begins
    owing the collector nothing.

    Connecting makes ~330,000 objects per process, and CPython's full collections
    come when the objects promoted since the last one exceed a quarter of those it
    found then. Left alone, the connect burst's last objects are promoted later and
    bring on a full collection at a time no one chose: in a 170,000-terminal run in
    the storm, 3.4 s long while the machine was at its busiest. Collected here, every
    survivor sits in the oldest generation; the steady phase adds nothing there (see
    above), so no full collection comes while the run is measured.
    """
    gc.collect()


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
