"""The camera bench's measurements, each against the same monitor, pool and farm.

Every phase drives the real :class:`CameraMonitor` (``probe_now`` or its own ``run``)
and reads what happened from the monitor's probe history, its Prometheus metrics and
the worker processes' CPU time in ``/proc``. Every wait is bounded here, by the caller.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY

from bench.camera_decode import LIVE_DEADLINE_SECONDS, OPEN_SECONDS, measure_decoding
from bench.camera_farm import Farm, inject, stream_logins
from bench.camera_procs import ChildCpu, cpu_seconds, own_cpu_seconds
from bench.camera_quality import HEALTHY, Observation, assign, score
from gateway.cameras.config import CamerasConfig
from gateway.cameras.probe import ProbeOutcome
from gateway.cameras.scheduler import CameraMonitor
from gateway.cameras.views import HistoryEntry
from gateway.core.events import Event

WORKER_MARKER = b"gateway.cameras.worker"
INJECT_SECONDS = 600.0  # the first run encodes every fault clip
MATRIX_DEFINITION = (
    "per probe; tp: a camera with the fault reported an expected kind; fn: it did not;"
    " fp: another camera reported that kind and its own fault does not explain it"
)


class EventLog:
    """Keeps what the monitor emits (an ``EventSink`` that cannot fail)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def emit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


@dataclass
class Bench:
    """What every phase works on."""

    config: CamerasConfig
    monitor: CameraMonitor
    farm: Farm
    ids: list[str]
    events: EventLog


async def sweep(bench: Bench, label: str) -> dict[str, Any]:
    """Probe every camera once, as fast as the monitor's concurrency allows."""
    meter = ChildCpu(WORKER_MARKER)
    before = _counters()
    meter.start()
    own, farm = own_cpu_seconds(), cpu_seconds(bench.farm.pid) or 0.0
    clock, started = time.time(), time.monotonic()
    async with asyncio.timeout(_sweep_bound(bench.config, len(bench.ids))):
        await _probe_all(bench.monitor, bench.ids)
    wall = time.monotonic() - started
    worker = meter.seconds()
    own = own_cpu_seconds() - own
    farm = (cpu_seconds(bench.farm.pid) or 0.0) - farm
    after = _counters()
    entries = [e for _, e in _entries_since(bench.monitor, bench.ids, clock)]
    probes = len(entries)
    return {
        "label": label,
        "cameras": len(bench.ids),
        "probes": probes,
        "reachable": sum(e.outcome is ProbeOutcome.REACHABLE for e in entries),
        "with_faults": sum(bool(e.faults) for e in entries),
        "wall_seconds": wall,
        "worker_cpu_seconds": worker,
        "metric_cpu_seconds": after["probe_cpu"] - before["probe_cpu"],
        "monitor_cpu_seconds": own,
        "farm_cpu_seconds": farm,
        "cpu_seconds_per_check": worker / probes if probes else None,
        "worker_cores": worker / wall,
        "gateway_cores": (worker + own) / wall,
        "probe_seconds": spread([e.duration_seconds for e in entries]),
        "first_frame_seconds": spread(_first_frames(bench.monitor)),
        "worker_restarts": int(after["restarts"] - before["restarts"]),
    }


async def decoding(bench: Bench, streams: int, seconds: float) -> dict[str, Any]:
    """The continuous-decoding baseline on the first ``streams`` cameras."""
    logins = stream_logins(bench.farm, bench.ids[:streams])
    async with asyncio.timeout(len(logins) * OPEN_SECONDS + LIVE_DEADLINE_SECONDS + seconds + 60):
        return await measure_decoding(logins, seconds)


async def learn_baselines(bench: Bench) -> list[str]:
    """Probe the cameras without a baseline until they have one (bounded rounds);
    returns those still without."""
    missing = [v.camera_id for v in bench.monitor.cameras() if not v.baseline_learned]
    for _ in range(bench.config.baseline_probes + 2):
        if not missing:
            break
        async with asyncio.timeout(_sweep_bound(bench.config, len(missing))):
            await _probe_all(bench.monitor, missing)
        missing = [v.camera_id for v in bench.monitor.cameras() if not v.baseline_learned]
    return missing


