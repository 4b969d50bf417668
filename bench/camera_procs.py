"""CPU time of child processes, read from ``/proc`` (Linux): the meter of the camera bench.

A probe worker's CPU is the worker process's user + system time. :class:`ChildCpu` adds
up that time for every child whose command line holds a marker, between two readings,
and also counts the children that exited in between (a killed worker): their time until
the exit comes from ``RUSAGE_CHILDREN``, which grows when a child is reaped.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far; ``None`` once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # After "pid (comm)", field 3 is index 0; utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reaped_children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def children(marker: bytes, parent: int | None = None) -> list[int]:
    """Pids of ``parent``'s (default: this process's) children whose argv holds ``marker``."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None or int(fields[1]) != parent:
            continue
        try:
            argv = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        if marker in argv:
            found.append(int(entry.name))
    return found


class ChildCpu:
    """CPU seconds of this process's children matching ``marker`` between readings.

    Children that exit between :meth:`start` and :meth:`seconds` are counted through
    ``RUSAGE_CHILDREN``; so no other child of this process may be reaped meanwhile.
    """

    def __init__(self, marker: bytes) -> None:
        self._marker = marker
        self._before: dict[int, float] = {}
        self._reaped = 0.0

    def start(self) -> None:
        """Take the first reading."""
        self._before = self._read()
        self._reaped = reaped_children_cpu_seconds()

    def seconds(self) -> float:
        """CPU seconds the matching children used since :meth:`start`."""
        after = self._read()
        live = sum(cpu - self._before.get(pid, 0.0) for pid, cpu in after.items())
        gone = [pid for pid in self._before if pid not in after]
        reaped = reaped_children_cpu_seconds() - self._reaped
        return live + max(0.0, reaped - sum(self._before[pid] for pid in gone))

    def _read(self) -> dict[int, float]:
        readings = {pid: cpu_seconds(pid) for pid in children(self._marker)}
        return {pid: cpu for pid, cpu in readings.items() if cpu is not None}


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()
