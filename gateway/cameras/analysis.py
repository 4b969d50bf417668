"""Picture measures: pure functions over a short sample of downscaled frames.

A probe keeps a few grey frames (at most ``analysis_width`` wide, spread over
``sample_seconds``), one small colour thumbnail and the timestamps of every decoded
frame. :func:`measure` turns them into :class:`Measures`; :mod:`gateway.cameras.faults`
compares those with thresholds and the camera's own baseline. Structural measures are
taken on the per-pixel median of the sample ("background"), so sensor noise and a person
walking through matter little; noise and motion are taken on the single frames.

==============  ===================================================  ===========================
fault           measure (function)                                   default rule
==============  ===================================================  ===========================
no_signal       frames decoded (``Measures.frames``)                 no frame at all, or the
                                                                     stream stalled mid-sample
frozen          largest mean abs difference of consecutive frames,   < 0.05 grey levels (a live
                grey levels (:func:`motion`)                         static scene shows noise)
black           mean luma; fraction of pixels at luma >= 48          mean <= 24 and bright
                (:func:`luma_stats`)                                 fraction < 1 % (lamps in a
                                                                     dark corridor keep it live)
overexposed     fraction of pixels at luma >= 250                    >= 50 %
                (:func:`luma_stats`)
low_contrast    luma spread p98 - p2 (:func:`luma_stats`)            < 16, and < 0.5 x baseline
                                                                     spread once one is learned
blurred         Laplacian variance of the lightly smoothed           < 0.4 x baseline (needs a
                background over its variance (:func:`sharpness`)     baseline; a bare wall has
                                                                     its own low one)
occluded        fraction of 8x6 cells with std < 3 grey levels       >= 0.6 and >= baseline +
                (:func:`flat_fraction`)                              0.4; without a baseline
                                                                     >= 0.95 with mean <= 80
noisy           mean abs difference frame - 3x3 median blur          >= 3 x baseline and >= 6;
                (:func:`noise_level`)                                or >= 20 on its own
colour_cast     grey-world deviation: largest channel mean's         >= baseline + 0.25;
                distance from the grey mean, relative                without a baseline >= 0.5
                (:func:`colour_cast`)
scene_changed   correlation of the 32x24 edge-magnitude map with     < 0.5 (needs a baseline)
                the baseline's (:func:`edge_map`, :func:`similarity`)
low_fps         frames per second from decoder timestamps            < 5, or < 0.6 x the
                (:func:`frame_rate`)                                 camera's expected_fps
==============  ===================================================  ===========================

Connection faults (unreachable, timeout, auth_failed, not_found) come from the RTSP check
in :mod:`gateway.cameras.rtsp`, before any frame is decoded. Every threshold is a key of
``Thresholds`` and can be overridden per camera.

Masking: a black frame is not also judged frozen, blurred, low-contrast, occluded, noisy,
colour-cast or moved; an over-exposed one not low-contrast, blurred, occluded, colour-cast
or moved; a low-contrast one not occluded, blurred or moved; an occluded one not blurred,
frozen or moved. When (nearly) the whole frame is featureless (flat fraction >= 0.95) it
is occluded rather than low-contrast.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
"""A single-channel 8-bit frame."""

BRIGHT_LUMA = 48
SATURATED_LUMA = 250
FLAT_CELL_STD = 3.0
GRID = (8, 6)
EDGE_MAP_SIZE = (32, 24)


@dataclass(frozen=True, slots=True)
class FrameSample:
    """What a probe hands to :func:`measure`.

    ``grays``: grey frames in order; ``thumbnail``: a small BGR frame (or ``None``);
    ``timestamps``: decoder timestamps (seconds) of every frame decoded, kept or not.
    """

    grays: Sequence[Gray]
    thumbnail: npt.NDArray[np.uint8] | None
    timestamps: Sequence[float]


@dataclass(frozen=True, slots=True)
class Measures:
    """Every picture measure of one probe (see the module table)."""

    frames: int
    fps: float | None
    motion: float | None
    mean_luma: float
    bright_fraction: float
    saturated_fraction: float
    spread: float
    sharpness: float
    flat_fraction: float
    noise: float
    colour_cast: float
    edge_map: tuple[float, ...]

    def scalars(self) -> dict[str, float | None]:
        """The measures without the edge map, for APIs and event data."""
        return {
            "frames": self.frames,
            "fps": self.fps,
            "motion": self.motion,
            "mean_luma": self.mean_luma,
            "bright_fraction": self.bright_fraction,
            "saturated_fraction": self.saturated_fraction,
            "spread": self.spread,
            "sharpness": self.sharpness,
            "flat_fraction": self.flat_fraction,
            "noise": self.noise,
            "colour_cast": self.colour_cast,
        }


def measure(sample: FrameSample) -> Measures | None:
    """All measures of a sample; ``None`` when it holds no frame (no signal)."""
    if not sample.grays:
        return None
    background = median_frame(sample.grays)
    mean, bright, saturated, spread = luma_stats(background)
    return Measures(
        frames=len(sample.grays),
        fps=frame_rate(sample.timestamps),
        motion=motion(sample.grays),
        mean_luma=mean,
        bright_fraction=bright,
        saturated_fraction=saturated,
        spread=spread,
        sharpness=sharpness(background),
        flat_fraction=flat_fraction(background),
        noise=noise_level(sample.grays),
        colour_cast=colour_cast(sample.thumbnail),
        edge_map=edge_map(background),
    )


def median_frame(grays: Sequence[Gray]) -> Gray:
    """Per-pixel median of the frames: the static scene without noise or passers-by."""
    if len(grays) == 1:
        return grays[0]
    stack = np.sort(np.stack(grays), axis=0)
    middle: Gray = stack[len(grays) // 2]
    return middle


def motion(grays: Sequence[Gray]) -> float | None:
    """Frozen: the largest mean absolute difference between consecutive frames.

    A frozen encoder repeats one picture bit for bit (0.0); a live static scene still
    differs by sensor noise and encoder dither. ``None`` with fewer than two frames.
    """
    if len(grays) < 2:
        return None
    return max(float(cv2.absdiff(a, b).mean()) for a, b in itertools.pairwise(grays))


def luma_stats(gray: Gray) -> tuple[float, float, float, float]:
    """Black, over-exposed, low contrast: mean luma, the fractions of bright
    (>= 48) and saturated (>= 250) pixels, and the p98 - p2 spread."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cumulative = np.cumsum(hist) / total
    low = int(np.searchsorted(cumulative, 0.02))
    high = int(np.searchsorted(cumulative, 0.98))
    mean = float((hist * np.arange(256)).sum() / total)
    bright = float(hist[BRIGHT_LUMA:].sum() / total)
    saturated = float(hist[SATURATED_LUMA:].sum() / total)
    return mean, bright, saturated, float(high - low)


