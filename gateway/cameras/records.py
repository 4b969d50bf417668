"""The monitor's record of each camera: built from the configuration, shown as a view.

:class:`CameraRecord` is what :class:`~gateway.cameras.scheduler.CameraMonitor` keeps per
camera and changes under the record's lock; :func:`view_of` turns it into the read-only
:class:`~gateway.cameras.views.CameraView` the API and the console show.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field, replace

from gateway.cameras import metrics
from gateway.cameras.baseline import Baselines
from gateway.cameras.config import CameraConfig, CamerasConfig, FacilityConfig, Thresholds
from gateway.cameras.faults import Fault
from gateway.cameras.health import CameraIdentity, CameraState, Phase, snoozed
from gateway.cameras.probe import ProbeReport, ProbeRequest
from gateway.cameras.snapshots import SnapshotStore
from gateway.cameras.views import CameraView, HistoryEntry


@dataclass
class CameraRecord:
    """The monitor's mutable record of one camera."""

    config: CameraConfig
    facility: FacilityConfig
    request: ProbeRequest
    thresholds: Thresholds
    state: CameraState
    history: deque[HistoryEntry]
    baselines: Baselines = field(default_factory=Baselines)
    report: ProbeReport | None = None
    mode: str | None = None
    notices: tuple[Fault, ...] = ()
    maintenance: bool = False
    unreachable: int = 0
    due: float = 0.0
    busy: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


def record_of(cfg: CamerasConfig, facility: FacilityConfig, camera: CameraConfig) -> CameraRecord:
    """A fresh record of ``camera`` (state unknown until probed or loaded)."""
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
    return CameraRecord(
        config=camera,
        facility=facility,
        request=request,
        thresholds=cfg.thresholds_for(camera),
        state=CameraState(identity, cfg.health),
        history=deque(maxlen=cfg.history_size),
    )


def view_of(
    camera: CameraRecord, good: SnapshotStore, current: SnapshotStore, now: float
) -> CameraView:
    """What the API shows of ``camera``; ``good`` and ``current`` hold its pictures."""
    report, state = camera.report, camera.state
    measures = report.measures if report else None
    camera_id = camera.config.id
    return CameraView(
        camera_id=camera_id,
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
        baseline_modes=tuple(sorted(mode.value for mode in camera.baselines.learned)),
        has_snapshot=good.has(camera_id),
        mode=camera.mode,
        notices=camera.notices,
        fault_since=dict(state.fault_since),
        snooze=state.snooze if snoozed(state, now) else None,
        snapshot_at=good.saved_at(camera_id),
        has_current=current.has(camera_id),
        current_at=current.saved_at(camera_id),
    )


def slim(report: ProbeReport) -> ProbeReport:
    """The report without the JPEG, edge map and cells, kept per camera for the API."""
    measures = report.measures and replace(
        report.measures, edge_map=(), cell_sharpness=(), cell_std=()
    )
    return report.model_copy(update={"snapshot": None, "measures": measures})


def count(
    camera: CameraRecord, report: ProbeReport, faults: tuple[Fault, ...], duration: float,
    state: CameraState,
) -> None:  # fmt: skip
    """The probe in the Prometheus metrics."""
    metrics.PROBES.labels(report.outcome.value).inc()
    metrics.PROBE_DURATION.observe(duration)
    metrics.PROBE_CPU.inc(report.cpu_seconds)
    for fault in faults:
        metrics.FAULTS.labels(fault.kind.value).inc()
    metrics.set_state(camera.config.id, camera.facility.id, state.phase)


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
