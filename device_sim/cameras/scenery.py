"""Facility scenes under changing light: daylight, lamps at night, infrared. Pure.

A :class:`Place` is a room, a corridor or a quiet hall with its furniture, seeded, in
*reflectance* (how much light each surface sends back, per colour, and in infrared).
:func:`render` lights it with a :class:`Lighting` — daylight through the window and
the ceiling, the facility's lamps, a car's headlights sweeping the wall, or the
camera's own infrared illuminator — and turns it into the 8-bit BGR frame a camera
sends: auto-exposure with a gain limit, sensor noise that grows with the gain, a
grey-scale picture in infrared (the IR-cut filter is out, so there is no colour),
the on-screen clock stamped on after the optics, and JPEG-like blocking.

Everything is a function of the place, the lighting, the time and a seed, so the same
call always draws the same frame; the labelled scene set (:mod:`scene_set`) and the
day/night soak build on it.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
Linear = npt.NDArray[np.float32]

WARM = np.array([0.78, 0.9, 1.0], np.float32)  # a warm lamp after white balance, BGR
DAYLIGHT = np.array([1.0, 1.0, 0.97], np.float32)
IR_LUMA = np.array([0.2, 0.4, 0.4], np.float32)  # how BGR reflectance reads in infrared


class Layout(enum.StrEnum):
    """The kinds of place a facility camera watches."""

    CORRIDOR = "corridor"  # a long corridor, residents walking along it
    ROOM = "room"  # a resident's room with a bed, a window and a table lamp
    HALL = "hall"  # an entrance hall at the stairs: little ever moves


@dataclass(frozen=True, slots=True)
class Lamp:
    """A light fitting: position (fractions of the frame), reach and look."""

    x: float
    y: float
    reach: float  # fraction of the frame width the pool of light covers
    radius: float  # the glowing fitting itself, fraction of the width
    power: float = 0.3  # light at the centre of the pool (daylight indoors is 1)


@dataclass(frozen=True, slots=True, eq=False)
class Place:
    """A seeded place in reflectance, at the camera's resolution."""

    layout: Layout
    seed: int
    width: int
    height: int
    albedo: Linear = field(repr=False)  # BGR reflectance in [0, 1]
    infrared: Linear = field(repr=False)  # reflectance in infrared, single channel
    window: tuple[int, int, int, int] | None  # x0, y0, x1, y1 of daylight coming in
    lamps: tuple[Lamp, ...]
    walk: tuple[float, float, float]  # the resident's path: y of the feet, x from, x to
    walker_colour: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Lighting:
    """The light on the scene at one moment.

    ``daylight`` 0 (night) to 1 (noon); ``lamps`` which fittings are on; ``infrared``
    whether the camera switched to its illuminator (grey-scale picture);
    ``headlight`` where a passing car's beam is on the wall (fraction of the width),
    ``None`` when none passes.
    """

    daylight: float = 1.0
    lamps: tuple[bool, ...] = ()
    infrared: bool = False
    headlight: float | None = None


@dataclass(frozen=True, slots=True)
class Sensor:
    """How the camera turns light into a frame."""

    target: float = 0.18  # auto-exposure aims the scene at mid-grey (linear)
    max_gain: float = 8.0  # about 18 dB: beyond this the picture stays dark
    noise: float = 1.5  # grey levels of noise at unity gain
    quality: int = 80  # JPEG quality standing in for the stream's compression
    clock: bool = True  # the on-screen clock stamped into every frame


