"""From a probe report to the list of faults it shows. Pure.

One detector per picture fault, each comparing one measure of
:mod:`gateway.cameras.analysis` (see the table there) with its threshold and, where
needed, the camera's baseline for the picture's mode (:mod:`gateway.cameras.modes`). A
fault that makes others meaningless masks them: a black picture is not also reported
blurred. Why each rule is what it is, for day, night and infrared pictures alike, is
written on its detector.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.cameras.analysis import FLAT_CELL_STD, MIN_DETAILED_CELLS, Measures, similarity
from gateway.cameras.baseline import Baseline, Baselines
from gateway.cameras.config import Thresholds
from gateway.cameras.modes import STRUCTURAL, Mode, mode_of
from gateway.cameras.probe import ProbeOutcome, ProbeReport


class FaultKind(enum.StrEnum):
    """Everything that can make a camera a blind spot."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    PROBE_ERROR = "probe_error"
    NO_SIGNAL = "no_signal"
    FROZEN = "frozen"
    BLACK = "black"
    OVEREXPOSED = "overexposed"
    LOW_CONTRAST = "low_contrast"
    BLURRED = "blurred"
    OCCLUDED = "occluded"
    NOISY = "noisy"
    COLOUR_CAST = "colour_cast"
    SCENE_CHANGED = "scene_changed"
    LOW_FPS = "low_fps"
    TOO_DARK = "too_dark"


NOTICES = frozenset({FaultKind.TOO_DARK})
"""Kinds shown with a camera that are no fault and page nobody (see :func:`black`)."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: which measure showed it, its value and the threshold it crossed."""

    kind: FaultKind
    measure: str
    value: float | None = None
    threshold: float | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """The fault as event data and API output."""
        return {
            "kind": self.kind.value,
            "measure": self.measure,
            "value": None if self.value is None else round(self.value, 4),
            "threshold": self.threshold,
            "detail": self.detail,
        }


_PICTURE = frozenset(FaultKind) - {
    FaultKind.UNREACHABLE,
    FaultKind.TIMEOUT,
    FaultKind.AUTH_FAILED,
    FaultKind.NOT_FOUND,
    FaultKind.PROBE_ERROR,
    FaultKind.NO_SIGNAL,
    FaultKind.LOW_FPS,
}
MASKS: dict[FaultKind, frozenset[FaultKind]] = {
    FaultKind.BLACK: _PICTURE - {FaultKind.BLACK},
    FaultKind.TOO_DARK: _PICTURE - {FaultKind.TOO_DARK},
    # Burnt out: the gain that clipped it also lifted the noise, and what little is
    # left has neither contrast, focus nor colour to judge.
    FaultKind.OVEREXPOSED: frozenset(
        {
            FaultKind.LOW_CONTRAST,
            FaultKind.BLURRED,
            FaultKind.OCCLUDED,
            FaultKind.SCENE_CHANGED,
            FaultKind.COLOUR_CAST,
            FaultKind.NOISY,
        }
    ),
    FaultKind.LOW_CONTRAST: frozenset(
        {FaultKind.OCCLUDED, FaultKind.BLURRED, FaultKind.SCENE_CHANGED}
    ),
    # A white balance gone that far squeezes the grey levels too: the cause is the cast.
    FaultKind.COLOUR_CAST: frozenset({FaultKind.LOW_CONTRAST}),
    FaultKind.OCCLUDED: frozenset({FaultKind.BLURRED, FaultKind.SCENE_CHANGED, FaultKind.FROZEN}),
    # Blur and snow destroy the edges the scene comparison relies on: the view did not
    # move, the picture got worse. (A camera both turned and blurred reports "blurred".)
    FaultKind.BLURRED: frozenset({FaultKind.SCENE_CHANGED}),
    # Snow buries the picture: what is under it can be judged neither sharp, contrasty,
    # in place nor true in colour.
    FaultKind.NOISY: frozenset(
        {
            FaultKind.SCENE_CHANGED,
            FaultKind.BLURRED,
            FaultKind.LOW_CONTRAST,
            FaultKind.OCCLUDED,
            FaultKind.COLOUR_CAST,
        }
    ),
}
"""A fault found together with its key hides the faults it maps to."""

