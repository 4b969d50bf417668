"""Prometheus metrics of the camera health monitor, on the default registry."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from gateway.cameras.health import Phase

CAMERA_STATE = Gauge(
    "gateway_camera_state",
    "1 for the state each camera is in, 0 for the others.",
    ["camera", "facility", "state"],
)
PROBE_DURATION = Histogram(
    "gateway_camera_probe_duration_seconds",
    "Wall time of one probe, including a hard timeout.",
    buckets=(0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
)
PROBE_CPU = Counter(
    "gateway_camera_probe_cpu_seconds_total",
    "CPU time the worker processes spent on probes.",
)
PROBES = Counter(
    "gateway_camera_probes_total",
    "Probes by outcome (reachable, refused, unreachable, timeout, auth_failed, ...).",
    ["outcome"],
)
PROBES_SKIPPED = Counter(
    "gateway_camera_probes_skipped_total",
    "Probes not started because the camera's previous probe was still running.",
)
FAULTS = Counter(
    "gateway_camera_faults_total",
    "Faults found by probes, by kind (every probe that shows one counts).",
    ["kind"],
)
SWEEP_DURATION = Histogram(
    "gateway_camera_sweep_duration_seconds",
    "From the start of a sweep until its last probe finished.",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800),
)
WORKER_RESTARTS = Counter(
    "gateway_camera_worker_restarts_total",
    "Probe worker processes killed (hung or broken) and replaced.",
)
PROBE_ERRORS = Counter(
    "gateway_camera_probe_errors_total",
    "Probes whose result could not be handled (logged with a traceback).",
)


def set_state(camera: str, facility: str, phase: Phase) -> None:
    """Mark ``phase`` as the camera's state in :data:`CAMERA_STATE`."""
    for candidate in Phase:
        CAMERA_STATE.labels(camera, facility, candidate.value).set(1 if candidate is phase else 0)
