"""The faults a simulated camera can show, and which layer each one acts on."""

from __future__ import annotations

import enum


class Fault(enum.StrEnum):
    """One injected fault per camera; ``NONE`` is a healthy camera.

    Connection faults act on the socket or the RTSP dialogue, stream faults on the
    RTP flow, picture faults replace the clip the camera streams.
    """

    NONE = "none"
    # connection
    OFFLINE = "offline"
    REFUSED = "refused"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    # stream
    STALL = "stall"
    # picture
    FROZEN = "frozen"
    BLACK = "black"
    OVEREXPOSED = "overexposed"
    BLURRED = "blurred"
    OCCLUDED = "occluded"
    SNOW = "snow"
    COLOR_CAST = "color_cast"
    MOVED = "moved"
    LOW_FPS = "low_fps"

    @property
    def changes_picture(self) -> bool:
        """True when the camera streams a clip of its own for this fault."""
        return self in PICTURE_FAULTS


PICTURE_FAULTS = frozenset(
    {
        Fault.FROZEN,
        Fault.BLACK,
        Fault.OVEREXPOSED,
        Fault.BLURRED,
        Fault.OCCLUDED,
        Fault.SNOW,
        Fault.COLOR_CAST,
        Fault.MOVED,
        Fault.LOW_FPS,
    }
)


def parse_fault(text: str) -> Fault:
    """``Fault`` from its name; ``healthy`` and ``ok`` also mean ``NONE``.

    Raises ``ValueError`` listing the valid names.
    """
    name = text.strip().lower().replace("-", "_")
    if name in {"healthy", "ok", ""}:
        return Fault.NONE
    try:
        return Fault(name)
    except ValueError:
        valid = ", ".join(f.value for f in Fault)
        raise ValueError(f"unknown fault {text!r}; expected one of: {valid}") from None
