"""Which clip a camera streams: the spec of a clip, per scene variant and fault.

Kept apart from ``scene`` so that choosing and caching clips needs no OpenCV or
numpy; those load only when a clip has to be rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from device_sim.cameras.faults import Fault

# Bump when the pictures change, so cached clips are re-encoded.
RENDER_VERSION = 2
LOW_FPS = 1


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """What one encoded clip shows; equal specs render equal frames."""

    width: int
    height: int
    fps: int
    seconds: int
    variant: int
    fault: Fault = Fault.NONE

    @property
    def frame_count(self) -> int:
        """Frames in one loop; a frozen picture is a single frame."""
        return 1 if self.fault is Fault.FROZEN else self.fps * self.seconds

    @property
    def key(self) -> str:
        """Stable name for the on-disk cache."""
        return (
            f"r{RENDER_VERSION}-{self.width}x{self.height}-{self.fps}fps-{self.seconds}s"
            f"-scene{self.variant}-{self.fault.value}"
        )


def spec_for(base: ClipSpec, variant: int, fault: Fault) -> ClipSpec:
    """The clip a camera with scene ``variant`` streams under ``fault``.

    Faults that leave the picture alone share the healthy clip; faults whose picture
    does not depend on the scene share one clip across variants.
    """
    if not fault.changes_picture:
        return replace(base, variant=variant, fault=Fault.NONE)
    if fault in {Fault.BLACK, Fault.SNOW}:
        variant = 0
    fps = LOW_FPS if fault is Fault.LOW_FPS else base.fps
    return replace(base, variant=variant, fault=fault, fps=fps)
