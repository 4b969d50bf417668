"""CPU and memory of running processes, read from ``/proc`` (Linux), sampled in a thread.

Groups are process trees: a group named by its root PID counts the root and every
descendant alive at each sample (a simulator's worker processes, say).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")

Usage = tuple[float, int]  # CPU seconds, resident bytes


def usage(pid: int) -> Usage:
    """One process's CPU seconds (user + system) and resident bytes; zeros if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/statm", "rb") as handle:
            resident = int(handle.read().split()[1])
    except OSError:
        return 0.0, 0
    return (int(fields[11]) + int(fields[12])) / _TICK, resident * _PAGE


def written_bytes(pid: int | str = "self") -> int | None:
    """Bytes the process has written so far (``wchar`` of ``/proc/PID/io``: every write
    system call, files and sockets alike); ``None`` once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/io").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return None


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as they are now."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


#: The pseudo-group of :class:`Sampler` that is the whole machine (``machine=True``).
MACHINE = "machine"
#: The same for the CPU time the hypervisor gave to others while this machine waited.
STOLEN = "stolen"


def machine_usage() -> tuple[float, float]:
    """CPU seconds the whole machine was busy (user, nice, system, irq, softirq: every
    process and the kernel's own work, e.g. the network stack) and was stolen by the
    hypervisor, over all cores, from the first line of ``/proc/stat``."""
    with open("/proc/stat", "rb") as handle:
        fields = [int(v) for v in handle.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


def group_usage(root: int) -> Usage:
    cpu, rss = 0.0, 0
    for pid in tree(root):
        c, r = usage(pid)
        cpu, rss = cpu + c, rss + r
    return cpu, rss


class Sampler:
    """Samples named groups of processes every ``interval_s`` (a thread)."""

    def __init__(
        self, groups: Mapping[str, list[int]], interval_s: float = 1.0, machine: bool = False
    ) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._machine = machine  # also sample MACHINE and STOLEN (their RSS is 0)
        self.samples: list[tuple[float, dict[str, Usage]]] = []
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def add(self, name: str, pids: list[int]) -> None:
        """Start sampling one more group (from the next sample on)."""
        self.groups = {**self.groups, name: list(pids)}

    def _sample(self) -> dict[str, Usage]:
        found = {}
        for name, pids in self.groups.items():
            parts = [group_usage(pid) for pid in pids]
            found[name] = (sum(c for c, _ in parts), sum(r for _, r in parts))
        if self._machine:
            busy, stolen = machine_usage()
            found[MACHINE], found[STOLEN] = (busy, 0), (stolen, 0)
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self._sample()))
            self._stop.wait(self._interval)

    def window(self, name: str, start: float, end: float) -> dict[str, float]:
        """A group's mean CPU (cores) over [start, end], and its RSS at the end and peak."""
        inside = [(t, s[name]) for t, s in self.samples if start <= t <= end and name in s]
        if len(inside) < 2:
            return {"cores": float("nan"), "rss_bytes": float("nan"), "peak_rss_bytes": 0.0}
        (t0, first), (t1, last) = inside[0], inside[-1]
        return {
            "cores": (last[0] - first[0]) / (t1 - t0),
            "rss_bytes": float(last[1]),
            "peak_rss_bytes": float(max(r for _, (_, r) in inside)),
        }
