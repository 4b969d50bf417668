"""The farm as real clients see it: ffprobe, OpenCV's FFmpeg backend and GStreamer."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from device_sim.cameras import CameraFarm, CameraInfo, Fault

from .conftest import login_url, run_tool, running, small_config

pytestmark = pytest.mark.integration

Image = npt.NDArray[np.uint8]


def _cam(farm: CameraFarm, camera_id: str) -> CameraInfo:
    return next(c for c in farm.cameras() if c.camera_id == camera_id)


def _ffprobe(url: str, *transport: str) -> list[str]:
    return [
        "ffprobe",
        *("-v", "error", *transport, "-analyzeduration", "1000000"),
        *("-show_entries", "stream=codec_name,width,height", "-of", "json", url),
    ]


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")
async def test_ffprobe_reads_h264_over_tcp_and_udp(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        url = login_url(_cam(farm, "cam-001"))
        tcp = await run_tool(*_ffprobe(url, "-rtsp_transport", "tcp"))
        udp = await run_tool(*_ffprobe(url, "-rtsp_transport", "udp"))
    for code, out in (tcp, udp):
        assert code == 0, out
        stream = json.loads(out)["streams"][0]
        assert stream == {"codec_name": "h264", "width": 320, "height": 180}


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")
async def test_ffprobe_sees_401_and_404(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, {"cam-002": Fault.NOT_FOUND})) as farm:
        anonymous = await run_tool(*_ffprobe(_cam(farm, "cam-001").url, "-rtsp_transport", "tcp"))
        wrong = await run_tool(
            *_ffprobe(login_url(_cam(farm, "cam-001"), "bad"), "-rtsp_transport", "tcp")
        )
        gone = await run_tool(*_ffprobe(login_url(_cam(farm, "cam-002")), "-rtsp_transport", "tcp"))
    assert anonymous[0] != 0
    assert "401" in anonymous[1]
    assert wrong[0] != 0
    assert "401" in wrong[1]
    assert gone[0] != 0
    assert "404" in gone[1]


def _read(url: str, count: int) -> list[Image]:
    capture = cv2.VideoCapture(
        url,
        cv2.CAP_FFMPEG,
        [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 10000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10000],
    )
    frames: list[Image] = []
    try:
        while capture.isOpened() and len(frames) < count:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(np.asarray(frame, np.uint8))
    finally:
        capture.release()
    return frames


def _sharpness(frame: Image) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def _all_differ(frames: list[Image]) -> bool:
    return not any(np.array_equal(a, b) for a, b in itertools.pairwise(frames))


def _all_same(frames: list[Image]) -> bool:
    return all(np.array_equal(a, b) for a, b in itertools.pairwise(frames))


# camera -> (fault, predicate on its decoded frames and the healthy cam-001 frames)
PICTURES: dict[str, tuple[Fault, Callable[[list[Image], list[Image]], bool]]] = {
    "cam-001": (Fault.NONE, lambda f, h: _all_differ(f) and 40 < f[0].mean() < 220),
    "cam-002": (Fault.BLACK, lambda f, h: max(x.mean() for x in f) < 20),
    "cam-003": (Fault.FROZEN, lambda f, h: _all_same(f) and f[0].mean() > 40),
    "cam-004": (Fault.OVEREXPOSED, lambda f, h: min(x.mean() for x in f) > 200),
    "cam-005": (Fault.BLURRED, lambda f, h: _sharpness(f[0]) < _sharpness(h[0]) / 4),
    "cam-006": (Fault.COLOR_CAST, lambda f, h: f[0][..., 2].mean() > 2 * f[0][..., :2].mean()),
    "cam-007": (Fault.OCCLUDED, lambda f, h: (f[0].max(axis=2) < 60).mean() > 0.5),
}


async def test_opencv_decodes_the_injected_pictures(
    clip_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp|analyzeduration;500000")
    faults = {cam: fault for cam, (fault, _) in PICTURES.items()}
    # variants=1: every camera shows the same room, so pictures compare across cameras
    config = small_config(clip_cache, faults, count=len(PICTURES), variants=1)
    async with running(config) as farm:
        urls = [login_url(_cam(farm, cam)) for cam in PICTURES]
        async with asyncio.timeout(60), asyncio.TaskGroup() as tg:
            reads = [tg.create_task(asyncio.to_thread(_read, url, 4)) for url in urls]
    decoded = dict(zip(PICTURES, (r.result() for r in reads), strict=True))
    assert all(len(frames) == 4 for frames in decoded.values()), {
        cam: len(frames) for cam, frames in decoded.items()
    }
    failed = [
        fault.value
        for cam, (fault, holds) in PICTURES.items()
        if not holds(decoded[cam], decoded["cam-001"])
    ]
    assert failed == []


@pytest.mark.skipif(shutil.which("gst-launch-1.0") is None, reason="needs gst-launch-1.0")
@pytest.mark.parametrize("protocols", ["tcp", "udp"])
async def test_gstreamer_rtspsrc_plays(
    clip_cache: Path, protocols: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Now and then (rarely) gst-launch meets end-of-file when it sends PAUSE after its
    # buffers over UDP: the farm's side of the connection says why it ended.
    caplog.set_level(logging.DEBUG, logger="device_sim.cameras")
    code, _ = await run_tool("gst-inspect-1.0", "avdec_h264")
    decode = ["rtph264depay", "!", "h264parse", "!", "avdec_h264"] if code == 0 else ["decodebin"]
    async with running(small_config(clip_cache)) as farm:
        info = _cam(farm, "cam-001")
        code, out = await run_tool(
            "gst-launch-1.0",
            "-q",
            "rtspsrc",
            f"location={info.url}",
            f"user-id={info.username}",
            f"user-pw={info.password}",
            f"protocols={protocols}",
            "!",
            *decode,
            "!",
            "fakesink",
            "num-buffers=15",
        )
    assert code == 0, f"{out}\nthe farm's log:\n{caplog.text[-3000:]}"
