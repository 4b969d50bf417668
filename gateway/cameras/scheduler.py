"""``CameraMonitor``: sweeps every camera each interval and turns probes into events.

::

    dispatch ──(bounded queue)──> probe tasks ×concurrency ──> Prober (worker processes)
                                        │
        assess (faults) -> step (health) -> EventSink.emit -> state, history, baseline,
                                                              snapshot, metrics, saved state

One ``TaskGroup`` in :meth:`CameraMonitor.run` owns the dispatcher and the probe tasks.
Each sweep spreads its probe starts over ``jitter * interval`` seconds. Every probe is
bounded by ``probe_timeout_seconds``, so a hung camera holds one probe task at most that
long and never the others. A camera whose previous probe is still running is skipped for
that sweep (counted). An unreachable camera, once faulty, is re-probed with backoff.
Health states are saved after their events were emitted, so after a restart an incident
continues under its own id (a crash in between only re-emits the same idempotent event).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from gateway.cameras import metrics
from gateway.cameras.analysis import Measures
from gateway.cameras.baseline import Baseline, BaselineStore, accumulate
from gateway.cameras.config import CameraConfig, CamerasConfig, FacilityConfig, Thresholds
from gateway.cameras.faults import Fault, assess
from gateway.cameras.health import (
    CameraIdentity,
    CameraState,
    Phase,
    ProbeResult,
    state_to_dict,
    step,
)
from gateway.cameras.incidents import IncidentStore
from gateway.cameras.maintenance import in_maintenance
from gateway.cameras.probe import ProbeError, ProbeOutcome, Prober, ProbeReport, ProbeRequest
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
class _Camera:
    """The monitor's mutable record of one camera."""

    config: CameraConfig
    facility: FacilityConfig
    request: ProbeRequest
    thresholds: Thresholds
    state: CameraState
    history: deque[HistoryEntry]
    baseline: Baseline | None = None
    learning: tuple[Measures, ...] = ()
    report: ProbeReport | None = None
    maintenance: bool = False
    unreachable: int = 0
    due: float = 0.0
    busy: bool = False


@dataclass
class _Sweep:
    started: float
    pending: int = 0
    planned: bool = False
    closed: bool = False


