"""How fast one core of this machine is right now: a fixed piece of pure-Python work.

The machines these benchmarks run on are shared: in some hours the same district run
takes 2× as long to connect and every process 20–40 % more CPU for the same work. A
figure that says how fast a core was at the start of a run (and at its end) lets two
runs from different hours be compared, or not. The work is the kind the gateway and the
simulator do per message — JSON in and out, dict and string handling — and nothing else
runs in this process while it is timed; the best of several rounds is taken, so a
single preemption does not count.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

#: One round: this many messages encoded, decoded and picked apart.
MESSAGES = 20_000
ROUNDS = 5


@dataclass(frozen=True, slots=True)
class CoreSpeed:
    """The best and the median round, in milliseconds (lower is faster)."""

    best_ms: float
    median_ms: float
    checksum: int  # the work's result, the same on every machine (it was all done)


def _round(messages: int) -> int:
    total = 0
    for i in range(messages):
        doc = {"v": 1, "alert_id": f"a-{i:08d}", "kind": "emergency", "ts": 1_700_000_000 + i,
               "vitals": {"hr": 60 + i % 50, "spo2": 90 + i % 9}}  # fmt: skip
        back = json.loads(json.dumps(doc, separators=(",", ":")))
        total += back["vitals"]["hr"] + len(back["alert_id"].split("-")[1])
    return total


def core_speed(messages: int = MESSAGES, rounds: int = ROUNDS) -> CoreSpeed:
    """Time ``rounds`` rounds of the fixed work on this thread."""
    times, checksum = [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        checksum = _round(messages)
        times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    return CoreSpeed(times[0], times[len(times) // 2], checksum)
