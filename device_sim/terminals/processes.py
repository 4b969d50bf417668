"""Splitting a fleet across child processes (a process may hold only so many sockets).

Each child runs the same ``terminals`` command on its own slice of the credentials (a
sheet the parent writes for it, so no child loads the whole district) with its share of
the rates, the storm and the connect rate, reports progress as JSON lines and writes a
summary with raw latency samples; the parent merges them. The children start their
scenarios together: each waits for a line on its stdin, which the parent writes once
every child's terminals are online (or after the connect timeout), so the storm of one
child never falls into another's nominal minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from device_sim.terminals.credentials import load_credentials, shard, write_credentials
from device_sim.terminals.fleet import FleetObserver
from device_sim.terminals.run import START_LINE, RunSpec
from device_sim.terminals.summary import Snapshot, Summary, merge, total_snapshot

log = logging.getLogger(__name__)


class ChildFailedError(RuntimeError):
    """A child process exited with an error or without a summary."""


async def _spawn(spec: RunSpec, summary_path: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "device_sim",
        "terminals",
        *spec.to_args(),
        "--summary-json",
        str(summary_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def _follow(
    child: asyncio.subprocess.Process,
    index: int,
    snapshots: list[Snapshot],
    observer: FleetObserver | None,
) -> None:
    assert child.stdout is not None
    async for line in child.stdout:
        try:
            snapshots[index] = Snapshot(**json.loads(line))
        except (ValueError, TypeError):
            log.warning("child %d: unexpected output %r", index, line[:200])
            continue
        if observer is not None:
            observer.update(total_snapshot(snapshots))
    await child.wait()


#: How often the parent looks whether every child's terminals are online.
RELEASE_POLL_S = 0.1


async def release_when_online(
    children: Sequence[asyncio.subprocess.Process],
    snapshots: Sequence[Snapshot],
    total: int,
    timeout_s: float,
) -> bool:
    """Write the start line to every child once ``total`` terminals are online in all
    (or after ``timeout_s``, or once no child runs any more); True if all were online."""
    online = False
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while not (online := total_snapshot(snapshots).online >= total):
                if all(child.returncode is not None for child in children):
                    break
                await asyncio.sleep(RELEASE_POLL_S)
    for child in children:
        if child.stdin is None or child.returncode is not None:
            continue
        with contextlib.suppress(ConnectionError):
            child.stdin.write(START_LINE)
            await child.stdin.drain()
        child.stdin.close()
    if not online:
        log.warning("starting the children's scenarios with not every terminal online")
    return online


def _signal_all(children: list[asyncio.subprocess.Process], sig: signal.Signals) -> None:
    for child in children:
        if child.returncode is None:
            child.send_signal(sig)


async def _stop(children: list[asyncio.subprocess.Process]) -> None:
    _signal_all(children, signal.SIGTERM)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            await child.wait()


def _read(path: Path, index: int, returncode: int | None) -> Summary:
    if returncode != 0 or not path.exists():
        raise ChildFailedError(f"child process {index} failed (exit status {returncode})")
    return Summary.from_json(json.loads(path.read_text("utf-8")))


async def run_processes(spec: RunSpec, observer: FleetObserver | None) -> Summary:
    """Run the fleet in ``spec.processes`` children; the merged summary."""
    credentials = load_credentials(spec.credentials, spec.count)
    total = len(credentials)
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory(prefix="device-sim-") as tmp:
        paths = [Path(tmp) / f"shard-{i}.json" for i in range(spec.processes)]
        sheets = [Path(tmp) / f"credentials-{i}.csv" for i in range(spec.processes)]
        for index, sheet in enumerate(sheets):
            write_credentials(sheet, shard(credentials, index, spec.processes))
        del credentials  # the children hold the terminals, not the parent
        children: list[asyncio.subprocess.Process] = []
        try:
            for index, (path, sheet) in enumerate(zip(paths, sheets, strict=True)):
                children.append(await _spawn(spec.for_shard(index, total, sheet), path))
            snapshots = [Snapshot() for _ in children]
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, _signal_all, children, sig)
            async with asyncio.TaskGroup() as tg:
                for index, child in enumerate(children):
                    tg.create_task(
                        _follow(child, index, snapshots, observer), name=f"child-{index}"
                    )
                tg.create_task(
                    release_when_online(children, snapshots, total, spec.connect_timeout),
                    name="release",
                )
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await _stop(children)
        return merge(
            [
                _read(p, i, c.returncode)
                for i, (p, c) in enumerate(zip(paths, children, strict=True))
            ]
        )
