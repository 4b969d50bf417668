"""The baseline: what decoding streams continuously costs, as a recorder watching them does.

``python -m bench.camera_decode`` reads one JSON object on stdin::

    {"streams": [{"url": ..., "username": ..., "password": ...}, ...], "seconds": 20}

opens every stream with OpenCV's FFmpeg backend under the probe worker's own settings
(RTSP over TCP, one decoder thread), decodes every frame of every stream in a thread
each, and once every stream is live measures the process's CPU time and the frames
decoded for ``seconds``. It prints one JSON object. The passwords travel on stdin, not
argv.

OpenCV opens streams one after another (a lock inside it), so the first streams build
up a backlog while the last ones open; a stream counts as live once a frame had to be
waited for, and the measurement starts when all are.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

LIVE_DEADLINE_SECONDS = 60.0
OPEN_SECONDS = 10.0  # per stream, and per read
_JOIN_SECONDS = 10.0


async def measure_decoding(streams: Sequence[dict[str, str]], seconds: float) -> dict[str, Any]:
    """Run the baseline in a child process; the caller bounds it with ``asyncio.timeout``."""
    job = json.dumps({"streams": list(streams), "seconds": seconds}).encode()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.camera_decode",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await process.communicate(job)
    finally:
        if process.returncode is None:  # cancelled or timed out: leave nothing running
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the decoding baseline exited with {process.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


class _Decoder(threading.Thread):
    """Grabs (demuxes and decodes) every frame of one stream until told to stop."""

    def __init__(self, capture: Any, fps: float, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.capture = capture
        self.frames = 0
        self.failed = False
        self.live = threading.Event()
        self._gap = 0.5 / fps  # a grab this slow waited for the network: no backlog left
        self._stop_event = stop

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.monotonic()
            if not self.capture.grab():
                self.failed = True
                self.live.set()
                return
            self.frames += 1
            if time.monotonic() - started >= self._gap:
                self.live.set()


def decode(streams: Sequence[dict[str, str]], seconds: float) -> dict[str, Any]:
    """Open ``streams``, decode them all, measure ``seconds`` once they are live."""
    import cv2  # after the FFmpeg environment is set

    from gateway.cameras.capture import with_credentials

    cv2.setNumThreads(1)
    timeout = round(OPEN_SECONDS * 1000)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout,
        cv2.CAP_PROP_N_THREADS, 1,
    ]  # fmt: skip
    stop = threading.Event()
    decoders: list[_Decoder] = []
    for stream in streams:
        url = with_credentials(stream["url"], stream.get("username"), stream.get("password"))
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            continue
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        decoders.append(_Decoder(capture, fps if 1.0 <= fps <= 240.0 else 25.0, stop))
        decoders[-1].start()
    try:
        return _measure(decoders, seconds, len(streams))
    finally:
        stop.set()
        for decoder in decoders:
            decoder.join(_JOIN_SECONDS)
            decoder.capture.release()


def _measure(decoders: Sequence[_Decoder], seconds: float, asked: int) -> dict[str, Any]:
    deadline = time.monotonic() + LIVE_DEADLINE_SECONDS
    for decoder in decoders:
        decoder.live.wait(max(0.0, deadline - time.monotonic()))
    frames_before = [d.frames for d in decoders]
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    frames = sum(d.frames for d in decoders) - sum(frames_before)
    decoding = [d for d in decoders if not d.failed]
    stream_seconds = len(decoding) * wall
    return {
        "streams_asked": asked,
        "streams_decoded": len(decoding),
        "streams_failed": len(decoders) - len(decoding),
        "streams_not_live": sum(not d.live.is_set() for d in decoders),
        "seconds": wall,
        "cpu_seconds": cpu,
        "frames": frames,
        "frames_per_stream_second": frames / stream_seconds if stream_seconds else None,
        "cpu_seconds_per_frame": cpu / frames if frames else None,
        "cpu_seconds_per_stream_second": cpu / stream_seconds if stream_seconds else None,
    }


def main() -> None:
    """Read the job on stdin, print the measurement on stdout."""
    from gateway.cameras.worker import FFMPEG_ENVIRONMENT

    os.environ.update(FFMPEG_ENVIRONMENT)
    job = json.load(sys.stdin)
    result = decode(job["streams"], float(job["seconds"]))
    json.dump(result, sys.stdout)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
