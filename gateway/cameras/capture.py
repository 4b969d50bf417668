"""One probe, inside a worker process: RTSP check, open, sample frames, measure.

Runs synchronously and may block in the FFmpeg decoder; that is why it lives in a
worker process the parent can kill. Credentials enter the URL here and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import cv2
import numpy as np
import numpy.typing as npt

from gateway.cameras import analysis, rtsp
from gateway.cameras.analysis import FrameSample, Gray
from gateway.cameras.probe import ProbeOutcome, ProbeReport, ProbeRequest

THUMBNAIL_WIDTH = 64
_FALLBACK_FPS = 25.0
_REOPEN_PAUSE_SECONDS = 0.3
Frame = npt.NDArray[np.uint8]


@dataclass
class _Sample:
    grays: list[Gray] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)
    last: Frame | None = None
    first_frame_seconds: float | None = None
    stalled: bool = False


def probe_stream(request: ProbeRequest) -> ProbeReport:
    """Probe the stream of ``request`` and report what was found."""
    password = request.password.get_secret_value() if request.password else None
    checked = rtsp.check(request.url, request.username, password, request.open_timeout_seconds)
    if checked.outcome is not ProbeOutcome.REACHABLE:
        return ProbeReport(
            outcome=checked.outcome,
            rtsp_status=checked.status,
            detail=checked.detail,
            connect_seconds=checked.seconds,
        )
    started = time.monotonic()
    capture = _open(request, password)
    if not capture.isOpened() and time.monotonic() - started < request.open_timeout_seconds / 2:
        # Refused at once although DESCRIBE just succeeded: servers answer 503 while they
        # tear down the media our DESCRIBE prepared. One more try, after a breath.
        time.sleep(_REOPEN_PAUSE_SECONDS)
        capture = _open(request, password)
    try:
        opened = capture.isOpened()
        sample = _read_sample(capture, request, started) if opened else _Sample()
    finally:
        capture.release()
    return _report(request, checked, sample, opened)


def _open(request: ProbeRequest, password: str | None) -> cv2.VideoCapture:
    url = with_credentials(request.url, request.username, password)
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, _open_params(request))


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """``url`` with percent-encoded ``user:password@`` added (unchanged without a user)."""
    if not username:
        return url
    parts = urlsplit(url)
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}"))


def _open_params(request: ProbeRequest) -> list[int]:
    return [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        round(request.open_timeout_seconds * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        round(request.read_timeout_seconds * 1000),
        cv2.CAP_PROP_N_THREADS,
        1,
    ]


def _read_sample(capture: cv2.VideoCapture, request: ProbeRequest, started: float) -> _Sample:
    """Decode every frame for about ``sample_seconds`` of stream time, keeping
    ``sample_frames`` evenly spaced ones (downscaled grey) and the last one in colour."""
    nominal = float(capture.get(cv2.CAP_PROP_FPS))
    fps = nominal if 1.0 <= nominal <= 240.0 else _FALLBACK_FPS
    stride = max(1, round(fps * request.sample_seconds / request.sample_frames))
    give_up = started + request.open_timeout_seconds + request.read_timeout_seconds
    sample = _Sample()
    index = 0
    while len(sample.grays) < request.sample_frames:
        if not capture.grab():
            sample.stalled = sample.first_frame_seconds is not None
            break
        now = time.monotonic()
        if sample.first_frame_seconds is None:
            sample.first_frame_seconds = now - started
            give_up = now + request.sample_seconds + request.read_timeout_seconds
        sample.stamps.append(float(capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0)
        if index % stride == 0:
            ok, frame = capture.retrieve()
            if ok and frame is not None and frame.size:
                sample.last = _uint8(frame)
                sample.grays.append(_grey(sample.last, request.analysis_width))
        index += 1
        if now > give_up:
            break
    return sample


def sample_of(
    frames: Sequence[Frame], timestamps: Sequence[float], analysis_width: int
) -> FrameSample:
    """What :func:`analysis.measure` takes from the colour frames a probe kept and the
    timestamps of every frame it decoded: grey frames at ``analysis_width`` and a small
    colour thumbnail of the last frame. (The labelled scene set goes through this too.)"""
    grays = [_grey(frame, analysis_width) for frame in frames]
    thumbnail = _scaled(frames[-1], THUMBNAIL_WIDTH) if frames else None
    return FrameSample(grays, thumbnail, timestamps)


def _report(
    request: ProbeRequest, checked: rtsp.StreamCheck, sample: _Sample, opened: bool
) -> ProbeReport:
    last = sample.last
    thumbnail = None if last is None else _scaled(last, THUMBNAIL_WIDTH)
    measures = analysis.measure(FrameSample(sample.grays, thumbnail, sample.stamps))
    return ProbeReport(
        outcome=ProbeOutcome.REACHABLE,
        rtsp_status=checked.status,
        detail=_detail(opened, sample),
        connect_seconds=checked.seconds,
        first_frame_seconds=sample.first_frame_seconds,
        width=None if last is None else int(last.shape[1]),
        height=None if last is None else int(last.shape[0]),
        measures=measures,
        stalled=sample.stalled,
        snapshot=None if last is None else _jpeg(last, request),
    )


def _detail(opened: bool, sample: _Sample) -> str:
    if not opened:
        return "the decoder could not open the stream"
    if not sample.grays:
        return "no frame decoded within the read timeout"
    if sample.stalled:
        return f"the stream stalled after {len(sample.stamps)} frames"
    return ""


def _scaled(frame: Frame, width: int) -> Frame:
    height, current = frame.shape[:2]
    if current <= width:
        return frame
    size = (width, max(1, round(height * width / current)))
    return _uint8(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))


def _grey(frame: Frame, width: int) -> Gray:
    small = _scaled(frame, width)
    return small if small.ndim == 2 else _uint8(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))


def _uint8(image: object) -> Frame:
    """OpenCV's loosely typed result as the 8-bit array it is (no copy)."""
    return np.asarray(image, dtype=np.uint8)


def _jpeg(frame: Frame, request: ProbeRequest) -> bytes | None:
    params = [cv2.IMWRITE_JPEG_QUALITY, request.snapshot_quality]
    ok, encoded = cv2.imencode(".jpg", _scaled(frame, request.snapshot_width), params)
    return bytes(encoded) if ok else None
