"""Night and infrared as first-class conditions, on the labelled scene set.

A small slice of what ``make bench`` scores in full (bench/camera_scenes.py): one camera
of each layout, clean in every lighting and with every fault at its middle strength,
judged by the gateway's own pipeline; and a short day/night soak.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.camera_scenes import EXPECTED, NOT_JUDGED, judge, learn, report_of
from bench.camera_soak import soak
from device_sim.cameras.scene_set import (
    FRAMES,
    SHOTS,
    STRENGTHS,
    Condition,
    Injected,
    SetCamera,
    cameras,
    clean,
    take,
)
from gateway.cameras.analysis import FrameSample, measure
from gateway.cameras.baseline import Baselines
from gateway.cameras.config import Thresholds
from gateway.cameras.faults import FaultKind, assess
from gateway.cameras.modes import Mode, mode_of
from gateway.cameras.probe import ProbeOutcome, ProbeReport

T = Thresholds()
HOURS = {Condition.DAY: 36_000.0, Condition.NIGHT: 75_600.0, Condition.IR: 7_200.0}
CAMERAS = cameras((1,))
LEARNED = {camera.name: learn(camera, T, 5) for camera in CAMERAS}


def ball_on_black(fps: float = 5.0) -> FrameSample:
    """videotestsrc's ball: a white disc crossing a black picture (a lamp in the dark)."""
    frames = []
    for i in range(FRAMES):
        frame = np.zeros((180, 320), np.uint8)
        cv2.circle(frame, (40 + 30 * i, 90 + (i % 3) * 10), 10, 255, -1, cv2.LINE_AA)
        frames.append(frame)
    thumb = np.asarray(cv2.cvtColor(cv2.resize(frames[-1], (64, 36)), cv2.COLOR_GRAY2BGR), np.uint8)
    return FrameSample(frames, thumb, [i / fps for i in range(FRAMES)])


def kinds(report: ProbeReport, baselines: Baselines) -> set[FaultKind]:
    """Faults of a camera streaming 5 fps by design (no expected rate configured)."""
    return {fault.kind for fault in assess(report, baselines, T, None).faults}


@pytest.mark.parametrize("baselines", [Baselines(), LEARNED["corridor-1"]])
def test_white_ball_on_black_is_a_healthy_dark_scene(baselines: Baselines) -> None:
    measures = measure(ball_on_black())
    assert measures is not None
    assert measures.mean_luma < T.black_max_mean_luma  # dark ...
    assert mode_of(measures, T) is Mode.NIGHT
    report = ProbeReport(outcome=ProbeOutcome.REACHABLE, measures=measures)
    assert kinds(report, baselines) == set()  # ... and yet not black, nor low contrast


@pytest.mark.parametrize("camera", CAMERAS, ids=lambda c: c.name)
def test_every_clean_shot_is_healthy_with_and_without_baselines(camera: SetCamera) -> None:
    for shot in SHOTS:
        for seed in range(2):
            probe = clean(camera, shot, HOURS[shot.condition] + 1800.0 * seed, 900 + seed)
            assert judge(probe, Baselines(), T).faults == (), probe.label
            assert judge(probe, LEARNED[camera.name], T).faults == (), probe.label


def test_each_mode_has_its_own_baseline() -> None:
    assert set(LEARNED["room-1"].learned) == {Mode.DAY, Mode.NIGHT, Mode.IR}


def test_infrared_is_grey_and_grey_is_no_colour_cast() -> None:
    infrared = next(shot for shot in SHOTS if shot.condition is Condition.IR)
    report = report_of(clean(CAMERAS[0], infrared, 7200.0, 3))
    assert report.measures is not None
    assert report.measures.colour_cast == pytest.approx(0.0, abs=1e-3)
    assert mode_of(report.measures, T) is Mode.IR


@pytest.mark.parametrize("camera", CAMERAS, ids=lambda c: c.name)
@pytest.mark.parametrize("fault", list(STRENGTHS), ids=str)
def test_each_fault_at_middle_strength_is_found(camera: SetCamera, fault: Injected) -> None:
    for shot in SHOTS:
        if (fault.value, shot.condition.value) in NOT_JUDGED:
            continue
        probe = take(camera, shot, fault, 1, HOURS[shot.condition], 4242)
        found = {f.kind for f in judge(probe, LEARNED[camera.name], T).faults}
        assert found & EXPECTED[fault.value], (probe.label, found)
        assert found <= EXPECTED[fault.value] | {FaultKind.LOW_FPS}, (probe.label, found)


def test_a_live_dark_picture_is_too_dark_unless_the_camera_sees_in_the_dark() -> None:
    capped = take(CAMERAS[0], SHOTS[0], Injected.BLACK, 1, 36_000.0, 5)  # dark, live noise
    report = report_of(capped)
    without_ir = assess(report, Baselines(), T, 25.0)
    assert without_ir.faults == ()
    assert [notice.kind for notice in without_ir.notices] == [FaultKind.TOO_DARK]
    with_ir = assess(report, LEARNED[CAMERAS[0].name], T, 25.0)
    assert [fault.kind for fault in with_ir.faults] == [FaultKind.BLACK]
    dead = report_of(take(CAMERAS[0], SHOTS[0], Injected.BLACK, 0, 36_000.0, 5))
    assert [f.kind for f in assess(dead, Baselines(), T, 25.0).faults] == [FaultKind.BLACK]


def test_a_frozen_picture_under_a_ticking_clock_is_frozen() -> None:
    probe = take(CAMERAS[1], SHOTS[0], Injected.FROZEN, 2, 36_000.0, 8)
    assert any(not np.array_equal(probe.frames[0], f) for f in probe.frames)  # the clock
    found = {fault.kind for fault in judge(probe, LEARNED[CAMERAS[1].name], T).faults}
    assert found == {FaultKind.FROZEN}


def test_afternoon_to_morning_without_a_false_fault() -> None:
    result = soak(CAMERAS, every=1800)
    assert result["probes_by_condition"].keys() == {"day", "night", "ir"}
    assert result["false_fault_probes"] == []
    assert result["false_pages"] == 0
