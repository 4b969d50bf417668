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
from typing import NamedTuple

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")

Usage = tuple[float, int]  # CPU seconds, resident bytes


class GroupSample(NamedTuple):
    """What :class:`Sampler` reads of one group (or of the machine) at one time."""

    cpu_s: float
    rss: int
    #: Seconds its threads were runnable but waited for a core (the scheduler's
    #: ``run_delay``), and the times they were put on one; for the machine: seconds in
    #: which at least one task waited (pressure stall information, ``some``).
    waited_s: float = 0.0
    runs: int = 0


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


def waits(pid: int) -> dict[int, tuple[float, int]]:
    """Each thread of the process: seconds it waited for a core while runnable, and the
    times it was given one (``/proc/PID/task/TID/schedstat``); empty once it is gone."""
    found = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            _on_cpu, delay, runs = stat.read_text().split()[:3]
        except (OSError, ValueError):
            continue
        found[int(stat.parent.name)] = (int(delay) / 1e9, int(runs))
    return found


def machine_waited() -> float:
    """Seconds in which at least one task waited for a core (``/proc/pressure/cpu``)."""
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0.0
    return int(line.rsplit("total=", 1)[1]) / 1e6


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


class Sampler:
    """Samples named groups of processes every ``interval_s`` (a thread)."""

    def __init__(
        self, groups: Mapping[str, list[int]], interval_s: float = 1.0, machine: bool = False
    ) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self._machine = machine  # also sample MACHINE and STOLEN (their RSS is 0)
        self.samples: list[tuple[float, dict[str, GroupSample]]] = []
        self._spent: dict[str, dict[int, float]] = {}  # group → PID → CPU seconds
        self._waited: dict[str, dict[int, tuple[float, int]]] = {}  # group → TID → wait
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

    def _sample(self) -> dict[str, GroupSample]:
        found = {}
        for name, pids in self.groups.items():
            # A group's CPU (and wait) is that of every process (thread) it ever had:
            # one that has exited (a load generator done before the phase ends) keeps
            # what it used, where reading it again would give 0 and a negative mean.
            spent = self._spent.setdefault(name, {})
            waited = self._waited.setdefault(name, {})
            rss = 0
            for pid in (p for root in pids for p in tree(root)):
                cpu, resident = usage(pid)
                spent[pid] = max(cpu, spent.get(pid, 0.0))
                rss += resident
                for tid, (delay, runs) in waits(pid).items():
                    before = waited.get(tid, (0.0, 0))
                    waited[tid] = (max(delay, before[0]), max(runs, before[1]))
            found[name] = GroupSample(
                sum(spent.values()), rss, sum(d for d, _ in waited.values()),
                sum(r for _, r in waited.values()),
            )  # fmt: skip
        if self._machine:
            busy, stolen = machine_usage()
            found[MACHINE] = GroupSample(busy, 0, machine_waited())
            found[STOLEN] = GroupSample(stolen, 0)
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self._sample()))
            self._stop.wait(self._interval)

    def window(self, name: str, start: float, end: float) -> dict[str, float]:
        """A group's mean CPU (cores) over [start, end], its RSS at the end and peak, and
        how it waited for a core: ``waiting`` is the mean number of its threads runnable
        but not running (for the machine: the share of time anyone was), and
        ``wait_per_run_ms`` the mean wait each time one of them was put on a core."""
        inside = [(t, s[name]) for t, s in self.samples if start <= t <= end and name in s]
        if len(inside) < 2:
            nan = float("nan")
            return {"cores": nan, "rss_bytes": nan, "peak_rss_bytes": 0.0, "waiting": nan,
                    "wait_per_run_ms": nan}  # fmt: skip
        (t0, first), (t1, last) = inside[0], inside[-1]
        runs = last.runs - first.runs
        return {
            "cores": (last.cpu_s - first.cpu_s) / (t1 - t0),
            "rss_bytes": float(last.rss),
            "peak_rss_bytes": float(max(sample.rss for _, sample in inside)),
            "waiting": (last.waited_s - first.waited_s) / (t1 - t0),
            "wait_per_run_ms": (last.waited_s - first.waited_s) / runs * 1000
            if runs
            else float("nan"),
        }
