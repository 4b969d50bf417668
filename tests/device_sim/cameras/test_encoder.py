from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from device_sim.cameras import encoder
from device_sim.cameras.clips import ClipSpec
from device_sim.cameras.encoder import ClipLibrary, ffmpeg_command
from device_sim.cameras.faults import Fault

SPEC = ClipSpec(width=64, height=64, fps=2, seconds=1, variant=0)


def test_ffmpeg_command_encodes_baseline_h264_with_one_idr_per_second() -> None:
    argv = ffmpeg_command(SPEC, Path("out.h264"))
    joined = " ".join(argv)
    assert argv[0] == "ffmpeg"
    assert "-c:v libx264 -profile:v baseline" in joined
    assert "-tune zerolatency" in joined
    assert "-g 2 -keyint_min 2" in joined
    assert "-s 64x64 -r 2 -i pipe:0" in joined
    assert argv[-3:] == ["-f", "h264", "out.h264"]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
async def test_clips_are_encoded_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = await ClipLibrary(tmp_path).get(SPEC)
    assert len(clip.frames) == 2
    assert clip.frames[0].is_idr
    assert clip.profile_level_id.startswith("42")

    def no_encoding(spec: ClipSpec, output: Path) -> None:
        raise AssertionError("clip should come from the cache")

    monkeypatch.setattr(encoder, "encode_clip", no_encoding)
    again = await ClipLibrary(tmp_path).get(SPEC)
    assert again == clip


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
async def test_damaged_cache_file_is_re_encoded(tmp_path: Path) -> None:
    spec = ClipSpec(width=64, height=64, fps=2, seconds=1, variant=1, fault=Fault.FROZEN)
    library = ClipLibrary(tmp_path)
    library.path_for(spec).write_bytes(b"\x00\x00\x01\x09\xf0")
    clip = await library.get(spec)
    assert len(clip.frames) == 1
    assert clip.frames[0].is_idr
