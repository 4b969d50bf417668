"""The day/night soak: healthy cameras through dusk, lamps, infrared, cars and dawn.

Each camera of the labelled scene set is installed at ``start`` hours (no baseline yet)
and probed every ``every`` seconds of *simulated* time until ``end`` hours the next
morning, through :mod:`device_sim.cameras.facility_day`: the light falls, lamps go on
and off, the camera switches to infrared and back, headlights sweep the wall, slow
shutter halves the frame rate. Every probe goes through the monitor's own pipeline -
measures, mode, the baseline of that mode (learned on the way, from probes it judged
healthy), :func:`~gateway.cameras.faults.assess` and the health state machine
:func:`~gateway.cameras.health.step` with the default incident policy. Nothing is
wrong with any camera, so every fault is false and every ``camera.fault`` a false page.
Pure and fast: no clock is waited on.
"""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.camera_scenes import report_of
from device_sim.cameras.facility_day import hours, moment
from device_sim.cameras.scene_set import STREAM_FPS, SetCamera, capture
from gateway.cameras.baseline import Baselines
from gateway.cameras.config import CamerasConfig
from gateway.cameras.faults import assess
from gateway.cameras.health import CameraIdentity, CameraState, ProbeResult, step
from gateway.cameras.maintenance import in_daily

START_HOUR = 15.0  # installed in the afternoon: the first night comes before long
END_HOUR = 32.0  # 08:00 the next morning


def soak(
    camera_list: Sequence[SetCamera], every: float, start: float = START_HOUR,
    end: float = END_HOUR,
) -> dict[str, Any]:  # fmt: skip
    """Probe each camera from ``start`` to ``end`` hours every ``every`` seconds."""
    config = CamerasConfig()
    started = time.monotonic()
    probes, pages = 0, 0
    kinds: Counter[str] = Counter()
    conditions: Counter[str] = Counter()
    false: list[str] = []
    for camera in camera_list:
        state = CameraState(CameraIdentity(camera.name, "soak"), config.health)
        baselines, infrared = Baselines(), False
        for number, t in enumerate(hours(start, end, every)):
            now = moment(camera, t, infrared)
            infrared = now.lighting.infrared
            rng = np.random.default_rng([number, len(camera.name), 77])
            probe = capture(camera, now.lighting, t, now.fps, rng, condition=now.condition)
            report = report_of(probe)
            daytime = in_daily(config.daylight_hours, t, datetime.UTC)
            verdict = assess(report, baselines, config.thresholds, STREAM_FPS, daytime)
            state, events = step(state, ProbeResult(verdict.faults), t)
            pages += sum(event.type == "camera.fault" for event in events)
            probes += 1
            conditions[now.condition.value] += 1
            if verdict.faults:
                found = sorted(fault.kind.value for fault in verdict.faults)
                kinds.update(found)
                false.append(f"{camera.name} {_clock(t)} {now.condition.value}: {found}")
            elif verdict.mode is not None and report.measures is not None:
                needed = config.baseline_probes
                baselines, _ = baselines.observe(verdict.mode, report.measures, needed, t)
    return {
        "cameras": len(camera_list),
        "simulated_hours": end - start,
        "every_seconds": every,
        "probes": probes,
        "probes_by_condition": dict(conditions),
        "false_faults": len(false),
        "false_faults_by_kind": dict(kinds),
        "false_fault_probes": false[:50],
        "false_pages": pages,
        "seconds": round(time.monotonic() - started, 1),
        "met": pages == 0,
    }


def _clock(t: float) -> str:
    minutes = int(t // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