_OUTCOME_FAULTS = {
    ProbeOutcome.REFUSED: FaultKind.UNREACHABLE,
    ProbeOutcome.UNREACHABLE: FaultKind.UNREACHABLE,
    ProbeOutcome.TIMEOUT: FaultKind.TIMEOUT,
    ProbeOutcome.AUTH_FAILED: FaultKind.AUTH_FAILED,
    ProbeOutcome.NOT_FOUND: FaultKind.NOT_FOUND,
    ProbeOutcome.ERROR: FaultKind.PROBE_ERROR,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one probe shows: its faults (none: healthy), the picture's mode (``None``
    when nothing was decoded) and notices (no fault: see :data:`NOTICES`)."""

    faults: tuple[Fault, ...]
    mode: Mode | None = None
    notices: tuple[Fault, ...] = ()


Detector = Callable[[Measures, Mode, Baseline | None, Thresholds], "Fault | None"]


def assess(
    report: ProbeReport, baselines: Baselines, t: Thresholds, expected_fps: float | None,
    daytime: bool = False,
) -> Verdict:  # fmt: skip
    """Every fault the report shows, judged against the baseline of its mode;
    ``daytime``: a daylit camera in the configured daylight hours. Then a dark, empty
    picture is black (see :func:`black`), and a picture that looks like night - a hand
    over the lens makes it so - is judged against the camera's day baseline."""
    if report.outcome is not ProbeOutcome.REACHABLE:
        kind = _OUTCOME_FAULTS[report.outcome]
        return Verdict((Fault(kind, "outcome", None, None, report.detail or report.outcome.value),))
    if report.measures is None:
        return Verdict((Fault(FaultKind.NO_SIGNAL, "frames", 0.0, 1.0, report.detail),))
    mode = mode_of(report.measures, t)
    if daytime and mode is Mode.NIGHT and Mode.DAY in baselines.learned:
        mode = Mode.DAY  # by day a dark picture is a day picture gone wrong (a cover)
    if report.stalled:
        frames = float(report.measures.frames)
        return Verdict((Fault(FaultKind.NO_SIGNAL, "frames", frames, None, report.detail),), mode)
    sees_in_dark = daytime or Mode.IR in baselines.learned
    own = baselines.of(mode)
    others = tuple(other for other in baselines.learned.values() if other is not own)
    found = picture_faults(report.measures, mode, own, t, expected_fps, sees_in_dark, others)
    faults = tuple(fault for fault in found if fault.kind not in NOTICES)
    notices = tuple(fault for fault in found if fault.kind in NOTICES)
    return Verdict(faults, mode, notices)


def picture_faults(
    m: Measures, mode: Mode, b: Baseline | None, t: Thresholds, expected_fps: float | None,
    sees_in_dark: bool = True, others: tuple[Baseline, ...] = (),
) -> tuple[Fault, ...]:  # fmt: skip
    """The faults (and notices) of a decoded sample in ``mode`` against ``b``, masking
    applied; ``sees_in_dark``: the camera should see now - it has shown infrared
    pictures before, or it is daytime; ``others``: the camera's baselines of its other
    modes, which a moved or covered view must be unlike too."""
    found = [fault for detect in _DETECTORS if (fault := detect(m, mode, b, t)) is not None]
    for structural in (occluded(m, mode, b, t, others), scene_changed(m, mode, b, t, others)):
        if structural is not None:
            found.append(structural)
    dark = black(m, t, sees_in_dark)
    if dark is not None:
        found.append(dark)
    low = low_fps(m, t, expected_fps)
    if low is not None:
        found.append(low)
    maskers = {fault.kind for fault in found}
    if FaultKind.OCCLUDED in maskers and _covered(m, found, t):
        maskers.discard(FaultKind.LOW_CONTRAST)
        found = [fault for fault in found if fault.kind is not FaultKind.LOW_CONTRAST]
    hidden = {kind for masker in maskers for kind in MASKS.get(masker, ())}
    return tuple(fault for fault in found if fault.kind not in hidden)


def _covered(m: Measures, found: list[Fault], t: Thresholds) -> bool:
    """Occluded rather than washed out: nothing is visible at all, or the structure is
    gone from part of the picture while a good part keeps it (a veil of fog or dirt
    flattens all of it alike, but for the clock, which is stamped on after the lens)."""
    if m.flat_fraction >= t.occluded_fallback_flat_fraction:
        return True
    lost = [f for f in found if f.kind is FaultKind.OCCLUDED and f.measure == "lost_detail"]
    return any(f.value is not None and f.value <= PARTIAL_COVER for f in lost)


PARTIAL_COVER = 0.75
"""Up to this share of the usual structure lost, a featureless part is a cover."""


