from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from device_sim.cameras.clips import ClipSpec, spec_for
from device_sim.cameras.faults import PICTURE_FAULTS, Fault, parse_fault
from device_sim.cameras.scene import Frame, render_frames

BASE = ClipSpec(width=160, height=96, fps=4, seconds=1, variant=0)


def _frames(variant: int, fault: Fault) -> list[Frame]:
    return list(render_frames(spec_for(BASE, variant, fault)))


def _sharpness(frame: Frame) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_rendering_is_deterministic() -> None:
    again = _frames(1, Fault.NONE)
    assert all(np.array_equal(a, b) for a, b in zip(_frames(1, Fault.NONE), again, strict=True))


def test_healthy_frames_are_never_bit_identical() -> None:
    frames = _frames(0, Fault.NONE)
    assert len(frames) == 4
    assert frames[0].shape == (96, 160, 3)
    assert frames[0].dtype == np.uint8
    assert not any(np.array_equal(a, b) for a, b in itertools.pairwise(frames))


def test_variants_show_different_scenes() -> None:
    first = [_frames(v, Fault.NONE)[0].astype(np.int16) for v in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(first[i] - first[j]).mean() > 10


def test_non_picture_faults_share_the_healthy_clip() -> None:
    healthy = spec_for(BASE, 3, Fault.NONE)
    for fault in (Fault.OFFLINE, Fault.REFUSED, Fault.UNAUTHORIZED, Fault.NOT_FOUND, Fault.STALL):
        assert spec_for(BASE, 3, fault) == healthy


def test_picture_faults_have_their_own_specs() -> None:
    keys = {spec_for(BASE, 3, fault).key for fault in PICTURE_FAULTS}
    assert len(keys) == len(PICTURE_FAULTS)
    assert spec_for(BASE, 3, Fault.BLACK) == spec_for(BASE, 5, Fault.BLACK)
    assert spec_for(BASE, 3, Fault.LOW_FPS).fps == 1
    assert spec_for(BASE, 3, Fault.FROZEN).frame_count == 1


@pytest.mark.parametrize(
    ("fault", "holds"),
    [
        (Fault.BLACK, lambda f, h: f.mean() < 20),
        (Fault.OVEREXPOSED, lambda f, h: f.mean() > 220),
        (Fault.BLURRED, lambda f, h: _sharpness(f) < _sharpness(h) / 5),
        (Fault.OCCLUDED, lambda f, h: (f.max(axis=2) < 60).mean() > 0.6),
        (Fault.COLOR_CAST, lambda f, h: f[..., 2].mean() > 2 * f[..., :2].mean()),
        (Fault.MOVED, lambda f, h: np.abs(f.astype(int) - h.astype(int)).mean() > 20),
    ],
)
def test_picture_faults_change_the_picture(fault: Fault, holds: object) -> None:
    frame, healthy = _frames(2, fault)[0], _frames(2, Fault.NONE)[0]
    assert callable(holds)
    assert holds(frame, healthy)


def test_snow_changes_wildly_from_frame_to_frame() -> None:
    frames = [f.astype(np.int16) for f in _frames(2, Fault.SNOW)]
    assert all(np.abs(a - b).mean() > 40 for a, b in itertools.pairwise(frames))


def test_frozen_is_a_single_frame() -> None:
    frames = _frames(2, Fault.FROZEN)
    assert len(frames) == 1


def test_low_fps_keeps_the_loop_length() -> None:
    assert len(_frames(0, Fault.LOW_FPS)) == 1 * BASE.seconds


@pytest.mark.parametrize(
    ("text", "fault"),
    [("frozen", Fault.FROZEN), ("Color-Cast", Fault.COLOR_CAST), ("healthy", Fault.NONE)],
)
def test_parse_fault(text: str, fault: Fault) -> None:
    assert parse_fault(text) is fault


def test_parse_fault_lists_names_on_error() -> None:
    with pytest.raises(ValueError, match="frozen"):
        parse_fault("melted")
