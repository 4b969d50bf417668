"""The labelled scene set: what a probe of a facility camera sees, day and night, clean
and with every picture fault at three strengths. Pure (seeded).

A *camera* of the set is a place (:mod:`scenery`: a corridor where residents walk, a
room with a bed and a table lamp, a quiet hall with an exit sign) watched under the
lighting it meets in a day. Each :class:`Shot` is one such lighting, in one of three
conditions:

========  ==================================================================
day       daylight, full or overcast; colour
night     no daylight: ceiling lamps, a single lamp, or only a lit exit sign
          (a dark picture with a small bright area); colour, high gain, noisy
ir        the camera's infrared illuminator: grey-scale, a bright centre,
          noisier still; with or without a lamp in view
========  ==================================================================

A :class:`LabelledProbe` is what one probe decodes: ``FRAMES`` frames spread over two
seconds of stream, the timestamps of every frame decoded, and its label (camera,
condition, shot, injected fault and strength). A fault acts where it happens in a
real camera: blur, haze, a cover and a turned camera on the optics (auto-exposure
then reacts to them), over-exposure on the exposure, a colour cast in the white
balance, snow after the sensor, black and frozen on the encoded stream, a low frame
rate on the timestamps. The clock is stamped on after the optics, as cameras do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from device_sim.cameras.scenery import (
    Frame,
    Layout,
    Lighting,
    Linear,
    Place,
    Sensor,
    add_noise,
    build_place,
    develop,
    exposure_gain,
    finish,
    noise_for,
    optics,
)

FRAMES = 8
SPAN_SECONDS = 2.0
STREAM_FPS = 25.0
NIGHT_FPS = 12.5  # cameras with slow shutter halve their frame rate in low light


class Condition(enum.StrEnum):
    """The three conditions the set is scored by."""

    DAY = "day"
    NIGHT = "night"
    IR = "ir"


class Injected(enum.StrEnum):
    """The picture faults the set injects (``none``: a clean probe)."""

    NONE = "none"
    BLACK = "black"
    FROZEN = "frozen"
    BLURRED = "blurred"
    LOW_CONTRAST = "low_contrast"
    OVEREXPOSED = "overexposed"
    NOISY = "noisy"
    COLOUR_CAST = "colour_cast"
    OCCLUDED = "occluded"
    MOVED = "moved"
    LOW_FPS = "low_fps"


STRENGTHS: dict[Injected, tuple[float, float, float]] = {
    Injected.BLACK: (0, 1, 2),  # dead signal, capped lens at full gain, a faint light leak
    Injected.FROZEN: (0, 1, 2),  # bit-identical, rounding dither, the clock still ticking
    Injected.BLURRED: (1.5, 2.5, 4.0),  # defocus, Gaussian sigma in pixels at 320 wide
    Injected.LOW_CONTRAST: (0.85, 0.9, 0.95),  # fraction of the light that is veil (haze, dome)
    Injected.OVEREXPOSED: (0.6, 0.75, 0.9),  # fraction of the picture burnt out
    Injected.NOISY: (0, 1, 2),  # heavy grain, very heavy grain, snow
    Injected.COLOUR_CAST: (1.35, 1.6, 1.9),  # white-balance gain on one channel
    Injected.OCCLUDED: (0.7, 0.85, 1.0),  # fraction of the lens covered
    Injected.MOVED: (0, 1, 2),  # panned, panned and tilted, knocked to face elsewhere
    Injected.LOW_FPS: (4.0, 2.0, 1.0),  # frames per second delivered
}
"""Each injected fault's three strengths (what the number means is noted per row)."""


@dataclass(frozen=True, slots=True)
class Shot:
    """One lighting of a place, in one condition."""

    name: str
    condition: Condition
    daylight: float = 0.0
    lamps: str = ""  # "all", "first", "last" or "" for none
    infrared: bool = False

    def lighting(self, place: Place, headlight: float | None = None) -> Lighting:
        """This shot's lighting of ``place``."""
        count = len(place.lamps)
        chosen = {"all": range(count), "first": range(1), "last": range(count - 1, count)}
        lit = set(chosen.get(self.lamps, ()))
        lamps = tuple(i in lit for i in range(count))
        return Lighting(self.daylight, lamps, self.infrared, headlight)


