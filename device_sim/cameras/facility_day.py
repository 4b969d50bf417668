"""A facility camera's day and night, as light: pure and seeded.

What a camera of the labelled scene set (:mod:`scene_set`) sees at any second of the
day: the sun rising and setting (with clouds), the corridor's lamps on in the evening
and switched on by residents walking at night, the table lamp for reading and a visit
at two in the morning, the exit sign always lit, cars' headlights sweeping the wall,
the camera switching to its infrared illuminator when the light gets too low (and back
when a lamp comes on or the day breaks, with hysteresis, as cameras do), and slow
shutter halving its frame rate in low light. The day/night soak probes a camera
through all of it and must see no fault.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from device_sim.cameras.scene_set import NIGHT_FPS, STREAM_FPS, Condition, SetCamera
from device_sim.cameras.scenery import Layout, Lighting

HOUR = 3600.0
IR_ON_BELOW = 0.03  # light on the scene (daylight = 1) under which the camera goes IR
IR_OFF_ABOVE = 0.08


@dataclass(frozen=True, slots=True)
class Moment:
    """The light on a camera at one second of the day, and what the camera does."""

    lighting: Lighting
    condition: Condition
    fps: float


def daylight(t: float, clouds: float) -> float:
    """Daylight indoors, 0 to 1: dawn 05:30-07:00, dusk 17:00-18:30, ``clouds`` dims it."""
    hour = (t / HOUR) % 24
    if 7.0 <= hour <= 17.0:
        level = 1.0
    elif 5.5 < hour < 7.0:
        level = (hour - 5.5) / 1.5
    elif 17.0 < hour < 18.5:
        level = (18.5 - hour) / 1.5
    else:
        return 0.0
    return level * level * (1.0 - 0.5 * clouds)


def lamps_on(camera: SetCamera, t: float) -> tuple[bool, ...]:
    """Which of the place's fittings are on at ``t``."""
    hour = (t / HOUR) % 24
    layout, count = camera.place.layout, len(camera.place.lamps)
    if layout is Layout.HALL:
        return (True,) * count  # emergency lighting: the exit sign never goes out
    if layout is Layout.ROOM:
        reading = 19.0 <= hour < 21.5 or 2.0 <= hour < 2.2  # and a visit at two
        ceiling = 18.0 <= hour < 20.0
        return (reading, ceiling)[:count]
    evening = 17.5 <= hour < 22.5
    walked = _seeded(camera, t // 240) < 0.15  # a resident passing switches them on
    return (evening or walked, evening)[:count]


def moment(camera: SetCamera, t: float, ir_was_on: bool) -> Moment:
    """The light at ``t``; ``ir_was_on`` carries the camera's switch (hysteresis)."""
    clouds = _seeded(camera, t // (2 * HOUR))
    sun = daylight(t, clouds)
    lamps = lamps_on(camera, t)
    fittings = zip(lamps, camera.place.lamps, strict=True)
    light = sun + sum(lamp.power for on, lamp in fittings if on and lamp.reach >= 0.15)
    infrared = camera.has_ir and (light < IR_ON_BELOW or (ir_was_on and light < IR_OFF_ABOVE))
    headlight = None
    if sun < 0.2 and _seeded(camera, t // 60 + 0.5) < 0.08:  # a car now and then
        headlight = 0.1 + 0.8 * _seeded(camera, t // 60 + 0.25)
    dark = sun < 0.1
    fps = NIGHT_FPS if dark and camera.slow_shutter else STREAM_FPS
    condition = Condition.IR if infrared else Condition.NIGHT if dark else Condition.DAY
    return Moment(Lighting(sun, lamps, infrared, headlight), condition, fps)


def _seeded(camera: SetCamera, key: float) -> float:
    """A repeatable number in [0, 1) for this camera and ``key``."""
    rng = np.random.default_rng([zlib.crc32(camera.name.encode()), int(key * 4)])
    return float(rng.random())


def hours(start: float, end: float, every: float) -> list[float]:
    """Probe times from ``start`` to ``end`` hours, every ``every`` seconds."""
    count = math.floor((end - start) * HOUR / every)
    return [start * HOUR + k * every for k in range(count + 1)]