def frozen(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Consecutive frames (nearly) identical.

    Any live sensor differs frame to frame by its noise, most of all at night; a frozen
    encoder repeats its picture bit for bit, and a relay re-encoding a frozen picture
    adds a few rounding steps (0.02). The median over the pairs, so a clock ticking on a
    frozen picture does not make it live.
    """
    if m.motion is None or m.motion >= t.frozen_max_motion:
        return None
    return Fault(FaultKind.FROZEN, "motion", m.motion, t.frozen_max_motion)


def black(m: Measures, t: Thresholds, sees_in_dark: bool) -> Fault | None:
    """Dark everywhere and nothing in it: no lit content and no structure.

    A dark scene is not a black one: a corridor at night with one lamp, a lit doorway or
    a white ball on black (mean luma 4, 1.7 % of the frame bright) shows something, and
    a dim one without lamps has structure in the bulk of its content. A capped lens at
    full gain only has noise, and the clock, which the content filter removes or which
    stays well under the 5 % the bulk ignores.

    Dark and empty is black when the signal is dead (frames repeat: the encoder sends
    black), when the camera sees in the dark (it has an infrared baseline, so a dark
    picture means its illuminator or lens failed), or in the daylight hours. Otherwise a
    live picture that is only dark - from a camera without infrared, at night - is an
    unlit corridor as much as a capped lens: it is shown as ``too_dark`` and pages
    nobody, and a capped lens is paged once the daylight hours begin.
    """
    dark = m.mean_luma <= t.black_max_mean_luma
    empty = m.bright_fraction < t.black_max_bright_fraction and m.spread < t.black_max_spread
    if not (dark and empty):
        return None
    dead = m.motion is not None and m.motion < t.frozen_max_motion
    kind = FaultKind.BLACK if dead or sees_in_dark else FaultKind.TOO_DARK
    return Fault(kind, "mean_luma", m.mean_luma, t.black_max_mean_luma)


def overexposed(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Most of the picture saturated (a lamp or the sun in view clips a few percent)."""
    if m.saturated_fraction < t.overexposed_min_fraction:
        return None
    return Fault(
        FaultKind.OVEREXPOSED,
        "saturated_fraction",
        m.saturated_fraction,
        t.overexposed_min_fraction,
    )


def low_contrast(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """The bulk of the content washed out (fog, a dirty dome, the illuminator's glare).

    Judged on the bulk of the content (its 5th to 95th percentile) and as Michelson
    contrast ``(hi - lo) / (hi + lo)``: a veil of scattered light raises the dark end,
    so the contrast falls however bright the scene. A dark scene keeps its dark end
    near zero and so its contrast near one, lamp or no lamp; that is why darkness alone
    is never low contrast. On its own, spread under 12 and contrast under 0.2 (a bare
    white wall has spread 35); against the mode's baseline, by day and in infrared, half
    the spread and under 0.45 of the contrast. Not against the night baseline: lamps
    light a scene in pools of high contrast, twilight evenly and flat.
    """
    washed = m.spread < t.low_contrast_max_spread and m.contrast < t.low_contrast_max_contrast
    if not washed and b is not None and mode in STRUCTURAL:
        washed = (
            m.contrast < t.low_contrast_max_contrast_ratio * b.contrast
            and m.spread < t.low_contrast_max_ratio * b.spread
        )
    if not washed:
        return None
    return Fault(FaultKind.LOW_CONTRAST, "contrast", m.contrast, t.low_contrast_max_contrast)


def blurred(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Sharpness fell well below this camera's own baseline in the same mode.

    Compared cell by cell, on the cells that show structure now and in the baseline,
    and normalised by each cell's contrast. Day and infrared only: at night the lit
    cells, their contrast and the noise of full gain all change with the lamps that are
    on, more than a slight defocus would.
    """
    if mode not in STRUCTURAL:
        return None
    ratio = sharpness_ratio(m, b)
    if ratio is None or m.detail < t.blurred_min_detail or ratio >= t.blurred_max_ratio:
        return None
    return Fault(FaultKind.BLURRED, "sharpness_ratio", ratio, t.blurred_max_ratio)


def sharpness_ratio(m: Measures, b: Baseline | None) -> float | None:
    """Median over the cells detailed now and in the baseline of their sharpness ratio;
    ``None`` with fewer than four such cells."""
    if b is None or len(m.cell_sharpness) != len(b.cell_sharpness):
        return None
    ratios = [
        now / then
        for now, then in zip(m.cell_sharpness, b.cell_sharpness, strict=True)
        if now > 0 and then > 0
    ]
    if len(ratios) < MIN_DETAILED_CELLS:
        return None
    return statistics.median(ratios)


def occluded(
    m: Measures, mode: Mode, b: Baseline | None, t: Thresholds, others: tuple[Baseline, ...] = ()
) -> Fault | None:
    """Most of the picture became featureless (hand, cloth, tape, a box in front).

    On its own: 90 % of the cells featureless (the clock keeps a few cells busy) in a
    picture that is not dark - a dark featureless picture is black, or a dark scene: a
    ball crossing a black picture leaves its median empty. Against the baseline, in day
    and infrared only: many of the cells that normally show structure lost it - and
    compared with the camera's other baselines too, so a room lit by its lamps in the
    evening, whose corners are dark, is not read against its daylit self alone. At night
    the structure is where the lamps shine, and lamps go on and off.
    """
    if m.flat_fraction >= t.occluded_fallback_flat_fraction and (
        m.mean_luma > t.black_max_mean_luma
    ):
        return Fault(
            FaultKind.OCCLUDED, "flat_fraction", m.flat_fraction, t.occluded_fallback_flat_fraction
        )
    if b is None or mode not in STRUCTURAL or m.flat_fraction < t.occluded_min_flat_fraction:
        return None
    losses = [lost for ref in (b, *others) if (lost := lost_detail(m, ref)) is not None]
    if not losses or min(losses) < t.occluded_min_lost_detail:
        return None
    return Fault(FaultKind.OCCLUDED, "lost_detail", losses[0], t.occluded_min_lost_detail)


def lost_detail(m: Measures, b: Baseline) -> float | None:
    """The share of the cells with structure in the baseline that are featureless now."""
    usual = [i for i, value in enumerate(b.cell_sharpness) if value > 0]
    if not usual or len(m.cell_std) != len(b.cell_sharpness):
        return None
    return sum(m.cell_std[i] < FLAT_CELL_STD for i in usual) / len(usual)


def noisy(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Snow or heavy noise: fine-grain energy far above this camera's normal in the same
    mode. Infrared and night pictures are noisy by nature (the gain is up); against the
    day baseline every night would be "noisy", against its own it is not."""
    if m.noise >= t.noisy_max_level:
        return Fault(FaultKind.NOISY, "noise", m.noise, t.noisy_max_level)
    if b is None or m.noise < t.noisy_min_level or m.noise < t.noisy_min_ratio * b.noise:
        return None
    return Fault(FaultKind.NOISY, "noise", m.noise, t.noisy_min_ratio * b.noise)


def colour_cast(m: Measures, mode: Mode, b: Baseline | None, t: Thresholds) -> Fault | None:
    """One colour channel dominates (stuck IR-cut filter, failing white balance).

    On its own, a grey-world deviation of 0.5. Against the mode's baseline, a shift of
    the picture's mean chromaticity (each channel's share of the light) by 0.15 of a
    neutral share, in whatever direction: a white balance failing on a pink wall may
    push it towards grey (lamps going on and off at night move it by up to 0.11). An
    infrared picture has no colour, and no colour is no cast; a lamp's warmth at night
    is part of the night baseline.
    """
    if m.colour_cast >= t.colour_cast_max:
        return Fault(FaultKind.COLOUR_CAST, "colour_cast", m.colour_cast, t.colour_cast_max)
    shift = chromaticity_shift(m, b)
    if shift is None or shift < t.colour_cast_min_shift:
        return None
    return Fault(FaultKind.COLOUR_CAST, "chromaticity_shift", shift, t.colour_cast_min_shift)


def chromaticity_shift(m: Measures, b: Baseline | None) -> float | None:
    """The largest change of a channel's share of the light from the baseline's, over a
    neutral share (1/3); ``None`` when either is too dark to read."""
    if b is None or b.chromaticity is None or m.chromaticity is None:
        return None
    return (
        max(abs(now - then) for now, then in zip(m.chromaticity, b.chromaticity, strict=True)) * 3
    )


def scene_changed(
    m: Measures, mode: Mode, b: Baseline | None, t: Thresholds, others: tuple[Baseline, ...] = ()
) -> Fault | None:
    """The edges no longer line up with the reference view: turned, moved or blocked.

    Day and infrared only: there the light comes from the sky or from the camera itself,
    so the same view has the same edges; at night they follow the lamps that are on. A
    view is moved only if it is unlike every reference the camera has (a lamp-lit
    evening may look more like its night baseline than its daylit one).
    """
    if b is None or mode not in STRUCTURAL:
        return None
    score = max(similarity(m.edge_map, ref.edge_map) for ref in (b, *others))
    if score >= t.scene_min_similarity:
        return None
    return Fault(FaultKind.SCENE_CHANGED, "similarity", score, t.scene_min_similarity)


def low_fps(m: Measures, t: Thresholds, expected_fps: float | None) -> Fault | None:
    """Fewer frames per second than the floor, or than the camera should deliver.

    In low light many cameras lengthen the exposure and halve their frame rate ("slow
    shutter"), so a halving is no fault: the floor is 0.45 of the expected rate. Not
    tied to the picture's mode, because the camera switches by its own light meter and
    a fault (a cover, glare) changes the picture's mode but not the frame rate.
    """
    if m.fps is None:
        return None
    limit = t.min_fps
    if expected_fps is not None:
        limit = max(limit, t.min_fps_ratio * expected_fps)
    if m.fps >= limit:
        return None
    return Fault(FaultKind.LOW_FPS, "fps", m.fps, round(limit, 3))


_DETECTORS: tuple[Detector, ...] = (frozen, overexposed, low_contrast, blurred, noisy, colour_cast)
"""The detectors that need only the mode's own baseline (black, occluded, scene change
and frame rate are called with more)."""
