"""From a probe report to the list of faults it shows. Pure.

One detector per picture fault, each comparing one measure of
:mod:`gateway.cameras.analysis` (see the table there) with its threshold and, where
needed, the camera's baseline. A fault that makes others meaningless masks them: a black
picture is not also reported blurred.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.cameras.analysis import Measures, similarity
from gateway.cameras.baseline import Baseline
from gateway.cameras.config import Thresholds
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
    FaultKind.OVEREXPOSED: frozenset(
        {
            FaultKind.LOW_CONTRAST,
            FaultKind.BLURRED,
            FaultKind.OCCLUDED,
            FaultKind.SCENE_CHANGED,
            FaultKind.COLOUR_CAST,
        }
    ),
    FaultKind.LOW_CONTRAST: frozenset(
        {FaultKind.OCCLUDED, FaultKind.BLURRED, FaultKind.SCENE_CHANGED}
    ),
    FaultKind.OCCLUDED: frozenset({FaultKind.BLURRED, FaultKind.SCENE_CHANGED, FaultKind.FROZEN}),
    # Blur and snow destroy the edges the scene comparison relies on: the view did not
    # move, the picture got worse. (A camera both turned and blurred reports "blurred".)
    FaultKind.BLURRED: frozenset({FaultKind.SCENE_CHANGED}),
    FaultKind.NOISY: frozenset({FaultKind.SCENE_CHANGED}),
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


def assess(
    report: ProbeReport, baseline: Baseline | None, t: Thresholds, expected_fps: float | None
) -> tuple[Fault, ...]:
    """Every fault the report shows; empty when the camera is healthy."""
    if report.outcome is not ProbeOutcome.REACHABLE:
        kind = _OUTCOME_FAULTS[report.outcome]
        return (Fault(kind, "outcome", None, None, report.detail or report.outcome.value),)
    if report.measures is None:
        return (Fault(FaultKind.NO_SIGNAL, "frames", 0.0, 1.0, report.detail),)
    if report.stalled:
        frames = float(report.measures.frames)
        return (Fault(FaultKind.NO_SIGNAL, "frames", frames, None, report.detail),)
    return picture_faults(report.measures, baseline, t, expected_fps)


def picture_faults(
    m: Measures, b: Baseline | None, t: Thresholds, expected_fps: float | None
) -> tuple[Fault, ...]:
    """The faults of a decoded sample, masking applied."""
    found = [fault for detect in _DETECTORS if (fault := detect(m, b, t)) is not None]
    low = low_fps(m, t, expected_fps)
    if low is not None:
        found.append(low)
    maskers = {fault.kind for fault in found}
    if FaultKind.OCCLUDED in maskers and m.flat_fraction >= t.occluded_fallback_flat_fraction:
        maskers.discard(FaultKind.LOW_CONTRAST)  # nothing visible: covered, not foggy
        found = [fault for fault in found if fault.kind is not FaultKind.LOW_CONTRAST]
    hidden = {kind for masker in maskers for kind in MASKS.get(masker, ())}
    return tuple(fault for fault in found if fault.kind not in hidden)


def frozen(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Consecutive frames (nearly) identical."""
    if m.motion is None or m.motion >= t.frozen_max_motion:
        return None
    return Fault(FaultKind.FROZEN, "motion", m.motion, t.frozen_max_motion)


def black(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Dark everywhere, with no bright structure (lamps, windows) left."""
    if m.mean_luma > t.black_max_mean_luma or m.bright_fraction >= t.black_max_bright_fraction:
        return None
    return Fault(FaultKind.BLACK, "mean_luma", m.mean_luma, t.black_max_mean_luma)


def overexposed(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Most of the picture saturated."""
    if m.saturated_fraction < t.overexposed_min_fraction:
        return None
    return Fault(
        FaultKind.OVEREXPOSED,
        "saturated_fraction",
        m.saturated_fraction,
        t.overexposed_min_fraction,
    )


def low_contrast(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Luma squeezed into a narrow band (fog, dirty dome, failing sensor)."""
    if m.spread >= t.low_contrast_max_spread:
        return None
    if b is not None and m.spread >= t.low_contrast_max_ratio * b.spread:
        return None
    return Fault(FaultKind.LOW_CONTRAST, "spread", m.spread, t.low_contrast_max_spread)


def blurred(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Sharpness fell well below this camera's own baseline."""
    if b is None or b.sharpness <= 0:
        return None
    ratio = m.sharpness / b.sharpness
    if ratio >= t.blurred_max_ratio:
        return None
    return Fault(FaultKind.BLURRED, "sharpness_ratio", ratio, t.blurred_max_ratio)


def occluded(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Most of the picture became featureless (hand, cloth, tape, a box in front)."""
    if b is None:
        hit = (
            m.flat_fraction >= t.occluded_fallback_flat_fraction
            and m.mean_luma <= t.occluded_fallback_max_luma
        )
        limit = t.occluded_fallback_flat_fraction
    else:
        hit = (
            m.flat_fraction >= t.occluded_min_flat_fraction
            and m.flat_fraction - b.flat_fraction >= t.occluded_min_flat_increase
        )
        limit = t.occluded_min_flat_fraction
    return Fault(FaultKind.OCCLUDED, "flat_fraction", m.flat_fraction, limit) if hit else None


def noisy(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """Snow or heavy noise: fine-grain energy far above normal."""
    if m.noise >= t.noisy_max_level:
        return Fault(FaultKind.NOISY, "noise", m.noise, t.noisy_max_level)
    if b is None or m.noise < t.noisy_min_level or m.noise < t.noisy_min_ratio * b.noise:
        return None
    return Fault(FaultKind.NOISY, "noise", m.noise, t.noisy_min_ratio * b.noise)


def colour_cast(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """One colour channel dominates (stuck IR-cut filter, failing white balance)."""
    limit = t.colour_cast_max if b is None else b.colour_cast + t.colour_cast_min_increase
    if m.colour_cast < limit:
        return None
    return Fault(FaultKind.COLOUR_CAST, "colour_cast", m.colour_cast, round(limit, 4))


def scene_changed(m: Measures, b: Baseline | None, t: Thresholds) -> Fault | None:
    """The edges no longer line up with the reference view: turned, moved or blocked."""
    if b is None:
        return None
    score = similarity(m.edge_map, b.edge_map)
    if score >= t.scene_min_similarity:
        return None
    return Fault(FaultKind.SCENE_CHANGED, "similarity", score, t.scene_min_similarity)


def low_fps(m: Measures, t: Thresholds, expected_fps: float | None) -> Fault | None:
    """Fewer frames per second than the floor, or than the camera should deliver."""
    if m.fps is None:
        return None
    limit = t.min_fps
    if expected_fps is not None:
        limit = max(limit, t.min_fps_ratio * expected_fps)
    if m.fps >= limit:
        return None
    return Fault(FaultKind.LOW_FPS, "fps", m.fps, round(limit, 3))


_DETECTORS: tuple[Callable[[Measures, Baseline | None, Thresholds], Fault | None], ...] = (
    frozen,
    black,
    overexposed,
    low_contrast,
    blurred,
    occluded,
    noisy,
    colour_cast,
    scene_changed,
)