def sharpness(gray: Gray) -> float:
    """Blurred: variance of the Laplacian of the lightly smoothed frame over the frame's
    own variance. Normalising by contrast keeps it steady between day and night; the
    light smoothing keeps sensor noise from passing for detail."""
    image = gray.astype(np.float32)
    smoothed = cv2.GaussianBlur(image, (0, 0), 1.0)
    laplacian = cv2.Laplacian(smoothed, cv2.CV_32F)
    return float(laplacian.var() / (image.var() + 1.0))


def flat_fraction(gray: Gray) -> float:
    """Occluded: the fraction of cells of an 8x6 grid that are featureless (std < 3)."""
    cols, rows = GRID
    height, width = gray.shape[0] // rows * rows, gray.shape[1] // cols * cols
    if height == 0 or width == 0:
        return 1.0
    cells = gray[:height, :width].reshape(rows, height // rows, cols, width // cols)
    stds = cells.astype(np.float32).std(axis=(1, 3))
    return float((stds < FLAT_CELL_STD).mean())


def noise_level(grays: Sequence[Gray]) -> float:
    """Noisy / snow: mean absolute difference between a frame and its 3x3 median blur,
    averaged over the frames. Fine texture contributes too, hence the baseline."""
    levels = [float(cv2.absdiff(g, cv2.medianBlur(g, 3)).mean()) for g in grays]
    return sum(levels) / len(levels)


def colour_cast(thumbnail: npt.NDArray[np.uint8] | None) -> float:
    """Colour cast (grey world): ``max |channel mean - grey mean| / grey mean`` over the
    pixels neither near black nor saturated; 0.0 for grey, too dark or missing frames."""
    if thumbnail is None or thumbnail.ndim != 3:
        return 0.0
    pixels = thumbnail.reshape(-1, 3).astype(np.float32)
    luma = pixels.mean(axis=1)
    usable = pixels[(luma > 24) & (luma < 235)]
    if len(usable) < 0.05 * len(pixels):
        return 0.0
    means = usable.mean(axis=0)
    grey = float(means.mean())
    return float(np.abs(means - grey).max() / grey)


def edge_map(gray: Gray) -> tuple[float, ...]:
    """Scene changed: a 32x24 map of edge magnitude, zero-mean and unit-norm, so that
    :func:`similarity` of two maps is their correlation. All zeros for a flat frame."""
    image = gray.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    small = cv2.resize(cv2.magnitude(gx, gy), EDGE_MAP_SIZE, interpolation=cv2.INTER_AREA)
    vector = small.ravel().astype(np.float64)
    vector -= vector.mean()
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        return tuple(0.0 for _ in vector)
    return tuple(round(float(v), 5) for v in vector / norm)


def similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Correlation of two edge maps in [-1, 1]; 0.0 when they do not match in size."""
    if len(a) != len(b) or not a:
        return 0.0
    return float(np.clip(np.dot(np.asarray(a), np.asarray(b)), -1.0, 1.0))


def frame_rate(timestamps: Sequence[float]) -> float | None:
    """Low frame rate: frames per second from decoder timestamps (seconds).

    Repeated or backward timestamps (the first frames of a stream) are skipped; ``None``
    when fewer than two distinct timestamps remain.
    """
    distinct: list[float] = []
    for stamp in timestamps:
        if not distinct or stamp > distinct[-1]:
            distinct.append(stamp)
    if len(distinct) < 2:
        return None
    return (len(distinct) - 1) / (distinct[-1] - distinct[0])
