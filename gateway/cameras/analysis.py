"""Picture measures: pure functions over a short sample of downscaled frames.

A probe keeps a few grey frames (at most ``analysis_width`` wide, spread over
``sample_seconds``), one small colour thumbnail and the timestamps of every decoded
frame. :func:`measure` turns them into :class:`Measures`; :mod:`gateway.cameras.modes`
tells day, night and infrared pictures apart and :mod:`gateway.cameras.faults` compares
the measures with thresholds and the camera's own baseline for that mode.

Two ideas run through the measures, so that night pictures are judged on what they
show rather than on how much of them is dark:

* **Brightness and contrast are measured on the content that is there.** Each frame
  goes through an 11x11 grey closing and opening ("content", at 320 pixels wide),
  which removes whatever is narrower: the camera's on-screen clock (stamped on after
  the optics, so it stays sharp and bright under fog, a cover or a black picture), hot
  pixels and sensor noise. Anything a viewer would call a thing in the picture - a
  lamp, a person, a door, a white ball - is wider. A lamp in a dark corridor or a lit
  doorway covers 1-2 % of the frame: "lit" counts it; a p2-p98 spread could not see it.
  Contrast is the bulk of the content (p5 to p95) as Michelson contrast, so darkness,
  whose dark end sits at zero, is never "low contrast", and a veil, which lifts it, is.
* **Moving content is judged on the single frames**, static structure on the per-pixel
  median of the sample ("background"): the median keeps the scene and drops noise and
  passers-by, but it would also drop a ball or a headlight crossing a black picture,
  which must keep the picture live.

==============  ===================================================  ===========================
fault           measure (function)                                   default rule (faults.py)
==============  ===================================================  ===========================
no_signal       frames decoded (``Measures.frames``)                 no frame at all, or the
                                                                     stream stalled mid-sample
frozen          median mean abs difference of consecutive frames,    < 0.05 grey levels
                grey levels (:func:`motion`)
black           mean luma; share of content at luma >= 48 ("lit");   mean <= 24, lit < 0.2 %,
                content p95 - p5 (:func:`luma_stats`)                spread < 12;
                                                                     and a dead signal, an
                                                                     infrared camera or the
                                                                     daylight hours - else
                                                                     ``too_dark`` (no page)
overexposed     fraction of pixels at luma >= 250                    >= 50 %
low_contrast    content p95 - p5 and its Michelson contrast          spread < 12 and contrast
                (hi - lo) / (hi + lo) (:func:`luma_stats`)           < 0.2; or, day and IR,
                                                                     < 0.45 x the baseline's
                                                                     contrast, < 0.5 x spread
blurred         per cell with structure, Laplacian energy over the   median of the cells'
                cell's variance, background (:func:`sharpness`)      ratios to the mode's
                                                                     baseline < 0.45 (day, IR)
occluded        cells of an 8x6 grid: std (:func:`cell_stds`),       >= 90 % flat, not dark;
                flat when < 3 (:func:`flat_fraction`)                or (day, IR) >= 40 % flat
                                                                     and >= 30 % of the
                                                                     baseline's detailed cells
                                                                     now flat
noisy           mean abs difference frame - 3x3 median blur          >= 2 x the mode's baseline
                (:func:`noise_level`)                                and >= 5; or >= 20 alone
colour_cast     grey-world deviation and mean chromaticity of the    deviation >= 0.5; or a
                thumbnail's usable pixels (:func:`colour`)           channel's share moved by
                                                                     0.15/3 from the baseline's
scene_changed   correlation of the 32x24 map of the content's log-     < 0.5 against every
                luma edges with the baseline's (:func:`edge_map`)    baseline (day and IR)
low_fps         frames per second from decoder timestamps            < 5, or < 0.45 x
                (:func:`frame_rate`)                                 expected_fps (slow shutter
                                                                     halves it at night)
==============  ===================================================  ===========================

Connection faults (unreachable, timeout, auth_failed, not_found) come from the RTSP check
in :mod:`gateway.cameras.rtsp`, before any frame is decoded. Every threshold is a key of
``Thresholds`` and can be overridden per camera; the masking of one fault by another is
in :mod:`gateway.cameras.faults`.
"""

from __future__ import annotations

import functools
import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
"""A single-channel 8-bit frame."""

