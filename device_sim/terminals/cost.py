"""What holding the terminals costs this process: memory and CPU, while connecting and after.

A fleet's run has two phases: *connecting* (from the start until every terminal was
online at once, or until the scenario starts anyway) and *steady* (from then until
shutdown: keepalive, periodic status and health, the scenario's alarms). Summaries of
several processes add up (memory and CPU) or take the longest (durations).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from device_sim.terminals.gcpause import PauseWatch, settle

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident memory now."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except OSError:  # not Linux: the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    """CPU (user + system) this process used so far."""
    return time.process_time()


@dataclass(slots=True)
class Cost:
    """Resources of one process (or the sum over processes); seconds and bytes."""

    terminals: int = 0
    processes: int = 0
    connect_s: float | None = None  # until all were online at once (None: never)
    connect_cpu_s: float = 0.0
    steady_s: float = 0.0
    steady_cpu_s: float = 0.0
    rss_bytes: int = 0  # before shutdown
    rss_start_bytes: int = 0  # before the first connection: the interpreter and its modules
    peak_rss_bytes: int = 0
    # The collector's pauses in the steady phase (see ``gcpause``).
    gc_pauses: int = 0
    gc_full: int = 0
    gc_pause_longest_s: float = 0.0
    gc_pause_total_s: float = 0.0

    @property
    def rss_per_terminal(self) -> float | None:
        """Resident bytes per terminal (the interpreter's share included)."""
        return self.rss_bytes / self.terminals if self.terminals else None

    @property
    def rss_added_per_terminal(self) -> float | None:
        """Resident bytes the terminals added, per terminal (the interpreter left out)."""
        if not self.terminals:
            return None
        return (self.rss_bytes - self.rss_start_bytes) / self.terminals

    @property
    def steady_cores(self) -> float | None:
        """CPU cores used in the steady phase (summed over processes)."""
        return self.steady_cpu_s / self.steady_s if self.steady_s > 0 else None

    @property
    def steady_cpu_us_per_terminal_s(self) -> float | None:
        """CPU microseconds per terminal per second in the steady phase."""
        cores = self.steady_cores
        return None if cores is None or not self.terminals else cores / self.terminals * 1e6

    def to_json(self) -> dict[str, Any]:
        """The fields plus the derived per-terminal figures."""
        doc = asdict(self)
        for name, value in (
            ("rss_per_terminal_bytes", self.rss_per_terminal),
            ("rss_added_per_terminal_bytes", self.rss_added_per_terminal),
            ("steady_cores", self.steady_cores),
            ("steady_cpu_us_per_terminal_s", self.steady_cpu_us_per_terminal_s),
        ):
            doc[name] = None if value is None else round(value, 3)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Cost:
        """The inverse of :meth:`to_json` (derived figures are recomputed)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in doc.items() if k in names})

    @classmethod
    def merge(cls, parts: Sequence[Cost]) -> Cost:
        """Processes side by side: memory and CPU add up, durations take the longest."""
        connects = [p.connect_s for p in parts]
        return cls(
            terminals=sum(p.terminals for p in parts),
            processes=sum(p.processes for p in parts),
            connect_s=None if not parts or None in connects else max(c or 0.0 for c in connects),
            connect_cpu_s=sum(p.connect_cpu_s for p in parts),
            steady_s=max((p.steady_s for p in parts), default=0.0),
            steady_cpu_s=sum(p.steady_cpu_s for p in parts),
            rss_bytes=sum(p.rss_bytes for p in parts),
            rss_start_bytes=sum(p.rss_start_bytes for p in parts),
            peak_rss_bytes=sum(p.peak_rss_bytes for p in parts),
            gc_pauses=sum(p.gc_pauses for p in parts),
            gc_full=sum(p.gc_full for p in parts),
            gc_pause_longest_s=max((p.gc_pause_longest_s for p in parts), default=0.0),
            gc_pause_total_s=sum(p.gc_pause_total_s for p in parts),
        )


class CostMeter:
    """Marks the phases of one process's run and measures them."""

    def __init__(self, terminals: int, rss_start: int | None = None) -> None:
        self._terminals = terminals
        self._start = (time.monotonic(), cpu_seconds())
        self._rss_start = rss_bytes() if rss_start is None else rss_start
        self._steady: tuple[float, float] | None = None
        self._connected_at: float | None = None
        self._pauses = PauseWatch()

    def begin_run(self) -> None:
        """The run (and its connecting phase) starts now."""
        self._start = (time.monotonic(), cpu_seconds())

    @property
    def steady(self) -> bool:
        """True once the connecting phase is over."""
        return self._steady is not None

    def all_connected(self) -> None:
        """Every terminal is online: the connecting phase ends now."""
        if self._connected_at is None:
            self._connected_at = time.monotonic()
            self.begin_steady()

    def begin_steady(self) -> None:
        """The steady phase starts now (if it has not yet)."""
        if self._steady is None:
            settle()
            self._pauses.start()
            self._steady = (time.monotonic(), cpu_seconds())

    def finish(self) -> Cost:
        """The cost so far (call before shutting the connections down); the collector's
        pauses are counted until now."""
        self._pauses.stop()
        now, cpu = time.monotonic(), cpu_seconds()
        steady_wall, steady_cpu = self._steady or (now, cpu)
        start_wall, start_cpu = self._start
        return Cost(
            terminals=self._terminals,
            processes=1,
            connect_s=None if self._connected_at is None else self._connected_at - start_wall,
            connect_cpu_s=steady_cpu - start_cpu,
            steady_s=now - steady_wall,
            steady_cpu_s=cpu - steady_cpu,
            rss_bytes=rss_bytes(),
            rss_start_bytes=self._rss_start,
            peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            gc_pauses=self._pauses.count,
            gc_full=self._pauses.full,
            gc_pause_longest_s=self._pauses.longest_s,
            gc_pause_total_s=self._pauses.total_s,
        )
