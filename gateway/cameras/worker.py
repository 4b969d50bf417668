"""``python -m gateway.cameras.worker``: a long-lived probe worker process.

Reads one :class:`~gateway.cameras.probe.ProbeRequest` JSON line at a time on stdin and
answers with one :class:`~gateway.cameras.probe.ProbeReport` JSON line on stdout, until
stdin closes. OpenCV and numpy are imported once per worker, not per probe.

The FFmpeg environment is set before OpenCV is imported (``OPENCV_FFMPEG_CAPTURE_OPTIONS``
holds FFmpeg format options as ``key;value|key;value``):

``rtsp_transport;tcp``
    RTP interleaved in the RTSP connection: no lost UDP packets turning into grey
    smears, one socket per camera, nothing to open in a facility's firewall.
``fpsprobesize;0``
    Opening a stream, FFmpeg reads ahead until it has seen 20 frames to estimate the
    frame rate unless told otherwise; the probe measures the rate from the timestamps
    itself. At 5 fps those 20 frames alone took 4 s of every probe.
``analyzeduration;1000000``
    The rest of the stream analysis (H.264 also decodes 7 frames to guess its reorder
    delay) stops after 1 s of stream instead of 5. Codec parameters come from the SDP
    and the first key frame, well within that.

The frames read while analysing are not lost: the decoder returns them first. Quiet
logging. The protocol stream is a private copy of stdout; fd 1 is pointed at stderr so
nothing a native library prints can corrupt a reply.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from typing import BinaryIO

log = logging.getLogger(__name__)

FFMPEG_ENVIRONMENT = {
    "OPENCV_FFMPEG_CAPTURE_OPTIONS": "rtsp_transport;tcp|fpsprobesize;0|analyzeduration;1000000",
    "OPENCV_FFMPEG_LOGLEVEL": "-8",
    "OPENCV_LOG_LEVEL": "ERROR",
}


def main() -> None:
    """Serve probe requests from stdin until it closes."""
    os.environ.update(FFMPEG_ENVIRONMENT)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """Answer each request line with one reply line."""
    import cv2  # after the environment is set

    cv2.setNumThreads(1)
    for line in requests:
        if line.strip():
            replies.write(handle(line) + b"\n")
            replies.flush()


def handle(line: bytes) -> bytes:
    """One request line in, one reply line (without newline) out."""
    from pydantic import ValidationError

    from gateway.cameras.capture import probe_stream
    from gateway.cameras.probe import ProbeOutcome, ProbeReport, ProbeRequest

    started = time.process_time()
    try:
        request = ProbeRequest.model_validate_json(line)
    except ValidationError as exc:
        log.warning("bad probe request: %s", exc.errors()[0]["msg"])
        report = ProbeReport.failed(ProbeOutcome.ERROR, "bad probe request")
    else:
        try:
            report = probe_stream(request)
        except Exception as exc:  # noqa: BLE001 - per-request guard: report it, keep serving
            # The message may quote the URL, which holds the credentials here: log the
            # type and the stack only.
            stack = "".join(traceback.format_tb(exc.__traceback__))
            log.error("probe failed with %s:\n%s", type(exc).__name__, stack)
            report = ProbeReport.failed(ProbeOutcome.ERROR, f"probe failed: {type(exc).__name__}")
    cpu = time.process_time() - started
    return report.model_copy(update={"cpu_seconds": cpu}).model_dump_json().encode()


if __name__ == "__main__":
    main()
