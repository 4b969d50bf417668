"""The gateway's side of the forwarding process, against stand-in children (small
Python scripts): what it applies, and what it survives."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from firmware_protocol.messages import Stage
from gateway.config import GatewayConfig
from gateway.forward import process
from gateway.forward.process import ForwardingProcess, Report
from gateway.store.intake import StageUpdate

UPDATE = StageUpdate("T1", "a1", Stage.DELIVERED)
GOOD = Report(acks=[UPDATE], outcomes=[("webhook", "ok", 1)]).encode().decode()


class Acks:
    def __init__(self) -> None:
        self.got: list[StageUpdate] = []

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        self.got.extend(updates)


class Meter:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str, int]] = []

    def batch(self, sink: str, size: int) -> None:
        pass

    def outcome(self, sink: str, outcome: str, count: int) -> None:
        self.outcomes.append((sink, outcome, count))

    def delivered(self, sink: str, ages: Sequence[float]) -> None:
        pass


def child(script: str) -> list[str]:
    """A stand-in child: reads its config line, then runs ``script``."""
    return [sys.executable, "-c", f"import sys, time\nsys.stdin.readline()\n{script}"]


async def until_running(forwarding: ForwardingProcess, started: int = 1) -> None:
    """Until its ``started``-th child runs."""
    async with asyncio.timeout(20):
        while forwarding.started < started or forwarding.pid is None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(forwarding: ForwardingProcess) -> AsyncIterator[asyncio.Task[None]]:
    """``forwarding.run()`` for the block; then cancelled, as a stopping gateway does."""
    task = asyncio.create_task(forwarding.run())
    try:
        yield task
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def run_until(forwarding: ForwardingProcess, started: int) -> None:
    async with running(forwarding):
        await until_running(forwarding, started)


async def test_a_child_that_writes_garbage_is_replaced_after_its_good_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "RESTART_S", (0.05,))
    acks, meter = Acks(), Meter()
    script = f"print({GOOD.strip()!r}, flush=True)\nprint('not json', flush=True)\ntime.sleep(60)"
    forwarding = ForwardingProcess(GatewayConfig(), acks, {}, meter=meter, argv=child(script))
    await run_until(forwarding, started=2)
    assert acks.got[0] == UPDATE  # what came before the garbage was applied
    assert ("webhook", "ok", 1) in meter.outcomes
    assert forwarding.last_exit is not None  # the first child was ended


async def test_a_child_that_exits_is_restarted_and_the_exit_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "RESTART_S", (0.05,))
    forwarding = ForwardingProcess(GatewayConfig(), Acks(), {}, argv=child("sys.exit(3)"))
    await run_until(forwarding, started=3)
    assert forwarding.last_exit == 3
    assert forwarding.state()["started"] >= 3


async def test_a_child_that_cannot_start_does_not_end_the_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "RESTART_S", (0.01,))
    forwarding = ForwardingProcess(GatewayConfig(), Acks(), {}, argv=["/nonexistent/python"])
    async with running(forwarding) as task:
        await asyncio.sleep(0.2)
        assert not task.done()  # still trying, not crashed
        assert forwarding.pid is None


async def test_stopping_the_gateway_ends_a_child_that_ignores_its_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(process, "STOP_S", 0.2)
    forwarding = ForwardingProcess(GatewayConfig(), Acks(), {}, argv=child("time.sleep(60)"))
    async with running(forwarding):
        await until_running(forwarding)
        pid = forwarding.pid
    assert gone(pid)


def gone(pid: int | None) -> bool:
    """Reaped, or a zombie at most."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
