"""Every picture fault on synthetic frames, and the healthy look-alikes that must pass."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.cameras.analysis import (
    FrameSample,
    Gray,
    edge_map,
    frame_rate,
    measure,
    similarity,
)
from gateway.cameras.baseline import Baseline, learn
from gateway.cameras.config import Thresholds
from gateway.cameras.faults import FaultKind, picture_faults
from gateway.cameras.modes import mode_of
from tests.unit.cameras import scenes

T = Thresholds()
ROOM = scenes.room()


def baseline_of(base: scenes.Image, noise: float = 2.5) -> Baseline:
    measured = [measure(scenes.sample(scenes.live(base, noise, seed=s))) for s in range(3)]
    found = [m for m in measured if m is not None]
    return learn(found, now=0.0, mode=mode_of(found[0], T))


def kinds(
    sample: FrameSample,
    baseline: Baseline | None = None,
    expected_fps: float | None = None,
) -> set[FaultKind]:
    """The faults found, against ``baseline`` if the sample is in the baseline's mode."""
    measures = measure(sample)
    assert measures is not None
    mode = mode_of(measures, T)
    own = baseline if baseline is not None and baseline.mode is mode else None
    return {f.kind for f in picture_faults(measures, mode, own, T, expected_fps)}


def gray(image: scenes.Image) -> Gray:
    return image


# Healthy look-alikes: none of these may raise a fault, with or without a baseline.


@pytest.mark.parametrize("learned", [False, True])
def test_live_room_is_healthy(learned: bool) -> None:
    baseline = baseline_of(ROOM) if learned else None
    assert kinds(scenes.sample(scenes.live(ROOM, seed=42)), baseline) == set()


@pytest.mark.parametrize("learned", [False, True])
def test_dark_corridor_at_night_is_not_black(learned: bool) -> None:
    corridor = scenes.dark_corridor()
    baseline = baseline_of(corridor, noise=3.0) if learned else None
    assert kinds(scenes.sample(scenes.live(corridor, 3.0, seed=42)), baseline) == set()


@pytest.mark.parametrize("learned", [False, True])
def test_static_scene_with_sensor_noise_is_not_frozen(learned: bool) -> None:
    baseline = baseline_of(ROOM, noise=1.0) if learned else None
    frames = scenes.live(ROOM, noise=1.0, seed=42)
    assert kinds(scenes.sample(frames), baseline) == set()


@pytest.mark.parametrize("learned", [False, True])
def test_sharp_white_wall_is_not_blurred(learned: bool) -> None:
    wall = scenes.white_wall()
    baseline = baseline_of(wall, noise=1.5) if learned else None
    assert kinds(scenes.sample(scenes.live(wall, 1.5, seed=42)), baseline) == set()


def test_person_walking_through_is_not_a_scene_change() -> None:
    frames = scenes.person_walking(ROOM)
    assert kinds(scenes.sample(frames), baseline_of(ROOM)) == set()


# Faults.


def test_no_frames_measure_nothing() -> None:
    assert measure(FrameSample(grays=[], thumbnail=None, timestamps=[])) is None


def test_frozen_picture() -> None:
    frozen = scenes.live(ROOM, frames=1)[0]
    assert kinds(scenes.sample([frozen] * 8), baseline_of(ROOM)) == {FaultKind.FROZEN}


def test_single_frame_cannot_be_judged_frozen() -> None:
    assert FaultKind.FROZEN not in kinds(scenes.sample(scenes.live(ROOM, frames=1)))


def test_black_picture() -> None:
    black = scenes.live(np.full_like(ROOM, 4), noise=1.0)
    assert kinds(scenes.sample(black)) == {FaultKind.BLACK}
    assert kinds(scenes.sample(black), baseline_of(ROOM)) == {FaultKind.BLACK}


def test_black_and_bit_identical_reports_black_only() -> None:
    black = [np.zeros_like(ROOM)] * 8
    assert kinds(scenes.sample(black), baseline_of(ROOM)) == {FaultKind.BLACK}


def test_overexposed_picture() -> None:
    burnt = np.clip(ROOM.astype(np.int32) * 3 + 60, 0, 255).astype(np.uint8)
    assert kinds(scenes.sample(scenes.live(burnt)), baseline_of(ROOM)) == {FaultKind.OVEREXPOSED}


def test_low_contrast_picture() -> None:
    hazy = (ROOM * 0.15 + 100).astype(np.uint8)
    assert kinds(scenes.sample(scenes.live(hazy)), baseline_of(ROOM)) == {FaultKind.LOW_CONTRAST}


@pytest.mark.parametrize("learned", [False, True])
def test_fog_with_nothing_left_to_see_is_washed_out_or_covered(learned: bool) -> None:
    foggy = (ROOM * 0.06 + 120).astype(np.uint8)  # as featureless as a cover on the lens
    found = kinds(scenes.sample(scenes.live(foggy)), baseline_of(ROOM) if learned else None)
    assert len(found) == 1
    assert found <= {FaultKind.LOW_CONTRAST, FaultKind.OCCLUDED}


@pytest.mark.parametrize(("base", "noise"), [(ROOM, 2.5), (scenes.white_wall(), 1.5)])
def test_defocused_picture_against_own_baseline(base: scenes.Image, noise: float) -> None:
    defocused = scenes.blurred(base, 2.0)
    found = kinds(scenes.sample(scenes.live(defocused, noise, seed=42)), baseline_of(base, noise))
    assert found == {FaultKind.BLURRED}


