"""The scene renderer behaves like a camera: exposure, night, infrared, the clock."""

from __future__ import annotations

import numpy as np

from device_sim.cameras.scenery import Layout, Lighting, build_place, render

CORRIDOR = build_place(Layout.CORRIDOR, 4)
DAY = Lighting(daylight=1.0, lamps=(False, False))
NIGHT = Lighting(daylight=0.0, lamps=(True, False))
INFRARED = Lighting(daylight=0.0, lamps=(False, False), infrared=True)


def frame(lighting: Lighting, seed: int = 1, t: float = 36_000.0) -> np.ndarray:
    return render(CORRIDOR, lighting, t, np.random.default_rng(seed), walker=0.3)


def test_the_same_call_draws_the_same_frame() -> None:
    assert np.array_equal(frame(DAY), frame(DAY))
    assert not np.array_equal(frame(DAY, seed=1), frame(DAY, seed=2))  # fresh noise


def test_a_lamp_lit_night_is_darker_and_noisier_than_the_day() -> None:
    day, night = frame(DAY).astype(float), frame(NIGHT).astype(float)
    assert night.mean() < day.mean() - 30
    assert (frame(NIGHT, 1) - frame(NIGHT, 2).astype(float)).std() > (
        frame(DAY, 1) - frame(DAY, 2).astype(float)
    ).std()


def test_infrared_is_grey_scale() -> None:
    picture = frame(INFRARED).astype(int)
    spread = np.abs(picture[..., 0] - picture[..., 2]).mean()
    assert spread < 1.5  # the IR-cut filter is out: no colour, bar compression


def test_the_clock_is_stamped_on_after_the_optics() -> None:
    earlier, later = frame(DAY, t=36_000.0), frame(DAY, t=36_060.0)
    top = (slice(0, 16), slice(0, 140))
    assert not np.array_equal(earlier[top], later[top])
