"""Detection on the labelled scene set, per fault and per condition (day, night, infrared).

The set (:mod:`device_sim.cameras.scene_set`) renders what probes of facility cameras
decode: a corridor with residents walking, a room with a bed and a table lamp, a quiet
hall with an exit sign, each by daylight, under lamps at night and in infrared, clean
and with every picture fault at three strengths. Each probe goes through the gateway's
own pipeline, exactly as a live one does: :func:`gateway.cameras.capture.sample_of`,
:func:`gateway.cameras.analysis.measure`, the mode, the camera's baseline for that mode
and :func:`gateway.cameras.faults.assess`.

Each camera first lives through its clean shots (as a camera that has run a day and a
night has) and so learns a baseline per mode from probes it judged healthy; then every
probe of the set is judged. The same clean probes are also judged with no baseline at
all (a camera on its first day): no fault may show there either. Pure and
deterministic; no network, no processes.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.camera_quality import HEALTHY, Observation, score
from device_sim.cameras.scene_set import (
    SHOTS,
    STRENGTHS,
    Condition,
    Injected,
    LabelledProbe,
    SetCamera,
    cameras,
    clean,
    faulty_set,
)
from gateway.cameras.analysis import measure
from gateway.cameras.baseline import Baselines
from gateway.cameras.capture import sample_of
from gateway.cameras.config import CamerasConfig, Thresholds
from gateway.cameras.faults import FaultKind, Verdict, assess
from gateway.cameras.maintenance import in_daily
from gateway.cameras.probe import ProbeOutcome, ProbeReport

K = FaultKind
EXPECTED: dict[str, frozenset[FaultKind]] = {
    HEALTHY: frozenset(),
    "black": frozenset({K.BLACK}),
    "frozen": frozenset({K.FROZEN}),
    "blurred": frozenset({K.BLURRED}),
    # A veil thick enough leaves nothing to see: a lens under a cover looks the same.
    "low_contrast": frozenset({K.LOW_CONTRAST, K.OCCLUDED}),
    "overexposed": frozenset({K.OVEREXPOSED}),
    "noisy": frozenset({K.NOISY}),
    "colour_cast": frozenset({K.COLOUR_CAST}),
    # A cover over all of the lens is a featureless picture: dark, or washed out.
    "occluded": frozenset({K.OCCLUDED, K.BLACK, K.LOW_CONTRAST}),
    "moved": frozenset({K.SCENE_CHANGED}),
    "low_fps": frozenset({K.LOW_FPS}),
}
"""Injected fault -> the kinds the monitor may report for it."""

NOT_JUDGED: dict[tuple[str, str], str] = {
    ("moved", Condition.NIGHT.value): "at night the edges follow the lamps that are on;"
    " a moved camera is found at its next daylight or infrared probe",
    ("blurred", Condition.NIGHT.value): "at night the lit cells, their contrast and the"
    " noise of full gain change with the lamps more than a defocus does; a blurred"
    " lens is found at its next daylight or infrared probe",
}
"""(fault, condition) pairs the monitor deliberately does not judge, and why."""

TARGET_RECALL = 0.95
ANALYSIS_WIDTH = 320
DAYLIGHT_HOURS = CamerasConfig().daylight_hours
UTC = datetime.UTC  # the set's times are seconds of its own day
LEARNING_PROBES_PER_SHOT = 3


@dataclass(frozen=True, slots=True)
class Plan:
    """How many cameras the run renders: one per layout and seed."""

    seeds: tuple[int, ...]


FULL = Plan(seeds=(1, 2, 3))
QUICK = Plan(seeds=(1,))


def run_scene_set(quick: bool, plan: Plan | None = None) -> dict[str, Any]:
    """Render and judge the whole set; precision and recall overall and per condition."""
    plan = plan or (QUICK if quick else FULL)
    started = time.monotonic()
    config = CamerasConfig()
    thresholds = config.thresholds
    observations, cold = [], []
    for camera in cameras(plan.seeds):
        baselines = learn(camera, thresholds, config.baseline_probes)
        for probe in faulty_set([camera], seed=plan.seeds.index(_seed(camera))):
            verdict = judge(probe, baselines, thresholds)
            observations.append(observation(probe, verdict))
            if probe.fault is Injected.NONE:
                cold.append(observation(probe, judge(probe, Baselines(), thresholds)))
    result = summarise(observations, cold)
    result.update(
        cameras=len(plan.seeds) * 3,
        probes=len(observations),
        strengths={fault.value: list(values) for fault, values in STRENGTHS.items()},
        seconds=round(time.monotonic() - started, 1),
    )
    return result


def learn(camera: SetCamera, thresholds: Thresholds, needed: int) -> Baselines:
    """The camera's baselines after it saw each of its clean shots a few times, learning
    from the probes it judged healthy (as the monitor does)."""
    baselines = Baselines()
    for round_ in range(max(needed, LEARNING_PROBES_PER_SHOT)):
        for index, shot in enumerate(SHOTS):
            probe = clean(
                camera, shot, _hour(shot) * 3600 + 600 * round_, 5000 + 11 * round_ + index
            )
            verdict = judge(probe, baselines, thresholds)
            measures = report_of(probe).measures
            if not verdict.faults and verdict.mode is not None and measures is not None:
                baselines, _ = baselines.observe(verdict.mode, measures, needed, probe.at)
    return baselines


def judge(probe: LabelledProbe, baselines: Baselines, thresholds: Thresholds) -> Verdict:
    """What the monitor finds in ``probe`` (with the default daylight hours)."""
    daytime = in_daily(DAYLIGHT_HOURS, probe.at, UTC)
    return assess(report_of(probe), baselines, thresholds, probe.expected_fps, daytime)


def observation(probe: LabelledProbe, verdict: Verdict) -> Observation:
    """The probe's label and what was reported, for scoring."""
    kinds = frozenset(fault.kind for fault in verdict.faults)
    return Observation(probe.label, probe.fault.value, kinds, probe.condition.value)


