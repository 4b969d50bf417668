"""sd_notify: READY once serving, then watchdog pings, over a real datagram socket."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from gateway.operate.notify import Notifier


def listening(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    return sock


async def received(sock: socket.socket, count: int) -> list[str]:
    loop = asyncio.get_running_loop()
    return [(await loop.sock_recv(sock, 4096)).decode() for _ in range(count)]


async def test_ready_then_watchdog_pings(tmp_path: Path) -> None:
    sock = listening(tmp_path / "notify")
    environ = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "100000",
               "WATCHDOG_PID": str(os.getpid())}  # fmt: skip
    serving, connected = asyncio.Event(), asyncio.Event()
    with sock:
        task = asyncio.create_task(Notifier(environ).run(serving, connected))
        serving.set()
        async with asyncio.timeout(5):
            first = await received(sock, 2)
            connected.set()
            rest = await received(sock, 3)
        task.cancel()

    assert first[0].startswith("READY=1")
    assert first[1] == "WATCHDOG=1"
    assert "STATUS=serving; broker connected" in rest
    assert rest.count("WATCHDOG=1") >= 1


def test_outside_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})

    notifier.notify("READY=1")  # no socket: a no-op, no error

    assert notifier.watchdog_s is None


def test_a_watchdog_meant_for_another_process_is_ignored() -> None:
    notifier = Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})

    assert notifier.watchdog_s is None
