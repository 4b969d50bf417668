from __future__ import annotations

import pytest

from device_sim.cameras.h264 import BitstreamError, group_access_units, parse_clip, split_annexb

SPS = bytes.fromhex("6742c01e") + b"\x22" * 6
PPS = bytes.fromhex("68ce3c80")
SEI = b"\x06\x05\x01\x80"
IDR_A = b"\x65\x88\x01"  # first_mb_in_slice = 0 (first bit set)
IDR_B = b"\x65\x40\x02"  # a second slice of the same picture
P = b"\x41\x9a\x03"


def _annexb(*nals: bytes) -> bytes:
    return b"".join(
        (b"\x00\x00\x00\x01" if i % 2 else b"\x00\x00\x01") + n for i, n in enumerate(nals)
    )


def test_split_handles_three_and_four_byte_start_codes() -> None:
    assert split_annexb(_annexb(SPS, PPS, IDR_A, P)) == [SPS, PPS, IDR_A, P]


def test_split_ignores_leading_garbage_and_trailing_zeros() -> None:
    assert split_annexb(b"\xff\xff" + _annexb(SPS) + b"\x00\x00") == [SPS]


def test_slices_group_into_pictures() -> None:
    frames = group_access_units([SPS, PPS, SEI, IDR_A, IDR_B, P, P])
    assert [f.nals for f in frames] == [(IDR_A, IDR_B), (P,), (P,)]
    assert [f.is_idr for f in frames] == [True, False, False]


def test_parse_clip_reads_parameter_sets_for_sdp() -> None:
    clip = parse_clip(_annexb(SPS, PPS, SEI, IDR_A, P), fps=10)
    assert clip.profile_level_id == "42C01E"
    assert clip.sprop_parameter_sets == "Z0LAHiIiIiIiIg==,aM48gA=="
    assert len(clip.frames) == 2


@pytest.mark.parametrize(
    "data", [b"", _annexb(PPS, IDR_A), _annexb(SPS, PPS), _annexb(SPS, PPS, P, IDR_A)]
)
def test_unusable_streams_are_rejected(data: bytes) -> None:
    with pytest.raises(BitstreamError):
        parse_clip(data, fps=10)
