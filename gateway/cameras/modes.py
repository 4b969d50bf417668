"""Day, night or infrared: the picture's mode, read from its luma and colour. Pure.

A camera's picture looks three ways in a day, and each is judged against what this
camera normally shows *in that mode* (:mod:`gateway.cameras.baseline` keeps one
baseline per mode):

``ir``
    No colour at all: the camera took its IR-cut filter out and lights the scene with its
    own illuminator, so it sends grey-scale. The pixels' chromaticities do not spread
    (colourfulness under 0.012; a colour scene, even a grey corridor, reads 0.03 and
    more). The illuminator sits on the camera, so an IR picture looks the same every
    night: the full set of rules applies against the IR baseline.
``day``
    Colour, and at least 80 % of the content lit (luma >= 48): daylight, or a room whose
    ceiling lamps light all of it. Full rules against the day baseline.
``night``
    Colour, with much of the picture dark: lamps, a lit doorway, an exit sign, a car's
    headlights. What is visible depends on which lamps are on, so the rules that compare
    *where* the structure is (a moved camera, a partly covered lens) are not applied;
    brightness, contrast of the lit content, noise, colour and frame rate still are
    (see :mod:`gateway.cameras.faults`).

A picture too dark to read any colour from (no usable pixels) is ``night``.
"""

from __future__ import annotations

import enum

from gateway.cameras.analysis import Measures
from gateway.cameras.config import Thresholds


class Mode(enum.StrEnum):
    """How the camera's picture is lit."""

    DAY = "day"
    NIGHT = "night"
    IR = "ir"


STRUCTURAL = frozenset({Mode.DAY, Mode.IR})
"""Modes whose pictures are lit the same way each time, so structure can be compared."""


def mode_of(m: Measures, t: Thresholds) -> Mode:
    """The mode of a picture with measures ``m``."""
    if m.colourfulness is not None and m.colourfulness < t.ir_max_colourfulness:
        return Mode.IR
    if m.colourfulness is not None and m.bright_fraction >= t.day_min_lit_fraction:
        return Mode.DAY
    return Mode.NIGHT
