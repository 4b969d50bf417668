"""Encoding clips once with the ``ffmpeg`` CLI, and caching them on disk.

Frames from ``scene`` are piped raw to ``ffmpeg`` (libx264, baseline profile,
zero-latency tuning, one IDR per second) which writes an Annex-B file into the cache
directory under the spec's key; a later start reads the file instead of encoding.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
from pathlib import Path

from device_sim.cameras.clips import ClipSpec
from device_sim.cameras.h264 import BitstreamError, Clip, parse_clip

logger = logging.getLogger(__name__)

# Part of the cache key: bump when the encoder settings below change.
ENCODER_VERSION = 1
_MAX_BITRATE = "1500k"


class EncodeError(RuntimeError):
    """``ffmpeg`` is missing or failed to encode a clip."""


def ffmpeg_command(spec: ClipSpec, output: Path) -> list[str]:
    """The ``ffmpeg`` invocation that encodes raw BGR frames of ``spec`` from stdin."""
    gop = spec.fps  # one IDR per second, so a new viewer waits at most a second
    return [
        "ffmpeg",
        *("-hide_banner", "-loglevel", "error", "-nostdin", "-y"),
        *("-f", "rawvideo", "-pix_fmt", "bgr24"),
        *("-s", f"{spec.width}x{spec.height}", "-r", str(spec.fps), "-i", "pipe:0"),
        *("-c:v", "libx264", "-profile:v", "baseline", "-preset", "veryfast"),
        *("-tune", "zerolatency", "-pix_fmt", "yuv420p", "-crf", "26"),
        *("-maxrate", _MAX_BITRATE, "-bufsize", _MAX_BITRATE),
        *("-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"),
        *("-x264-params", "sliced-threads=0:aud=0"),
        *("-f", "h264", str(output)),
    ]


def encode_clip(spec: ClipSpec, output: Path) -> None:
    """Render and encode ``spec`` into ``output`` (written atomically).

    Blocking; run it in a worker thread. Raises ``EncodeError``.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=output.name, suffix=".part", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _run_ffmpeg(spec, tmp)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)


def _run_ffmpeg(spec: ClipSpec, output: Path) -> None:
    # Imported here: OpenCV and numpy load only when a clip is not cached yet.
    from device_sim.cameras.scene import render_frames

    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                ffmpeg_command(spec, output),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        except OSError as exc:
            raise EncodeError(f"cannot start ffmpeg: {exc}") from exc
        assert proc.stdin is not None
        try:
            for frame in render_frames(spec):
                proc.stdin.write(frame.tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg exited early; its status and stderr say why
        finally:
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()
            raise EncodeError(f"ffmpeg failed for {spec.key} ({code}): {detail}")


class ClipLibrary:
    """Encoded clips by spec: memory first, then the cache directory, then ``ffmpeg``.

    Concurrent requests for one spec share one encode.
    """

    def __init__(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir
        self._clips: dict[ClipSpec, Clip] = {}
        self._locks: dict[ClipSpec, asyncio.Lock] = {}

    def path_for(self, spec: ClipSpec) -> Path:
        """Where the encoded Annex-B file of ``spec`` is cached."""
        return self._cache_dir / f"{spec.key}-e{ENCODER_VERSION}.h264"

    def cached(self, spec: ClipSpec) -> Clip | None:
        """The clip if it is already in memory."""
        return self._clips.get(spec)

    async def get(self, spec: ClipSpec) -> Clip:
        """The clip for ``spec``, encoding it first when it is not cached."""
        clip = self._clips.get(spec)
        if clip is not None:
            return clip
        lock = self._locks.setdefault(spec, asyncio.Lock())
        async with lock:
            clip = self._clips.get(spec)
            if clip is None:
                clip = await asyncio.to_thread(self._load_or_encode, spec)
                self._clips[spec] = clip
        return clip

    def _load_or_encode(self, spec: ClipSpec) -> Clip:
        path = self.path_for(spec)
        if path.exists():
            try:
                return parse_clip(path.read_bytes(), spec.fps)
            except BitstreamError as exc:
                logger.warning("re-encoding damaged cached clip %s: %s", path, exc)
        logger.info("encoding clip %s", spec.key)
        encode_clip(spec, path)
        return parse_clip(path.read_bytes(), spec.fps)