async def soak(bench: Bench, seconds: float) -> dict[str, Any]:
    """The monitor's own scheduler on healthy cameras; every fault it finds is false."""
    meter = ChildCpu(WORKER_MARKER)
    before = _counters()
    first_event = len(bench.events.events)
    meter.start()
    own, clock, started = own_cpu_seconds(), time.time(), time.monotonic()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(bench.monitor.run(), name="soak-monitor")
        await asyncio.sleep(seconds)
        worker, own = meter.seconds(), own_cpu_seconds() - own
        wall = time.monotonic() - started
        after = _counters()
        task.cancel()  # in-flight probes are cancelled and their workers killed
    probed = _entries_since(bench.monitor, bench.ids, clock)
    entries = [e for _, e in probed]
    false = [e for e in entries if e.faults]
    sweeps = int(after["sweeps"] - before["sweeps"])
    incidents = [e for e in bench.events.events[first_event:] if e.type == "camera.fault"]
    return {
        "minutes": seconds / 60,
        "cameras": len(bench.ids),
        "interval_seconds": bench.config.interval_seconds,
        "probes": len(entries),
        "false_faults": len(false),
        "false_faults_by_kind": dict(Counter(f.kind.value for e in false for f in e.faults)),
        "cameras_with_false_faults": len({i for i, e in probed if e.faults}),
        "incidents": len(incidents),
        "sweeps_completed": sweeps,
        "sweep_seconds_mean": (after["sweep_sum"] - before["sweep_sum"]) / sweeps
        if sweeps
        else None,
        "probes_skipped": int(after["skipped"] - before["skipped"]),
        "worker_restarts": int(after["restarts"] - before["restarts"]),
        "worker_cpu_seconds": worker,
        "monitor_cpu_seconds": own,
        "cpu_seconds_per_check": worker / len(entries) if entries else None,
        "gateway_cores": (worker + own) / wall,
        "probe_seconds": spread([e.duration_seconds for e in entries]),
        "met": not false,
    }


async def detect(bench: Bench, per_fault: int, rounds: int) -> dict[str, Any]:
    """Inject the fault matrix, probe every camera ``rounds`` times, score it."""
    faults = assign(bench.ids, per_fault)
    async with asyncio.timeout(INJECT_SECONDS):
        await inject(bench.farm.control_url, {c: f for c, f in faults.items() if f != HEALTHY})
    observations: list[Observation] = []
    for _ in range(rounds):
        clock = time.time()
        async with asyncio.timeout(_sweep_bound(bench.config, len(bench.ids))):
            await _probe_all(bench.monitor, bench.ids)
        for camera_id, entry in _entries_since(bench.monitor, bench.ids, clock):
            kinds = frozenset(fault.kind for fault in entry.faults)
            observations.append(Observation(camera_id, faults[camera_id], kinds))
    result = score(observations)
    result.update(cameras_per_fault=per_fault, rounds=rounds, definition=MATRIX_DEFINITION)
    return result


def spread(values: Sequence[float]) -> dict[str, float] | None:
    """Median, 95th percentile (nearest rank) and maximum; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
        "max": ordered[-1],
    }


async def _probe_all(monitor: CameraMonitor, camera_ids: Sequence[str]) -> None:
    """``probe_now`` on every camera at once; the monitor's semaphore bounds how many run."""
    async with asyncio.TaskGroup() as tg:
        for camera_id in camera_ids:
            tg.create_task(monitor.probe_now(camera_id), name=f"probe-{camera_id}")


def _sweep_bound(config: CamerasConfig, cameras: int) -> float:
    """Longest a sweep can take if every probe runs into its hard timeout, plus slack."""
    return math.ceil(cameras / config.concurrency) * config.probe_timeout_seconds + 60


def _entries_since(
    monitor: CameraMonitor, camera_ids: Sequence[str], clock: float
) -> list[tuple[str, HistoryEntry]]:
    """``(camera id, probe)`` for every probe that finished after ``clock``."""
    return [(i, e) for i in camera_ids for e in monitor.history(i) or () if e.at >= clock]


def _first_frames(monitor: CameraMonitor) -> list[float]:
    """Seconds from opening each camera's stream to its first frame (latest probe)."""
    seconds = (view.stream.get("first_frame_seconds") for view in monitor.cameras())
    return [float(s) for s in seconds if s is not None]


def _counters() -> dict[str, float]:
    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name) or 0.0

    return {
        "probe_cpu": value("gateway_camera_probe_cpu_seconds_total"),
        "restarts": value("gateway_camera_worker_restarts_total"),
        "skipped": value("gateway_camera_probes_skipped_total"),
        "sweeps": value("gateway_camera_sweep_duration_seconds_count"),
        "sweep_sum": value("gateway_camera_sweep_duration_seconds_sum"),
    }
