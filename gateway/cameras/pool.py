"""``ProcessProber``: probes run in a small pool of long-lived worker processes.

Why processes: OpenCV's FFmpeg open can block for tens of seconds and is serialised by a
lock inside one process, so threads would let one bad camera stall the rest; a process
can be killed. Why ``asyncio`` subprocesses speaking JSON lines (not ``multiprocessing``):
they are awaited directly on the event loop without helper threads, a crash or a kill
shows up as a closed pipe, no fork of a threaded process is involved, and the worker is
an ordinary command that can be run and tested on its own.

A worker answers one request at a time. If a probe is cancelled (the caller's hard
timeout) or the worker misbehaves, that worker is killed and its slot respawns a fresh
one on the next probe; the other workers carry on.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from types import TracebackType

from pydantic import ValidationError

from gateway.cameras import metrics
from gateway.cameras.probe import ProbeError, ProbeReport, ProbeRequest

log = logging.getLogger(__name__)

WORKER_COMMAND = (sys.executable, "-m", "gateway.cameras.worker")
_LINE_LIMIT = 16 * 2**20  # a reply carries a base64 JPEG


class ProcessProber:
    """A :class:`~gateway.cameras.probe.Prober` backed by ``size`` worker processes.

    Use as ``async with ProcessProber(size) as prober``; leaving the block stops the
    workers. ``command`` starts one worker (default: this Python, ``-m
    gateway.cameras.worker``).
    """

    def __init__(self, size: int, command: Sequence[str] = WORKER_COMMAND) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._command = tuple(command)
        self._slots: asyncio.Queue[asyncio.subprocess.Process | None] = asyncio.Queue(size)
        for _ in range(size):
            self._slots.put_nowait(None)
        self._live: set[asyncio.subprocess.Process] = set()

    async def __aenter__(self) -> ProcessProber:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def probe(self, request: ProbeRequest) -> ProbeReport:
        """Run one probe in a free worker, waiting for one if all are busy."""
        process = await self._slots.get()
        try:
            if process is None:
                process = await self._spawn()
            line = await _exchange(process, request.to_line())
            return _decode(line)
        except BaseException:
            if process is not None:
                await self._kill(process)
                process = None
            raise
        finally:
            self._slots.put_nowait(process)

    async def aclose(self) -> None:
        """Stop every worker: close its stdin, then kill it if it lingers."""
        for process in list(self._live):
            if process.stdin is not None:
                process.stdin.close()
            try:
                async with asyncio.timeout(2):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
            self._live.discard(process)

    async def _spawn(self) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
        )
        self._live.add(process)
        log.debug("started probe worker %d", process.pid)
        return process

    async def _kill(self, process: asyncio.subprocess.Process) -> None:
        metrics.WORKER_RESTARTS.inc()
        if process.returncode is None:
            log.warning("killing probe worker %d", process.pid)
            process.kill()
        await process.wait()
        self._live.discard(process)


async def _exchange(process: asyncio.subprocess.Process, request: bytes) -> bytes:
    assert process.stdin is not None  # both pipes were requested at spawn
    assert process.stdout is not None
    try:
        process.stdin.write(request)
        await process.stdin.drain()
        line = await process.stdout.readline()
    except (ConnectionError, ValueError) as exc:  # broken pipe, reply over the limit
        raise ProbeError(f"probe worker failed: {exc}") from exc
    if not line:
        raise ProbeError("probe worker exited")
    return line


def _decode(line: bytes) -> ProbeReport:
    try:
        return ProbeReport.model_validate_json(line)
    except ValidationError as exc:
        raise ProbeError("probe worker sent an invalid report") from exc