def build_place(layout: Layout, seed: int, width: int = 320, height: int = 180) -> Place:
    """The seeded place of ``layout`` at ``width`` x ``height``."""
    rng = np.random.default_rng([seed, list(Layout).index(layout)])
    albedo = np.empty((height, width, 3), np.float32)
    horizon = int(height * rng.uniform(0.55, 0.68))
    albedo[:horizon] = rng.uniform(0.35, 0.75, 3)  # wall
    albedo[horizon:] = rng.uniform(0.08, 0.35, 3)  # floor
    texture = cv2.resize(
        rng.normal(0, 0.05, (max(2, height // 20), max(2, width // 20))).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    grain = rng.normal(0, 0.02, (height, width)).astype(np.float32)
    albedo += (texture + grain)[..., None]
    draw = _DRAW[layout]
    window, lamps, walk = draw(albedo, rng, horizon)
    np.clip(albedo, 0.02, 0.95, out=albedo)
    luma = albedo @ IR_LUMA  # in infrared fabrics and paint read brighter, and flatter
    infrared = np.clip(0.35 + 1.3 * (luma - luma.mean()) + 0.1, 0.02, 0.95).astype(np.float32)
    colour = tuple(float(c) for c in rng.uniform(0.15, 0.75, 3))
    return Place(
        layout, seed, width, height, albedo, infrared, window, lamps, walk,
        (colour[0], colour[1], colour[2]),
    )  # fmt: skip


def render(
    place: Place,
    lighting: Lighting,
    t: float,
    rng: np.random.Generator,
    sensor: Sensor = Sensor(),
    walker: float | None = None,
) -> Frame:
    """The frame the camera sends at ``t`` (seconds of the day): optics, then sensor.

    ``walker`` is where along its path the resident is (0 to 1), ``None`` when nobody
    is in view.
    """
    image = optics(place, lighting, walker)
    gain = exposure_gain(image, sensor)
    shown = develop(image, gain)
    frame = add_noise(shown, noise_for(gain, sensor), rng, lighting.infrared)
    return finish(frame, t, sensor)


def optics(place: Place, lighting: Lighting, walker: float | None = None) -> Linear:
    """Linear light reaching the sensor, before exposure (BGR, or grey in infrared)."""
    reflect = place.infrared[..., None] if lighting.infrared else place.albedo
    reflect = np.array(np.broadcast_to(reflect, place.albedo.shape), np.float32)
    if walker is not None:
        _draw_walker(reflect, place, walker, lighting.infrared)
    image = reflect * illumination(place, lighting)  # cached: the lighting rarely changes
    for lamp, on in zip(place.lamps, lighting.lamps, strict=False):
        if on:  # the fitting itself glows far above anything it lights
            _glow(image, place, lamp, 3.0 if lighting.infrared else 6.0)
    if lighting.infrared:
        image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    return image.astype(np.float32)


@functools.lru_cache(maxsize=64)
def illumination(place: Place, lighting: Lighting) -> Linear:
    """Light falling on each point (BGR): daylight, lamps, headlights, illuminator.

    Cached per place (by identity) and lighting; callers must not modify the result.
    """
    h, w = place.height, place.width
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    light = np.zeros((h, w, 3), np.float32)
    if lighting.daylight > 0:
        day = 0.6 + 0.4 * _window_falloff(place, x, y)
        light += (lighting.daylight * day)[..., None] * DAYLIGHT
    for lamp, on in zip(place.lamps, lighting.lamps, strict=False):
        if on:
            d2 = ((x - lamp.x * w) ** 2 + (y - lamp.y * h) ** 2) / (lamp.reach * w) ** 2
            light += (lamp.power / (1.0 + d2) ** 2)[..., None] * WARM
    if lighting.headlight is not None:
        d2 = ((x - lighting.headlight * w) / (0.12 * w)) ** 2 + ((y - 0.35 * h) / (0.2 * h)) ** 2
        light += (0.5 * np.exp(-d2))[..., None] * DAYLIGHT
    if lighting.infrared:
        d2 = ((x - w / 2) / (0.45 * w)) ** 2 + ((y - h * 0.6) / (0.6 * h)) ** 2
        light += (0.01 + 0.14 * np.exp(-d2))[..., None]
    return light


def exposure_gain(image: Linear, sensor: Sensor) -> float:
    """Auto-exposure: the gain that brings the scene to the target level, capped.

    Metering weighs the median (the bulk of the scene) over the mean, so a lamp in view
    does not darken everything else; at night the cap leaves the picture dark.
    """
    sample = image[::4, ::4]  # metering looks at a coarse grid, as cameras' do
    level = 0.75 * float(np.median(sample)) + 0.25 * float(sample.mean())
    return min(sensor.max_gain, sensor.target / max(level, 1e-4))


def _tone_curve(steps: int = 4096) -> Linear:
    y = np.linspace(0.0, 1.0, steps, dtype=np.float32) ** (1 / 2.2)
    y = 0.4 * y + 0.6 * y * y * (3.0 - 2.0 * y)  # the camera's S-shaped tone curve
    return np.asarray(y * 255.0, np.float32)


_TONE = _tone_curve()


def develop(image: Linear, gain: float) -> Linear:
    """Exposure and the camera's gamma: grey levels 0..255 (float, not yet noisy)."""
    index = np.clip(image * np.float32(gain * (len(_TONE) - 1)), 0, len(_TONE) - 1)
    shown: Linear = _TONE[index.astype(np.int32)]
    return shown


def noise_for(gain: float, sensor: Sensor) -> float:
    """Sensor noise (grey levels) at ``gain``: it grows with the square root of the gain."""
    return sensor.noise * math.sqrt(max(1.0, gain))


def add_noise(shown: Linear, sigma: float, rng: np.random.Generator, grey: bool) -> Frame:
    """Sensor noise (the same in every channel of a grey-scale picture), 8-bit.

    Drawn from a bank of Gaussian fields at a random offset: as random frame to frame as
    the measures can tell, at a fraction of the cost of drawing every pixel anew.
    """
    h, w = shown.shape[:2]
    channels = 1 if grey else 3
    bank = _noise_bank(h * w * channels)
    field = bank[int(rng.integers(len(bank)))]
    noise = np.roll(field, int(rng.integers(field.size))).reshape(h, w, channels)
    return np.clip(shown + noise * np.float32(sigma), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _noise_bank(size: int) -> tuple[Linear, ...]:
    rng = np.random.default_rng(20240514)
    return tuple(rng.standard_normal(size, dtype=np.float32) for _ in range(6))


def finish(frame: Frame, t: float, sensor: Sensor) -> Frame:
    """The clock stamped on and the stream's compression."""
    if sensor.clock:
        stamp_clock(frame, t)
    return compress(frame, sensor.quality)


def stamp_clock(frame: Frame, t: float) -> None:
    """The camera's date and time, white on a black outline, top left (after optics)."""
    day = int(t % 86_400)
    text = f"2024-05-14 {day // 3600:02d}:{day % 3600 // 60:02d}:{day % 60:02d}"
    scale = frame.shape[1] / 960
    org = (6, max(10, round(frame.shape[0] * 0.07)))
    cv2.putText(frame, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(frame, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def compress(frame: Frame, quality: int) -> Frame:
    """A JPEG round trip: the blocking and smoothing a stream's encoder leaves."""
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR frame
        return frame
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


def _window_falloff(place: Place, x: Linear, y: Linear) -> Linear:
    if place.window is None:
        return np.full_like(x, 0.5)
    x0, y0, x1, y1 = place.window
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (0.8 * place.width) ** 2
    return np.asarray(1.0 / (1.0 + d2), np.float32)


def _glow(image: Linear, place: Place, lamp: Lamp, power: float) -> None:
    centre = (round(lamp.x * place.width), round(lamp.y * place.height))
    radius = max(2, round(lamp.radius * place.width))
    cv2.circle(image, centre, radius, (power, power * 0.95, power * 0.9), -1, cv2.LINE_AA)


def _draw_walker(reflect: Linear, place: Place, where: float, infrared: bool) -> None:
    h, w = place.height, place.width
    feet, x_from, x_to = place.walk
    x = (x_from + (x_to - x_from) * where) * w
    depth = 0.55 + 0.45 * feet  # nearer the camera, taller
    tall = h * 0.55 * depth
    top = feet * h - tall
    colour = place.walker_colour
    body = (float(np.mean(colour)) * 1.3,) * 3 if infrared else colour
    half = max(2, round(w * 0.03 * depth))
    cx = round(x)
    cv2.rectangle(
        reflect, (cx - half, round(top + tall * 0.18)), (cx + half, round(feet * h)), body, -1
    )
    head = 0.75 if infrared else 0.6
    cv2.circle(
        reflect,
        (cx, round(top + tall * 0.09)),
        max(2, round(tall * 0.09)),
        (head * 0.8, head * 0.85, head),
        -1,
    )


def _room(
    albedo: Linear, rng: np.random.Generator, horizon: int
) -> tuple[tuple[int, int, int, int] | None, tuple[Lamp, ...], tuple[float, float, float]]:
    h, w = albedo.shape[:2]
    wx = int(w * rng.uniform(0.05, 0.55))
    window = (wx, h // 10, wx + w // 4, horizon - h // 5)
    cv2.rectangle(albedo, window[:2], window[2:], (0.9, 0.88, 0.8), -1)  # curtains, sky
    cv2.rectangle(albedo, window[:2], window[2:], (0.3, 0.3, 0.3), 2)
    cv2.line(albedo, (wx + w // 8, h // 10), (wx + w // 8, horizon - h // 5), (0.3, 0.3, 0.3), 2)
    bed = int(w * rng.uniform(0.0, 0.4))
    cv2.rectangle(
        albedo, (bed, horizon - h // 12), (bed + w // 2, horizon + h // 5), (0.8, 0.8, 0.85), -1
    )
    cv2.rectangle(
        albedo, (bed + 4, horizon - h // 9), (bed + w // 8, horizon), (0.95, 0.95, 0.95), -1
    )
    table = min(w - w // 6, bed + w // 2 + w // 20)
    cv2.rectangle(
        albedo,
        (table, horizon - h // 20),
        (table + w // 8, horizon + h // 10),
        (0.2, 0.3, 0.45),
        -1,
    )
    lamp = Lamp((table + w // 16) / w, (horizon - h // 8) / h, reach=0.18, radius=0.018, power=0.12)
    ceiling = Lamp(rng.uniform(0.35, 0.65), 0.04, reach=0.6, radius=0.03, power=0.15)
    walk = (0.9, rng.uniform(0.55, 0.7), rng.uniform(0.6, 0.8))  # a resident barely moving
    return window, (lamp, ceiling), walk


def _corridor(
    albedo: Linear, rng: np.random.Generator, horizon: int
) -> tuple[tuple[int, int, int, int] | None, tuple[Lamp, ...], tuple[float, float, float]]:
    h, w = albedo.shape[:2]
    vx = int(w * rng.uniform(0.4, 0.6))
    for x in range(-w, 2 * w, w // 8):  # floor tiles converge on the vanishing point
        cv2.line(albedo, (vx, horizon), (x, h), (0.25, 0.25, 0.25), 1)
    rail = horizon - h // 7
    cv2.line(albedo, (0, rail), (w, rail), (0.25, 0.45, 0.6), 3)
    for k in range(3):
        dx = int(w * (0.08 + 0.3 * k + rng.uniform(0, 0.08)))
        cv2.rectangle(albedo, (dx, h // 5), (dx + w // 9, horizon), (0.3, 0.45, 0.6), -1)
        cv2.rectangle(albedo, (dx, h // 5), (dx + w // 9, horizon), (0.15, 0.2, 0.3), 2)
    window = (w - w // 7, h // 6, w - 2, horizon - h // 6)  # daylight at the far end
    lamps = tuple(Lamp(x, 0.05, reach=0.2, radius=0.02, power=0.08) for x in (0.25, 0.75))
    walk = (0.92, 0.05, 0.95)  # residents walk across the whole view
    return window, lamps, walk


def _hall(
    albedo: Linear, rng: np.random.Generator, horizon: int
) -> tuple[tuple[int, int, int, int] | None, tuple[Lamp, ...], tuple[float, float, float]]:
    h, w = albedo.shape[:2]
    for k in range(6):  # the stairs
        y = horizon + k * (h - horizon) // 6
        cv2.line(albedo, (w // 2, y), (w, y), (0.2, 0.2, 0.2), 2)
    door = int(w * rng.uniform(0.1, 0.3))
    cv2.rectangle(albedo, (door, h // 4), (door + w // 7, horizon), (0.35, 0.25, 0.2), -1)
    cv2.rectangle(albedo, (door + w // 9, h // 2), (door + w // 8, h // 2 + 4), (0.8, 0.8, 0.7), -1)
    cv2.rectangle(albedo, (w // 2, h // 8), (w // 2 + w // 6, h // 4), (0.2, 0.6, 0.3), -1)  # sign
    exit_sign = Lamp(
        (w // 2 + w // 12) / w, (h // 8 + h // 16) / h, reach=0.1, radius=0.02, power=0.1
    )
    window = None
    walk = (0.95, 0.9, 0.95)  # nobody crosses; now and then someone at the edge
    return window, (exit_sign,), walk


_DRAW = {Layout.ROOM: _room, Layout.CORRIDOR: _corridor, Layout.HALL: _hall}