SHOTS: tuple[Shot, ...] = (
    Shot("daylight", Condition.DAY, daylight=1.0),
    Shot("overcast", Condition.DAY, daylight=0.35),
    Shot("lamps", Condition.NIGHT, lamps="all"),
    Shot("one lamp", Condition.NIGHT, lamps="first"),
    Shot("exit sign", Condition.NIGHT, lamps="last"),
    Shot("infrared", Condition.IR, infrared=True),
    Shot("infrared, lamp on", Condition.IR, lamps="first", infrared=True),
)
"""Every lighting the set shows each camera in. In the hall the only fitting is the
exit sign, so its "one lamp" and "exit sign" shots are the same dark picture."""


@dataclass(frozen=True, slots=True)
class SetCamera:
    """One camera of the set: a place and how its sensor behaves."""

    name: str
    place: Place = field(repr=False)
    slow_shutter: bool  # halves its frame rate at night
    cast_channel: int  # which channel a white-balance fault pushes (0 B, 1 G, 2 R)
    has_ir: bool = True  # an infrared illuminator; without one, nights are lamp-lit colour


@dataclass(frozen=True, slots=True)
class LabelledProbe:
    """The frames and timestamps one probe decodes, and what they show."""

    camera: str
    shot: str
    condition: Condition
    fault: Injected
    strength: int  # index into STRENGTHS[fault]; 0 for a clean probe
    at: float  # time of day, seconds
    frames: tuple[Frame, ...] = field(repr=False)
    timestamps: tuple[float, ...] = field(repr=False)
    expected_fps: float = STREAM_FPS

    @property
    def label(self) -> str:
        """``camera/shot/fault@strength``, for tables and failure messages."""
        fault = self.fault.value if self.fault is Injected.NONE else f"{self.fault}@{self.strength}"
        return f"{self.camera}/{self.shot}/{fault}"


def cameras(seeds: Sequence[int] = (1, 2), width: int = 320, height: int = 180) -> list[SetCamera]:
    """One camera per layout and seed."""
    found = []
    for seed in seeds:
        for index, layout in enumerate(Layout):
            place = build_place(layout, seed, width, height)
            key = seed + index
            name = f"{layout.value}-{seed}"
            found.append(SetCamera(name, place, key % 2 == 0, key % 3, has_ir=key % 3 != 1))
    return found


def clean(camera: SetCamera, shot: Shot, at: float, seed: int) -> LabelledProbe:
    """A clean probe of ``camera`` in ``shot`` at ``at`` seconds of the day."""
    return take(camera, shot, Injected.NONE, 0, at, seed)


def faulty_set(
    camera_list: Sequence[SetCamera], shots: Sequence[Shot] = SHOTS, seed: int = 0
) -> Iterator[LabelledProbe]:
    """Every camera in every shot with every fault at every strength, and clean."""
    for n, camera in enumerate(camera_list):
        for s, shot in enumerate(shots):
            at = _time_of(shot, seed + 31 * n + s)
            yield take(camera, shot, Injected.NONE, 0, at, seed * 7919 + n * 97 + s)
            for fault in STRENGTHS:
                for strength in range(3):
                    key = seed * 7919 + n * 97 + s * 13 + list(STRENGTHS).index(fault) * 3
                    yield take(camera, shot, fault, strength, at, key + strength)


def take(
    camera: SetCamera, shot: Shot, fault: Injected, strength: int, at: float, seed: int
) -> LabelledProbe:
    """What a probe starting at ``at`` decodes; ``fault`` at ``STRENGTHS[fault][strength]``."""
    rng = np.random.default_rng([seed, 12345])
    night = shot.condition is not Condition.DAY
    fps = NIGHT_FPS if night and camera.slow_shutter else STREAM_FPS
    headlight = _headlight(rng) if night and rng.random() < 0.3 else None
    lighting = shot.lighting(camera.place, headlight)
    return capture(camera, lighting, at, fps, rng, fault, strength, shot.name, shot.condition)