def summarise(observations: Sequence[Observation], cold: Sequence[Observation]) -> dict[str, Any]:
    """Scores overall and per condition, false faults on clean probes, and the verdict."""
    overall = score(observations, EXPECTED)
    conditions = {c.value: score(_only(observations, c), EXPECTED) for c in Condition}
    clean_false = [o for o in observations if o.injected == HEALTHY and o.reported]
    cold_false = [o for o in cold if o.reported]
    misses = _misses(conditions)
    return {
        "overall": overall,
        "by_condition": conditions,
        "clean_probes": sum(o.injected == HEALTHY for o in observations),
        "false_faults_on_clean": [
            f"{o.camera_id}: {sorted(k.value for k in o.reported)}" for o in clean_false
        ],
        "cold_start_probes": len(cold),
        "false_faults_on_clean_cold_start": [
            f"{o.camera_id}: {sorted(k.value for k in o.reported)}" for o in cold_false
        ],
        "not_judged": {
            f"{fault}/{condition}": why for (fault, condition), why in NOT_JUDGED.items()
        },
        "below_target": misses,
        "target_recall": TARGET_RECALL,
        "met": not clean_false and not cold_false and not misses,
    }


def _misses(conditions: dict[str, dict[str, Any]]) -> dict[str, float]:
    found = {}
    for condition, result in conditions.items():
        for fault, row in result["by_fault"].items():
            recall = row["recall"]
            if (fault, condition) in NOT_JUDGED or recall is None:
                continue
            if recall < TARGET_RECALL:
                found[f"{fault}/{condition}"] = round(recall, 3)
    return found


def _only(observations: Iterable[Observation], condition: Condition) -> list[Observation]:
    return [o for o in observations if o.condition == condition.value]


def report_of(probe: LabelledProbe) -> ProbeReport:
    """The report a probe worker would send for these frames."""
    sample = sample_of(list(probe.frames), list(probe.timestamps), ANALYSIS_WIDTH)
    return ProbeReport(outcome=ProbeOutcome.REACHABLE, measures=measure(sample))


def _seed(camera: SetCamera) -> int:
    return int(camera.name.rsplit("-", 1)[1])


def _hour(shot: Any) -> float:
    return {Condition.DAY: 10.0, Condition.NIGHT: 21.0, Condition.IR: 2.0}[shot.condition]
