"""ProcessProber: hung workers are killed and replaced, broken ones reported, all stopped."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from gateway.cameras.pool import ProcessProber
from gateway.cameras.probe import ProbeError, ProbeOutcome, ProbeRequest

pytestmark = pytest.mark.integration

FAKE_WORKER = (sys.executable, str(Path(__file__).with_name("fake_worker.py")))


def request(url: str) -> ProbeRequest:
    return ProbeRequest(
        url=url,
        open_timeout_seconds=1,
        read_timeout_seconds=1,
        sample_frames=2,
        sample_seconds=0.5,
        analysis_width=64,
        snapshot_width=64,
        snapshot_quality=50,
    )


def restarts() -> float:
    return REGISTRY.get_sample_value("gateway_camera_worker_restarts_total") or 0.0


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_worker_is_reused_between_probes() -> None:
    async with ProcessProber(1, FAKE_WORKER) as prober:
        first = await prober.probe(request("rtsp://cam/a"))
        second = await prober.probe(request("rtsp://cam/b"))
    assert first.outcome is ProbeOutcome.REACHABLE
    assert first.detail == second.detail
    assert gone(int(first.detail))


async def test_hung_worker_is_killed_and_replaced() -> None:
    before = restarts()
    async with ProcessProber(1, FAKE_WORKER) as prober:
        first = await prober.probe(request("rtsp://cam/a"))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await prober.probe(request("rtsp://cam/hang"))
        after = await prober.probe(request("rtsp://cam/a"))
    assert first.detail != after.detail
    assert gone(int(first.detail))
    assert restarts() == before + 1


async def test_other_workers_carry_on_while_one_hangs() -> None:
    async with ProcessProber(2, FAKE_WORKER) as prober:
        hung = asyncio.create_task(prober.probe(request("rtsp://cam/hang")))
        async with asyncio.timeout(5):
            for name in "abc":
                report = await prober.probe(request(f"rtsp://cam/{name}"))
                assert report.outcome is ProbeOutcome.REACHABLE
        hung.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hung


@pytest.mark.parametrize("url", ["rtsp://cam/crash", "rtsp://cam/garbage"])
async def test_broken_worker_is_a_probe_error(url: str) -> None:
    async with ProcessProber(1, FAKE_WORKER) as prober:
        with pytest.raises(ProbeError):
            await prober.probe(request(url))
        report = await prober.probe(request("rtsp://cam/a"))
    assert report.outcome is ProbeOutcome.REACHABLE


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProcessProber(0)