def capture(
    camera: SetCamera, lighting: Lighting, at: float, fps: float, rng: np.random.Generator,
    fault: Injected = Injected.NONE, strength: int = 0, shot: str = "",
    condition: Condition = Condition.DAY,
) -> LabelledProbe:  # fmt: skip
    """What a probe of ``camera`` under ``lighting`` decodes, starting at ``at``."""
    if fault is Injected.LOW_FPS:
        fps = STRENGTHS[fault][strength]
    interval = max(SPAN_SECONDS / FRAMES, 1.0 / fps)
    decoded = max(FRAMES, round(interval * (FRAMES - 1) * fps) + 1)
    stamps = tuple(at + k / fps for k in range(decoded))
    times = [at + k * interval for k in range(FRAMES)]
    walker = _walker(camera.place, rng)
    frames = _frames(camera, lighting, fault, strength, times, walker, rng)
    return LabelledProbe(camera.name, shot, condition, fault, strength, at, tuple(frames), stamps)


# -- the camera, stage by stage, with the fault where it happens ----------------------


def _frames(
    camera: SetCamera, lighting: Lighting, fault: Injected, strength: int,
    times: list[float], walker: tuple[float, float] | None, rng: np.random.Generator,
) -> list[Frame]:  # fmt: skip
    sensor = Sensor()
    value = STRENGTHS[fault][strength] if fault is not Injected.NONE else 0.0
    if fault is Injected.FROZEN:
        return _frozen(camera, lighting, strength, times, walker, rng, sensor)
    frames = []
    exposure: list[float] = []  # auto-exposure settles once; over two seconds it holds
    for t in times:
        where = None if walker is None else walker[0] + walker[1] * (t - times[0])
        raw = _sensor_frame(camera, lighting, fault, value, where, rng, sensor, exposure)
        frames.append(finish(raw, t, sensor))
    return frames


def _sensor_frame(
    camera: SetCamera, lighting: Lighting, fault: Injected, value: float,
    walker: float | None, rng: np.random.Generator, sensor: Sensor,
    exposure: list[float] | None = None,
) -> Frame:  # fmt: skip
    """One frame from the sensor; ``exposure`` carries the gains from frame to frame."""
    place = camera.place
    image = _optical_fault(optics(place, lighting, walker), place, lighting, fault, value)
    exposure = [] if exposure is None else exposure
    if not exposure:
        gain = exposure_gain(image, sensor)
        burning = _burning_gain(image, value) if fault is Injected.OVEREXPOSED else gain
        exposure += [gain, burning]
    noise = noise_for(exposure[0], sensor)  # glare clips the sensor; it does not raise its gain
    shown = develop(image, exposure[1])
    if fault is Injected.COLOUR_CAST:
        gains = np.ones(3, np.float32)
        gains[camera.cast_channel] = value
        gains[(camera.cast_channel + 1) % 3] = 1.0 / value
        shown = np.clip(shown * gains, 0, 255).astype(np.float32)
    frame = add_noise(shown, noise, rng, lighting.infrared)
    if fault is Injected.BLACK:
        frame = _black(frame.shape, int(value), rng)
    if fault is Injected.NOISY:
        frame = _noisy(frame, int(value), rng)
    return frame


def _optical_fault(
    image: Linear, place: Place, lighting: Lighting, fault: Injected, value: float
) -> Linear:
    if fault is Injected.BLURRED:
        sigma = value * place.width / 320
        return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), np.float32)
    if fault is Injected.LOW_CONTRAST:  # a veil of scattered light over everything
        veil = float(image.mean()) * (2.5 if lighting.infrared else 1.5)
        return (image * (1 - value) + veil * value).astype(np.float32)
    if fault is Injected.OCCLUDED:
        return _covered(image, place, lighting, value)
    if fault is Injected.MOVED:
        return _turned(image, int(value))
    return image


def _burning_gain(image: Linear, fraction: float) -> float:
    """The exposure at which ``fraction`` of the picture clips (exposure stuck long, the
    sun in the lens, the illuminator bouncing off a dome)."""
    level = float(np.quantile(image.min(axis=2), 1.0 - fraction))
    return 1.1 / max(level, 1e-4)


def _covered(image: Linear, place: Place, lighting: Lighting, fraction: float) -> Linear:
    """Something right in front of the lens: out of focus, covering ``fraction`` of it.
    By day and lamp light it is a dark shape; in infrared it throws the illuminator's
    light back and glows."""
    h, w = place.height, place.width
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = (place.seed * 1.7) % (2 * np.pi)
    reach = x / w * np.cos(angle) + y / h * np.sin(angle)
    edge = float(np.quantile(reach, fraction)) if fraction < 1.0 else float(reach.max()) + 1.0
    mask = 1.0 / (1.0 + np.exp((reach - edge) / 0.02))
    level = 0.5 if lighting.infrared else 0.02 + 0.01 * lighting.daylight
    shade = level * (0.85 + 0.3 * x / w)
    cover = np.repeat(shade[..., None], 3, axis=2)
    return np.asarray(image * (1 - mask[..., None]) + cover * mask[..., None], np.float32)


