"""The parent releases its children's scenarios together, once all are online."""

from __future__ import annotations

import asyncio
import sys

from device_sim.terminals.processes import release_when_online
from device_sim.terminals.summary import Snapshot

#: A child that echoes the first line it gets on stdin (or nothing, at end of file).
ECHO = "import sys; sys.stdout.write(sys.stdin.readline())"


async def children(n: int, code: str = ECHO) -> list[asyncio.subprocess.Process]:
    pipe = asyncio.subprocess.PIPE
    return [
        await asyncio.create_subprocess_exec(sys.executable, "-c", code, stdin=pipe, stdout=pipe)
        for _ in range(n)
    ]


async def said(child: asyncio.subprocess.Process) -> bytes:
    async with asyncio.timeout(10):
        out, _ = await child.communicate()
    return out


async def test_the_start_line_goes_to_every_child_once_all_are_online() -> None:
    procs = await children(2)
    snapshots = [Snapshot(online=5), Snapshot(online=3)]
    release = asyncio.create_task(release_when_online(procs, snapshots, 10, 60))
    await asyncio.sleep(0.5)
    assert not release.done()  # 8 of 10 online: nobody starts
    snapshots[1] = Snapshot(online=5)
    async with asyncio.timeout(10):
        assert await release is True
    assert [await said(p) for p in procs] == [b"start\n", b"start\n"]


async def test_after_the_timeout_they_start_anyway() -> None:
    procs = await children(2)
    snapshots = [Snapshot(online=1), Snapshot(online=0)]
    async with asyncio.timeout(10):
        assert await release_when_online(procs, snapshots, 2, 0.3) is False
    assert [await said(p) for p in procs] == [b"start\n", b"start\n"]


async def test_no_wait_when_every_child_has_exited() -> None:
    procs = await children(2, "pass")
    for p in procs:
        await p.wait()
    async with asyncio.timeout(5):  # not the 600 s timeout
        assert await release_when_online(procs, [Snapshot(), Snapshot()], 2, 600) is False