BRIGHT_LUMA = 48
SATURATED_LUMA = 250
BULK = 0.05  # the content's 5th and 95th percentiles: how washed out most of it is
CONTENT_KERNEL = 11  # at 320 pixels wide: narrower things are not content (clock, noise)
FLAT_CELL_STD = 3.0
DETAIL_CELL_STD = 6.0  # a cell with structure well above the background's noise
MIN_DETAILED_CELLS = 4
GRID = (8, 6)
EDGE_MAP_SIZE = (32, 24)
LOG_OFFSET = 16.0  # edges of log(1 + luma / 16): relative contrast, lamp or sun
USABLE_LUMA = (16, 240)  # pixels whose colour can be read: neither near black nor clipped


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
    """Every picture measure of one probe (see the module table).

    ``colourfulness`` is ``None`` when too few pixels are neither dark nor clipped to
    read colour from (a black or a very dark picture).
    """

    frames: int
    fps: float | None
    motion: float | None
    mean_luma: float
    bright_fraction: float
    saturated_fraction: float
    spread: float
    contrast: float
    sharpness: float
    detail: float
    cell_sharpness: tuple[float, ...]
    cell_std: tuple[float, ...]
    flat_fraction: float
    noise: float
    colour_cast: float
    colourfulness: float | None
    chromaticity: tuple[float, float, float] | None
    edge_map: tuple[float, ...]

    def scalars(self) -> dict[str, float | None]:
        """The measures without the edge map and cells, for APIs and event data."""
        return {
            "frames": self.frames,
            "fps": self.fps,
            "motion": self.motion,
            "mean_luma": self.mean_luma,
            "bright_fraction": self.bright_fraction,
            "saturated_fraction": self.saturated_fraction,
            "spread": self.spread,
            "contrast": self.contrast,
            "sharpness": self.sharpness,
            "detail": self.detail,
            "flat_fraction": self.flat_fraction,
            "noise": self.noise,
            "colour_cast": self.colour_cast,
            "colourfulness": self.colourfulness,
        }


def measure(sample: FrameSample) -> Measures | None:
    """All measures of a sample; ``None`` when it holds no frame (no signal)."""
    if not sample.grays:
        return None
    background = median_frame(sample.grays)
    luma = luma_stats(sample.grays)
    sharp, cells = sharpness(background)
    stds = cell_stds(background)
    low, high = luma.bulk_low, luma.bulk_high
    tint = colour(sample.thumbnail)
    return Measures(
        frames=len(sample.grays),
        fps=frame_rate(sample.timestamps),
        motion=motion(sample.grays),
        mean_luma=luma.mean,
        bright_fraction=luma.bright,
        saturated_fraction=luma.saturated,
        spread=high - low,
        contrast=(high - low) / (high + low) if high + low > 0 else 1.0,
        sharpness=sharp,
        detail=sum(c > 0 for c in cells) / len(cells) if cells else 0.0,
        cell_sharpness=cells,
        cell_std=stds,
        flat_fraction=flat_fraction(stds),
        noise=noise_level(sample.grays),
        colour_cast=tint.cast,
        colourfulness=tint.colourfulness,
        chromaticity=tint.chromaticity,
        edge_map=edge_map(background),
    )


def median_frame(grays: Sequence[Gray]) -> Gray:
    """Per-pixel median of the frames: the static scene without noise or passers-by."""
    if len(grays) == 1:
        return grays[0]
    middle = len(grays) // 2
    median: Gray = np.partition(np.stack(grays), middle, axis=0)[middle]
    return median


def content(gray: Gray) -> Gray:
    """The frame without anything narrower than 11 pixels at 320 wide (a grey closing,
    then opening): the on-screen clock with its outline, hot pixels and sensor noise
    go; lamps, people, doors and the edges between surfaces stay."""
    size = max(3, round(CONTENT_KERNEL * gray.shape[1] / 320) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    # Beyond the edges the frame's mean level: a clock stamped along the top edge of a
    # black picture must not survive whole because the filter cannot see past the frame,
    # and a flat picture must stay flat up to its corners.
    level = float(gray[::8, ::8].mean())
    framed = cv2.copyMakeBorder(
        gray, size, size, size, size, cv2.BORDER_CONSTANT, value=(level, level, level, level)
    )
    closed = cv2.morphologyEx(framed, cv2.MORPH_CLOSE, kernel)
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)
    return np.asarray(opened[size:-size, size:-size], np.uint8)