@dataclass
class _Job:
    camera: _Camera
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
        self._baselines = baselines or BaselineStore(config.snapshot_dir / "baselines")
        self._incidents = incidents or IncidentStore(config.snapshot_dir / "incidents")
        self._clock = clock
        self._rng = rng or random.Random()
        self._tz = config.tzinfo()
        cap = max(config.interval_seconds, config.dead_backoff_cap_seconds)
        self._backoff = Backoff(base=config.interval_seconds, cap=cap)
        self._cameras = {
            camera.id: self._record(facility, camera)
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
        await asyncio.to_thread(self._snapshots.total_bytes)  # indexes the directory
        stored = await asyncio.to_thread(self._baselines.load_all)
        for camera_id, baseline in stored.items():
            if camera_id in self._cameras:
                self._cameras[camera_id].baseline = baseline
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
        """Forget the camera's baseline (after it was deliberately moved); False if unknown."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            return False
        camera.baseline, camera.learning = None, ()
        await asyncio.to_thread(self._baselines.delete, camera_id)
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

    async def _probe(self, camera: _Camera) -> None:
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

    async def _apply(self, camera: _Camera, report: ProbeReport, duration: float) -> None:
        now = self._clock()
        config = camera.config
        faults = assess(report, camera.baseline, camera.thresholds, config.expected_fps)
        windows = [*camera.facility.maintenance, *config.maintenance]
        maintenance = in_maintenance(windows, now, self._tz)
        state, events = step(camera.state, ProbeResult(faults, maintenance), now)
        if events:
            await self._sink.emit(events)  # committed before the state moves on
        changed = state_to_dict(state) != state_to_dict(camera.state)
        camera.state, camera.report, camera.maintenance = state, _slim(report), maintenance
        fps = report.measures.fps if report.measures else None
        camera.history.append(
            HistoryEntry(now, report.outcome, state.phase, faults, duration, fps, maintenance)
        )
        self._schedule_next(camera, report)
        if not faults and report.measures is not None:
            await self._keep_good(camera, report, report.measures, now)
        _count(camera, report, faults, duration)
        if changed:
            await asyncio.to_thread(self._incidents.save, state)

    async def _keep_good(
        self, camera: _Camera, report: ProbeReport, measures: Measures, now: float
    ) -> None:
        camera_id = camera.config.id
        if camera.baseline is None:
            needed = self._config.baseline_probes
            camera.learning, learned = accumulate(camera.learning, measures, needed, now)
            if learned is not None:
                camera.baseline = learned
                await asyncio.to_thread(self._baselines.save, camera_id, learned)
                log.info("camera %s: baseline learned", camera_id)
        if report.snapshot:
            await asyncio.to_thread(self._snapshots.save, camera_id, report.snapshot)

    def _schedule_next(self, camera: _Camera, report: ProbeReport) -> None:
        dead = report.outcome is not ProbeOutcome.REACHABLE
        if not dead or camera.state.phase is not Phase.FAULTY:
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

    def _record(self, facility: FacilityConfig, camera: CameraConfig) -> _Camera:
        cfg = self._config
        request = ProbeRequest(
            url=camera.url,
            username=camera.username,
            password=camera.password,
            open_timeout_seconds=cfg.open_timeout_seconds,
            read_timeout_seconds=cfg.read_timeout_seconds,
            sample_frames=cfg.sample_frames,
            sample_seconds=cfg.sample_seconds,
            analysis_width=cfg.analysis_width,
            snapshot_width=cfg.snapshot_width,
            snapshot_quality=cfg.snapshot_quality,
        )
        identity = CameraIdentity(camera.id, facility.id, tuple(facility.region))
        metrics.set_state(camera.id, facility.id, Phase.UNKNOWN)
        return _Camera(
            config=camera,
            facility=facility,
            request=request,
            thresholds=cfg.thresholds_for(camera),
            state=CameraState(identity, cfg.health),
            history=deque(maxlen=cfg.history_size),
        )

    def _view(self, camera: _Camera) -> CameraView:
        report, state = camera.report, camera.state
        measures = report.measures if report else None
        return CameraView(
            camera_id=camera.config.id,
            name=camera.config.name,
            facility_id=camera.facility.id,
            facility_name=camera.facility.name,
            region=state.identity.region,
            phase=state.phase,
            faults=state.faults,
            last_probe_at=state.last_probe_at,
            outcome=report.outcome if report else None,
            measures=measures.scalars() if measures else {},
            stream=_stream(report),
            incident=state.incident,
            maintenance=camera.maintenance,
            baseline_learned=camera.baseline is not None,
            has_snapshot=self._snapshots.has(camera.config.id),
        )


def _slim(report: ProbeReport) -> ProbeReport:
    """The report without the JPEG and edge map, kept per camera for the API."""
    measures = report.measures and replace(report.measures, edge_map=())
    return report.model_copy(update={"snapshot": None, "measures": measures})


def _stream(report: ProbeReport | None) -> dict[str, float | int | None]:
    if report is None:
        return {}
    return {
        "width": report.width,
        "height": report.height,
        "fps": report.measures.fps if report.measures else None,
        "connect_seconds": report.connect_seconds,
        "first_frame_seconds": report.first_frame_seconds,
        "rtsp_status": report.rtsp_status,
    }


def _count(
    camera: _Camera, report: ProbeReport, faults: tuple[Fault, ...], duration: float
) -> None:
    metrics.PROBES.labels(report.outcome.value).inc()
    metrics.PROBE_DURATION.observe(duration)
    metrics.PROBE_CPU.inc(report.cpu_seconds)
    for fault in faults:
        metrics.FAULTS.labels(fault.kind.value).inc()
    metrics.set_state(camera.config.id, camera.facility.id, camera.state.phase)