_VIEWS = ((0.22, 0.0, 1.0), (0.15, 10.0, 1.15), (0.3, 25.0, 1.5))  # shift, degrees, zoom


def _turned(image: Linear, how: int) -> Linear:
    h, w = image.shape[:2]
    shift, degrees, zoom = _VIEWS[how]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, zoom)
    matrix[0, 2] += shift * w
    matrix[1, 2] -= shift * h * 0.4
    turned = cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)
    return np.asarray(turned, np.float32)


def _black(shape: tuple[int, ...], how: int, rng: np.random.Generator) -> Frame:
    """No picture: a dead signal (0), a capped lens at full gain (dark, noisy), or a cap
    with a faint light leak (a dim smudge)."""
    h, w = shape[:2]
    if how == 0:
        return np.zeros(shape, np.uint8)
    base = np.full((h, w), 3.0, np.float32)
    if how == 2:
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        base += 6.0 * np.exp(-(((x - w * 0.3) / (0.3 * w)) ** 2) - ((y - h / 2) / (0.4 * h)) ** 2)
    noisy = base + rng.normal(0, 3.5, (h, w)).astype(np.float32)
    return np.repeat(np.clip(noisy, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _noisy(frame: Frame, how: int, rng: np.random.Generator) -> Frame:
    """A failing sensor or cable: heavy grain, very heavy grain, or snow."""
    h, w = frame.shape[:2]
    if how < 2:
        sigma = (16.0, 28.0)[how]
        grain = rng.normal(0, sigma, frame.shape).astype(np.float32)
        grainy: Frame = np.clip(frame.astype(np.float32) + grain, 0, 255).astype(np.uint8)
        return grainy
    snow = rng.integers(0, 256, (h // 2 + 1, w // 2 + 1), dtype=np.uint8)
    big = np.asarray(cv2.resize(snow, (w, h), interpolation=cv2.INTER_NEAREST), np.uint8)
    snowy = cv2.addWeighted(frame, 0.4, np.repeat(big[..., None], 3, 2), 0.6, 0)
    return np.asarray(snowy, np.uint8)


def _frozen(
    camera: SetCamera, lighting: Lighting, how: int, times: list[float],
    walker: tuple[float, float] | None, rng: np.random.Generator, sensor: Sensor,
) -> list[Frame]:  # fmt: skip
    """The same picture over and over: bit for bit, with rounding dither from a
    re-encoding relay, or frozen optics under a clock the camera still stamps on."""
    where = None if walker is None else walker[0]
    raw = _sensor_frame(camera, lighting, Injected.NONE, 0.0, where, rng, sensor)
    if how == 2:
        return [finish(raw.copy(), t, sensor) for t in times]
    still = finish(raw, times[0], sensor)
    if how == 0:
        return [still] * len(times)
    frames = []
    for _ in times:
        dither = rng.random(still.shape[:2]) < 0.01
        jitter = still.astype(np.int16)
        jitter[dither] += 1
        frames.append(np.clip(jitter, 0, 255).astype(np.uint8))
    return frames


# -- who is in the picture ------------------------------------------------------------


def _walker(place: Place, rng: np.random.Generator) -> tuple[float, float] | None:
    """Start and speed (path per second) of a resident in view, or ``None``."""
    if place.layout is Layout.CORRIDOR:
        return (float(rng.uniform(0.0, 0.8)), 0.08) if rng.random() < 0.7 else None
    if place.layout is Layout.ROOM:  # sitting by the bed, moving a little
        return float(rng.uniform(0.0, 1.0)), 0.01
    return (float(rng.uniform(0.0, 1.0)), 0.02) if rng.random() < 0.2 else None


def _headlight(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.1, 0.9))


def _time_of(shot: Shot, seed: int) -> float:
    rng = np.random.default_rng([seed, 99])
    hours = {Condition.DAY: (9.5, 15.5), Condition.NIGHT: (19, 23), Condition.IR: (0, 5)}
    low, high = hours[shot.condition]
    return float(rng.uniform(low, high) * 3600)