def motion(grays: Sequence[Gray]) -> float | None:
    """Frozen: the median mean absolute difference between consecutive frames.

    A frozen encoder repeats one picture bit for bit (0.0); a live static scene still
    differs by sensor noise and encoder dither. The median, not the largest, so that a
    camera whose picture froze while it keeps stamping a ticking clock on it (a change in
    a few pairs only) still reads frozen. ``None`` with fewer than two frames.
    """
    if len(grays) < 2:
        return None
    return statistics.median(float(cv2.absdiff(a, b).mean()) for a, b in itertools.pairwise(grays))


@dataclass(frozen=True, slots=True)
class Luma:
    """What :func:`luma_stats` finds: means over the frames, medians for the rest."""

    mean: float
    bright: float  # fraction of the content at luma >= 48 ("lit")
    saturated: float  # fraction of pixels at luma >= 250
    bulk_low: float  # the content's p5
    bulk_high: float  # the content's p95


def luma_stats(grays: Sequence[Gray]) -> Luma:
    """Black, over-exposed, low contrast, over the single frames (a ball crossing a black
    picture is in every frame, not in their median)."""
    means, bright, saturated, lows, highs = [], [], [], [], []
    for gray in grays:
        means.append(float(gray.mean()))
        saturated.append(float((gray >= SATURATED_LUMA).mean()))
        hist = np.bincount(content(gray).ravel(), minlength=256).astype(np.float64)
        cumulative = np.cumsum(hist) / hist.sum()
        level = functools.partial(np.searchsorted, cumulative)
        lows.append(float(level(BULK)))
        highs.append(float(level(1.0 - BULK)))
        bright.append(float(1.0 - cumulative[BRIGHT_LUMA - 1]))
    return Luma(
        mean=sum(means) / len(means),
        bright=statistics.median(bright),
        saturated=sum(saturated) / len(saturated),
        bulk_low=statistics.median(lows),
        bulk_high=statistics.median(highs),
    )


def sharpness(gray: Gray) -> tuple[float, tuple[float, ...]]:
    """Blurred: Laplacian energy of the lightly smoothed frame over each cell's own
    variance, the median over the cells of an 8x6 grid that show structure; and the
    fraction of cells that do ("detail").

    Per cell, because a lamp or a window would otherwise dominate the whole frame's
    variance and the clock its Laplacian; normalised by the cell's contrast, so that it
    holds between bright and dim light. 0.0 when fewer than four cells have structure:
    too little to judge focus on (a dark night picture). Each cell's own value is
    returned too, row by row, 0.0 for a cell without structure: comparing cell by cell
    with the baseline judges focus on what is lit in both, whichever lamps are on.
    """
    image = gray.astype(np.float32)
    laplacian = np.asarray(
        cv2.Laplacian(cv2.GaussianBlur(image, (0, 0), 1.0), cv2.CV_32F), np.float32
    )
    cells, lap_cells = _cells(image), _cells(laplacian)
    if cells is None or lap_cells is None:
        return 0.0, ()
    stds = cells.std(axis=(1, 3))
    ratios = lap_cells.var(axis=(1, 3)) / (stds**2 + 1.0)
    detailed = stds >= DETAIL_CELL_STD
    per_cell = tuple(np.where(detailed, np.round(ratios, 6), 0.0).ravel().tolist())
    if int(detailed.sum()) < MIN_DETAILED_CELLS:
        return 0.0, per_cell
    return float(np.median(ratios[detailed])), per_cell


def cell_stds(gray: Gray) -> tuple[float, ...]:
    """Occluded: the standard deviation of each cell of an 8x6 grid, row by row; a cell
    under 3 is featureless (a blurred one keeps its broad shading, a covered one not)."""
    cells = _cells(gray.astype(np.float32))
    if cells is None:
        return ()
    return tuple(np.round(cells.std(axis=(1, 3)).ravel(), 2).tolist())


def flat_fraction(stds: Sequence[float]) -> float:
    """The fraction of featureless cells (std < 3); 1.0 for a frame too small for cells."""
    if not stds:
        return 1.0
    return sum(v < FLAT_CELL_STD for v in stds) / len(stds)


