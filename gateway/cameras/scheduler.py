"""``CameraMonitor``: sweeps every camera each interval and turns probes into events.

::

    dispatch ──(bounded queue)──> probe tasks ×concurrency ──> Prober (worker processes)
                                        │
        assess (mode, faults) -> step (health) -> EventSink.emit -> state, history,
                                   baseline of the mode, snapshots, metrics, saved state

One ``TaskGroup`` in :meth:`CameraMonitor.run` owns the dispatcher and the probe tasks.
Each sweep spreads its probe starts over ``jitter * interval`` seconds. Every probe is
bounded by ``probe_timeout_seconds``, so a hung camera holds one probe task at most that
long and never the others. A camera whose previous probe is still running is skipped for
that sweep (counted). An unreachable camera, once faulty, is re-probed with backoff.
Health states are saved after their events were emitted, so after a restart an incident
continues under its own id (a crash in between only re-emits the same idempotent event).
A camera's state changes under its own lock, so a technician's acknowledgement or snooze
is never lost to a probe finishing at the same moment.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gateway.cameras import metrics
from gateway.cameras.baseline import Baselines, BaselineStore
from gateway.cameras.config import CamerasConfig
from gateway.cameras.faults import Verdict, assess
from gateway.cameras.health import (
    CameraState,
    Phase,
    ProbeResult,
    acknowledge,
    snooze,
    snoozed,
    state_to_dict,
    step,
)
from gateway.cameras.incidents import IncidentStore
from gateway.cameras.maintenance import in_daily, in_maintenance
from gateway.cameras.probe import ProbeError, ProbeOutcome, Prober, ProbeReport
from gateway.cameras.records import CameraRecord, count, record_of, slim, view_of
from gateway.cameras.snapshots import SnapshotStore
from gateway.cameras.views import CameraView, HistoryEntry
from gateway.core.backoff import Backoff
from gateway.core.events import EventSink

log = logging.getLogger(__name__)


def plan_sweep(
    camera_ids: Sequence[str], spread: float, rng: random.Random
) -> list[tuple[float, str]]:
    """Start offsets for one sweep: each camera gets its own slice of ``spread`` seconds
    (so the load is even) at a random point in it, in a shuffled order."""
    order = list(camera_ids)
    rng.shuffle(order)
    count = len(order)
    return [((i + rng.random()) * spread / count, cam) for i, cam in enumerate(order)]


@dataclass
class _Sweep:
    started: float
    pending: int = 0
    planned: bool = False
    closed: bool = False


@dataclass
class _Job:
    camera: CameraRecord
    sweep: _Sweep = field(repr=False)


class CameraMonitor:
    """Probes the configured cameras and reports their health.

    ``prober`` runs the probes (normally a :class:`~gateway.cameras.pool.ProcessProber`),
    ``sink`` receives ``camera.fault`` / ``camera.restored`` events. ``clock`` gives Unix
    time for the state machine and maintenance windows.
    """

    def __init__(
        self,
        config: CamerasConfig,
        prober: Prober,
        sink: EventSink,
        *,
        snapshots: SnapshotStore | None = None,
        baselines: BaselineStore | None = None,
        incidents: IncidentStore | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._prober = prober
        self._sink = sink
        self._snapshots = snapshots or SnapshotStore(config.snapshot_dir, config.snapshot_max_bytes)
        self._current = SnapshotStore(config.snapshot_dir / "current", config.snapshot_max_bytes)
        self._baselines = baselines or BaselineStore(config.snapshot_dir / "baselines")
        self._incidents = incidents or IncidentStore(config.snapshot_dir / "incidents")
        self._clock = clock
        self._rng = rng or random.Random()
        self._tz = config.tzinfo()
        cap = max(config.interval_seconds, config.dead_backoff_cap_seconds)
        self._backoff = Backoff(base=config.interval_seconds, cap=cap)
        self._cameras = {
            camera.id: record_of(config, facility, camera)
            for facility in config.facilities
            for camera in facility.cameras
            if camera.enabled
        }
        self._skip_logged: set[str] = set()
        self._slots = asyncio.Semaphore(config.concurrency)

    async def run(self) -> None:
        """Probe forever: one dispatcher and ``concurrency`` probe tasks."""
        if not self._config.enabled or not self._cameras:
            log.info("camera monitor has nothing to do")
            return
        await self.load()
        queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=self._config.concurrency)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._dispatch(queue), name="cameras-dispatch")
            for number in range(self._config.concurrency):
                tg.create_task(self._consume(queue), name=f"cameras-probe-{number}")

    async def load(self) -> None:
        """Take up the baselines, snapshots and health states an earlier run left on disk."""
        await asyncio.to_thread(self._snapshots.total_bytes)  # indexes the directories
        await asyncio.to_thread(self._current.total_bytes)
        stored = await asyncio.to_thread(self._baselines.load_all)
        for camera_id, learned in stored.items():
            if camera_id in self._cameras:
                self._cameras[camera_id].baselines = Baselines(learned)
        for camera in self._cameras.values():
            camera.state = await asyncio.to_thread(self._incidents.load, camera.state)
            metrics.set_state(camera.config.id, camera.facility.id, camera.state.phase)

    async def probe_now(self, camera_id: str) -> CameraView | None:
        """Probe one camera at once, outside the sweeps (skipped if one is running)."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        if not camera.busy:
            camera.busy = True
            try:
                await self._probe(camera)
            finally:
                camera.busy = False
        return self._view(camera)

    async def relearn(self, camera_id: str) -> bool:
        """Forget the camera's baselines (after it was deliberately moved); False if unknown."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return False
        camera.baselines = Baselines()
        await asyncio.to_thread(self._baselines.delete, camera_id)
        return True

    async def acknowledge(self, camera_id: str, by: str, reason: str) -> bool | None:
        """Acknowledge the camera's open incident; ``None`` for an unknown camera, False
        when no incident is open."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return None
        async with camera.lock:
            state = acknowledge(camera.state, by, reason, self._clock())
            if state is None:
                return False
            await self._keep_state(camera, state)
        return True

    async def snooze(self, camera_id: str, by: str, reason: str, seconds: float) -> bool:
        """Hold the camera's events back for ``seconds`` (0 ends a snooze); False if unknown."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return False
        async with camera.lock:
            now = self._clock()
            await self._keep_state(camera, snooze(camera.state, by, reason, now + seconds, now))
        return True

    def cameras(self) -> list[CameraView]:
        """Every monitored camera, in configuration order."""
        return [self._view(camera) for camera in self._cameras.values()]

    def camera(self, camera_id: str) -> CameraView | None:
        """One camera, or ``None``."""
        camera = self._cameras.get(camera_id)
        return None if camera is None else self._view(camera)

    def history(self, camera_id: str) -> list[HistoryEntry] | None:
        """The camera's recent probes, oldest first, or ``None`` if unknown."""
        camera = self._cameras.get(camera_id)
        return None if camera is None else list(camera.history)

    def snapshot(self, camera_id: str) -> bytes | None:
        """The camera's latest good frame as JPEG (blocking file read)."""
        if camera_id not in self._cameras:
            return None
        return self._snapshots.read(camera_id)

    def current(self, camera_id: str) -> bytes | None:
        """The frame of the camera's latest probe as JPEG, fault or not (blocking)."""
        if camera_id not in self._cameras:
            return None
        return self._current.read(camera_id)

    async def _dispatch(self, queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        interval = self._config.interval_seconds
        start = loop.time()
        while True:
            sweep = _Sweep(started=start)
            due = [c.config.id for c in self._cameras.values() if c.due <= start]
            for offset, camera_id in plan_sweep(due, interval * self._config.jitter, self._rng):
                await asyncio.sleep(max(0.0, start + offset - loop.time()))
                camera = self._cameras[camera_id]
                if camera.busy:
                    self._count_skip(camera_id)
                    continue
                camera.busy = True
                sweep.pending += 1
                await queue.put(_Job(camera, sweep))
            sweep.planned = True
            self._close_sweep(sweep, loop.time())
            start = max(start + interval, loop.time())
            await asyncio.sleep(max(0.0, start - loop.time()))

    async def _consume(self, queue: asyncio.Queue[_Job]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await queue.get()
            try:
                await self._probe(job.camera)
            except Exception:
                metrics.PROBE_ERRORS.inc()
                log.exception("camera %s: handling the probe failed", job.camera.config.id)
            finally:
                job.camera.busy = False
                job.sweep.pending -= 1
                self._close_sweep(job.sweep, loop.time())
                queue.task_done()

    async def _probe(self, camera: CameraRecord) -> None:
        loop = asyncio.get_running_loop()
        async with self._slots:  # the hard timeout must not run while waiting for a worker
            started = loop.time()
            try:
                async with asyncio.timeout(self._config.probe_timeout_seconds):
                    report = await self._prober.probe(camera.request)
            except TimeoutError:
                report = ProbeReport.failed(ProbeOutcome.TIMEOUT, "no result within the timeout")
            except ProbeError as exc:
                report = ProbeReport.failed(ProbeOutcome.ERROR, str(exc))
            duration = loop.time() - started
        await self._apply(camera, report, duration)

    async def _apply(self, camera: CameraRecord, report: ProbeReport, duration: float) -> None:
        async with camera.lock:
            now = self._clock()
            config = camera.config
            daylit = config.daylight and in_daily(self._config.daylight_hours, now, self._tz)
            verdict = assess(
                report, camera.baselines, camera.thresholds, config.expected_fps, daylit
            )
            faults = verdict.faults
            windows = [*camera.facility.maintenance, *config.maintenance]
            quiet = in_maintenance(windows, now, self._tz) or snoozed(camera.state, now)
            state, events = step(camera.state, ProbeResult(faults, quiet), now)
            if events:
                await self._sink.emit(events)  # committed before the state moves on
            camera.report, camera.maintenance = slim(report), quiet
            camera.mode = None if verdict.mode is None else verdict.mode.value
            camera.notices = verdict.notices
            fps = report.measures.fps if report.measures else None
            camera.history.append(
                HistoryEntry(now, report.outcome, state.phase, faults, duration, fps, quiet)
            )
            self._schedule_next(camera, report, state)
            await self._keep_pictures(camera, report, verdict, now)
            count(camera, report, faults, duration, state)
            await self._keep_state(camera, state)

    async def _keep_state(self, camera: CameraRecord, state: CameraState) -> None:
        """Adopt ``state`` and save it if what survives a restart changed."""
        changed = state_to_dict(state) != state_to_dict(camera.state)
        camera.state = state
        if changed:
            await asyncio.to_thread(self._incidents.save, state)

    async def _keep_pictures(
        self, camera: CameraRecord, report: ProbeReport, verdict: Verdict, now: float
    ) -> None:
        """The current frame always; a healthy one also as the good frame and towards
        the baseline of its mode."""
        camera_id = camera.config.id
        if report.snapshot:
            await asyncio.to_thread(self._current.save, camera_id, report.snapshot)
        measures = report.measures
        if verdict.faults or verdict.notices or measures is None or verdict.mode is None:
            return
        needed = self._config.baseline_probes
        camera.baselines, learned = camera.baselines.observe(verdict.mode, measures, needed, now)
        if learned is not None:
            await asyncio.to_thread(self._baselines.save, camera_id, camera.baselines.learned)
            log.info("camera %s: %s baseline learned", camera_id, learned.mode.value)
        if report.snapshot:
            await asyncio.to_thread(self._snapshots.save, camera_id, report.snapshot)

    def _schedule_next(self, camera: CameraRecord, report: ProbeReport, state: CameraState) -> None:
        dead = report.outcome is not ProbeOutcome.REACHABLE
        if not dead or state.phase is not Phase.FAULTY:
            camera.unreachable, camera.due = 0, 0.0
            return
        delay = self._backoff.delay(camera.unreachable, self._rng)
        camera.unreachable += 1
        camera.due = asyncio.get_running_loop().time() + delay

    def _close_sweep(self, sweep: _Sweep, now: float) -> None:
        if sweep.planned and sweep.pending == 0 and not sweep.closed:
            sweep.closed = True
            metrics.SWEEP_DURATION.observe(now - sweep.started)

    def _count_skip(self, camera_id: str) -> None:
        metrics.PROBES_SKIPPED.inc()
        if camera_id not in self._skip_logged:
            self._skip_logged.add(camera_id)
            log.warning("camera %s: previous probe still running, sweep skips it", camera_id)

    def _view(self, camera: CameraRecord) -> CameraView:
        return view_of(camera, self._snapshots, self._current, self._clock())
