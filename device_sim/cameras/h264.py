"""H.264 Annex-B parsing: NAL units, access units and the parameter sets.

Just enough of the bitstream to packetize a clip: NAL boundaries, NAL types, where
one picture ends and the next begins, and the SPS bytes the SDP advertises.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
_VCL = frozenset(range(1, 6))


class BitstreamError(ValueError):
    """The encoded clip is not a usable H.264 Annex-B stream."""


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """The VCL NAL units of one picture, without start codes."""

    nals: tuple[bytes, ...]

    @property
    def is_idr(self) -> bool:
        """True when the picture can be decoded without earlier ones."""
        return any(nal_type(nal) == NAL_IDR for nal in self.nals)


@dataclass(frozen=True, slots=True)
class Clip:
    """A looping encoded clip: parameter sets plus one access unit per frame."""

    fps: int
    sps: bytes
    pps: bytes
    frames: tuple[AccessUnit, ...]

    @property
    def profile_level_id(self) -> str:
        """``profile-level-id`` for the SDP: profile, constraint flags and level."""
        return self.sps[1:4].hex().upper()

    @property
    def sprop_parameter_sets(self) -> str:
        """``sprop-parameter-sets`` for the SDP: base64 SPS and PPS."""
        return ",".join(base64.b64encode(p).decode("ascii") for p in (self.sps, self.pps))


def nal_type(nal: bytes) -> int:
    """The ``nal_unit_type`` of a NAL unit."""
    return nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B stream, start codes and trailing zeros removed."""
    nals: list[bytes] = []
    start = _next_start(data, 0)
    while start is not None:
        begin = start[1]
        following = _next_start(data, begin)
        end = following[0] if following else len(data)
        nal = data[begin:end].rstrip(b"\x00")
        if nal:
            nals.append(nal)
        start = following
    return nals


def _next_start(data: bytes, offset: int) -> tuple[int, int] | None:
    """(start of the start code, start of the NAL) of the next start code."""
    found = data.find(b"\x00\x00\x01", offset)
    if found < 0:
        return None
    return found, found + 3


def parse_clip(annexb: bytes, fps: int) -> Clip:
    """A ``Clip`` from an encoder's Annex-B output.

    Raises ``BitstreamError`` when parameter sets or pictures are missing or the
    first picture is not an IDR (a loop must start where a decoder can).
    """
    nals = split_annexb(annexb)
    sps = next((n for n in nals if nal_type(n) == NAL_SPS), None)
    pps = next((n for n in nals if nal_type(n) == NAL_PPS), None)
    if sps is None or pps is None or len(sps) < 4:
        raise BitstreamError("stream has no SPS/PPS")
    frames = group_access_units(nals)
    if not frames:
        raise BitstreamError("stream has no pictures")
    if not frames[0].is_idr:
        raise BitstreamError("stream does not start with an IDR picture")
    return Clip(fps=fps, sps=sps, pps=pps, frames=tuple(frames))


def group_access_units(nals: Sequence[bytes]) -> list[AccessUnit]:
    """Slices grouped into pictures; SPS, PPS, SEI and delimiters are dropped.

    A slice whose ``first_mb_in_slice`` is 0 (the first bit of the slice header is 1)
    starts a new picture.
    """
    frames: list[AccessUnit] = []
    current: list[bytes] = []
    for nal in nals:
        if nal_type(nal) not in _VCL or len(nal) < 2:
            continue
        if nal[1] & 0x80 and current:
            frames.append(AccessUnit(tuple(current)))
            current = []
        current.append(nal)
    if current:
        frames.append(AccessUnit(tuple(current)))
    return frames