def noise_level(grays: Sequence[Gray]) -> float:
    """Noisy / snow: mean absolute difference between a frame and its 3x3 median blur,
    averaged over the frames. Fine texture contributes too, hence the baseline."""
    levels = [float(cv2.absdiff(g, cv2.medianBlur(g, 3)).mean()) for g in grays]
    return sum(levels) / len(levels)


@dataclass(frozen=True, slots=True)
class Tint:
    """What :func:`colour` reads from the thumbnail."""

    cast: float
    colourfulness: float | None = None
    chromaticity: tuple[float, float, float] | None = None


def colour(thumbnail: npt.NDArray[np.uint8] | None) -> Tint:
    """Colour cast, colourfulness and mean chromaticity of the thumbnail's usable pixels.

    Cast (grey world): ``max |channel mean - grey mean| / grey mean`` - 0.0 for a grey
    picture, so an infrared one is no colour cast. Colourfulness: the spread of the
    pixels' chromaticities - near 0 when every pixel has the same hue, which is what a
    grey-scale infrared picture is. Chromaticity: each channel's share of the light
    (B, G, R), which a failing white balance shifts whichever colour the scene has.
    No colourfulness or chromaticity when under 5 % of the pixels are usable.
    """
    if thumbnail is None or thumbnail.ndim != 3:
        return Tint(0.0)
    pixels = thumbnail.reshape(-1, 3).astype(np.float32)
    luma = pixels.mean(axis=1)
    usable = pixels[(luma > USABLE_LUMA[0]) & (luma < USABLE_LUMA[1])]
    if len(usable) < 0.05 * len(pixels):
        return Tint(0.0)
    means = usable.mean(axis=0)
    grey = float(means.mean())
    shares = usable / (usable.sum(axis=1, keepdims=True) + 1e-6)
    spread = float(np.sqrt(shares[:, 1:].var(axis=0).sum()))
    mean_share = means / (means.sum() + 1e-6)
    return Tint(
        float(np.abs(means - grey).max() / grey),
        spread,
        (
            round(float(mean_share[0]), 5),
            round(float(mean_share[1]), 5),
            round(float(mean_share[2]), 5),
        ),
    )


def edge_map(gray: Gray) -> tuple[float, ...]:
    """Scene changed: a 32x24 map of the content's edge magnitude, zero-mean and
    unit-norm, so that :func:`similarity` of two maps is their correlation. All zeros
    for a flat frame. On the content, so the clock (which never moves) does not hold
    a turned camera's map to its reference; and of ``log(1 + luma / 16)``, so an edge
    counts by its relative contrast: a lamp's pool of light or a headlight sweeping a
    wall (smooth, multiplicative) changes the map little, a turned camera a lot."""
    image = np.log1p(content(gray).astype(np.float32) / LOG_OFFSET)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    small = cv2.resize(cv2.magnitude(gx, gy), EDGE_MAP_SIZE, interpolation=cv2.INTER_AREA)
    vector = small.ravel().astype(np.float64)
    vector -= vector.mean()
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        return tuple(0.0 for _ in vector)
    return tuple(np.round(vector / norm, 5).tolist())


def similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Correlation of two edge maps in [-1, 1]; 0.0 when they do not match in size."""
    if len(a) != len(b) or not a:
        return 0.0
    return float(np.clip(np.dot(np.asarray(a), np.asarray(b)), -1.0, 1.0))


def frame_rate(timestamps: Sequence[float]) -> float | None:
    """Low frame rate: frames per second from decoder timestamps (seconds).

    One over the median step between successive timestamps that move forward. The
    median, because an RTSP client re-bases its timestamps when the first RTCP sender
    report arrives: the clock then jumps back (or forward) once, and frames read while
    the stream was being analysed repeat a time. ``None`` with no forward step.
    """
    steps = [b - a for a, b in itertools.pairwise(timestamps) if b > a]
    if not steps:
        return None
    return 1.0 / statistics.median(steps)


def _cells(image: npt.NDArray[np.float32]) -> npt.NDArray[np.float32] | None:
    """The image cut into the 8x6 grid: axes (row, y, column, x); ``None`` if too small."""
    cols, rows = GRID
    height, width = image.shape[0] // rows * rows, image.shape[1] // cols * cols
    if height == 0 or width == 0:
        return None
    return image[:height, :width].reshape(rows, height // rows, cols, width // cols)
