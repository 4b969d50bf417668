"""Splitting a fleet across child processes (a process may hold only so many sockets).

Each child runs the same ``terminals`` command on its own slice of the credentials (a
sheet the parent writes for it, so no child loads the whole district) with its share of
the rates, the storm and the connect rate, reports progress as JSON lines and writes a
summary with raw latency samples; the parent merges them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import tempfile
from pathlib import Path

from device_sim.terminals.credentials import load_credentials, shard, write_credentials
from device_sim.terminals.fleet import FleetObserver
from device_sim.terminals.run import RunSpec
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