def test_too_dark_to_judge_focus_is_not_called_blurred() -> None:
    corridor = scenes.dark_corridor()  # two lamps and a few lines: too little detail
    defocused = scenes.blurred(corridor, 2.0)
    sample = scenes.sample(scenes.live(defocused, 3.0, seed=42))
    assert kinds(sample, baseline_of(corridor, 3.0)) == set()


def test_blur_is_not_judged_without_a_baseline() -> None:
    defocused = scenes.blurred(ROOM, 2.0)
    assert kinds(scenes.sample(scenes.live(defocused))) == set()


def test_covered_lens_is_occluded() -> None:
    covered = ROOM.copy()
    covered[:, :270] = 45  # a hand over most of the lens
    assert kinds(scenes.sample(scenes.live(covered)), baseline_of(ROOM)) == {FaultKind.OCCLUDED}


def test_fully_covered_lens_is_occluded_even_before_a_baseline() -> None:
    covered = np.full_like(ROOM, 60)
    cv2.rectangle(covered, (300, 0), (319, 20), 140, -1)
    found = kinds(scenes.sample(scenes.live(covered, noise=1.0)))
    assert FaultKind.OCCLUDED in found


def test_snow_is_noisy() -> None:
    snowy = scenes.live(ROOM, noise=30.0)
    assert kinds(scenes.sample(snowy)) == {FaultKind.NOISY}
    assert kinds(scenes.sample(snowy), baseline_of(ROOM)) == {FaultKind.NOISY}


def test_moderate_noise_is_judged_against_baseline() -> None:
    noisier = scenes.live(ROOM, noise=15.0)
    assert kinds(scenes.sample(noisier), baseline_of(ROOM)) == {FaultKind.NOISY}


def test_colour_cast() -> None:
    frames = scenes.live(ROOM)
    reddish = scenes.sample(frames, gains=(0.55, 0.8, 1.6))
    assert kinds(reddish, baseline_of(ROOM)) == {FaultKind.COLOUR_CAST}
    assert kinds(reddish) == {FaultKind.COLOUR_CAST}


def test_mild_tint_is_not_a_colour_cast() -> None:
    warm = scenes.sample(scenes.live(ROOM), gains=(0.9, 1.0, 1.1))
    assert kinds(warm, baseline_of(ROOM)) == set()


def test_camera_turned_away_is_a_scene_change() -> None:
    turned = scenes.shifted(ROOM, 100)
    assert kinds(scenes.sample(scenes.live(turned)), baseline_of(ROOM)) == {FaultKind.SCENE_CHANGED}


def test_scene_change_needs_a_baseline() -> None:
    assert kinds(scenes.sample(scenes.live(scenes.room(seed=5)))) == set()


def test_low_frame_rate() -> None:
    slow = scenes.sample(scenes.live(ROOM), fps=2.0)
    assert kinds(slow, baseline_of(ROOM)) == {FaultKind.LOW_FPS}


def test_frame_rate_below_expected() -> None:
    halved = scenes.sample(scenes.live(ROOM), fps=12.5)  # slow shutter at night: no fault
    assert kinds(halved, baseline_of(ROOM), expected_fps=25.0) == set()
    ten = scenes.sample(scenes.live(ROOM), fps=10.0)
    assert kinds(ten, baseline_of(ROOM)) == set()
    assert kinds(ten, baseline_of(ROOM), expected_fps=25.0) == {FaultKind.LOW_FPS}


# Measures in isolation.


def test_frame_rate_holds_when_rtcp_rebases_the_clock() -> None:
    # frames read while FFmpeg analysed the stream, then the sender report's re-basing
    assert frame_rate([0.0, 0.2, 0.4, 0.6, 0.0, 0.2, 0.4]) == pytest.approx(5.0)
    assert frame_rate([0.0, 0.2, 0.4, 7.0, 7.2, 7.4]) == pytest.approx(5.0)


def test_frame_rate_skips_repeated_and_backward_timestamps() -> None:
    assert frame_rate([0.0, 0.0, 0.04, 0.08, 0.12]) == pytest.approx(25.0)
    assert frame_rate([0.0, 0.0]) is None
    assert frame_rate([]) is None


def test_edge_map_of_flat_frame_is_zero_and_similarity_bounded() -> None:
    flat = edge_map(np.full((180, 320), 80, np.uint8))
    assert not any(flat)
    room = edge_map(ROOM)
    assert similarity(room, room) == pytest.approx(1.0, abs=1e-3)
    assert similarity(room, flat) == 0.0
    assert similarity(room, room[:10]) == 0.0


def test_colour_cast_of_dark_or_missing_thumbnail_is_zero() -> None:
    dark = scenes.sample(scenes.live(np.full_like(ROOM, 7), noise=0.5), gains=(1, 1, 3))
    measured = measure(dark)
    assert measured is not None
    assert measured.colour_cast == 0.0
    no_thumb = measure(FrameSample(grays=scenes.live(ROOM), thumbnail=None, timestamps=[]))
    assert no_thumb is not None
    assert no_thumb.colour_cast == 0.0
    assert no_thumb.fps is None
