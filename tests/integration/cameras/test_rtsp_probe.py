"""Real probes in worker processes against a stock RTSP server and misbehaving ones."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.cameras.baseline import Baselines
from gateway.cameras.config import CamerasConfig, Thresholds
from gateway.cameras.faults import FaultKind, assess
from gateway.cameras.pool import ProcessProber
from gateway.cameras.probe import ProbeOutcome, ProbeReport, ProbeRequest
from gateway.cameras.scheduler import CameraMonitor
from tests.unit.cameras.fakes import RecordingSink, stop, wait_until

pytestmark = pytest.mark.integration


def request(url: str, **overrides: Any) -> ProbeRequest:
    settings: dict[str, Any] = {
        "url": url,
        "open_timeout_seconds": 3,
        "read_timeout_seconds": 3,
        "sample_frames": 6,
        "sample_seconds": 1.0,
        "analysis_width": 320,
        "snapshot_width": 320,
        "snapshot_quality": 70,
    }
    return ProbeRequest(**{**settings, **overrides})


def kinds(report: ProbeReport) -> set[FaultKind]:
    return {fault.kind for fault in assess(report, Baselines(), Thresholds(), 25.0).faults}


async def test_stock_server_healthy_black_and_missing(gst_rtsp: str) -> None:
    async with ProcessProber(3) as prober:
        ok, black, missing = await asyncio.gather(
            prober.probe(request(f"{gst_rtsp}/ok")),
            prober.probe(request(f"{gst_rtsp}/black")),
            prober.probe(request(f"{gst_rtsp}/no-such-stream")),
        )
    assert ok.outcome is ProbeOutcome.REACHABLE
    assert (ok.width, ok.height) == (640, 360)
    assert ok.measures is not None
    assert ok.measures.fps == pytest.approx(25, rel=0.2)
    assert ok.first_frame_seconds is not None
    assert ok.snapshot is not None
    assert ok.snapshot.startswith(b"\xff\xd8")
    assert kinds(ok) == set()

    assert black.outcome is ProbeOutcome.REACHABLE
    assert kinds(black) == {FaultKind.BLACK}

    assert (missing.outcome, missing.rtsp_status) == (ProbeOutcome.NOT_FOUND, 404)
    assert kinds(missing) == {FaultKind.NOT_FOUND}


async def test_hung_decoder_is_killed_and_its_slot_serves_on(
    gst_rtsp: str, stuck_camera: str
) -> None:
    restarts = REGISTRY.get_sample_value("gateway_camera_worker_restarts_total") or 0.0
    stuck = request(stuck_camera, open_timeout_seconds=30, read_timeout_seconds=30)
    async with ProcessProber(1) as prober:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(prober.probe(stuck), timeout=2)
        report = await prober.probe(request(f"{gst_rtsp}/ok"))
    assert report.outcome is ProbeOutcome.REACHABLE
    assert REGISTRY.get_sample_value("gateway_camera_worker_restarts_total") == restarts + 1


async def test_silent_camera_times_out_while_the_sweep_goes_on(
    gst_rtsp: str, silent_server: str, tmp_path: Path
) -> None:
    config = CamerasConfig.model_validate(
        {
            "interval_seconds": 600,
            "jitter": 0,
            "concurrency": 2,
            "open_timeout_seconds": 2,  # slack for a loaded CI machine
            "read_timeout_seconds": 5,
            "sample_seconds": 1,
            "probe_timeout_seconds": 20,
            "snapshot_dir": str(tmp_path),
            "facilities": [
                {
                    "id": "f1",
                    "cameras": [
                        {"id": "silent", "url": silent_server},
                        {"id": "live", "url": f"{gst_rtsp}/ok"},
                    ],
                }
            ],
        }
    )
    async with ProcessProber(config.concurrency) as prober:
        monitor = CameraMonitor(config, prober, RecordingSink(), rng=random.Random(3))
        task = asyncio.create_task(monitor.run())
        try:
            await wait_until(lambda: all(monitor.history(c) for c in ("silent", "live")), task)
        finally:
            await stop(task)
    silent, live = monitor.camera("silent"), monitor.camera("live")
    assert silent is not None
    assert live is not None
    assert silent.outcome is ProbeOutcome.TIMEOUT
    assert [f.kind for f in silent.faults] == [FaultKind.TIMEOUT]
    assert live.outcome is ProbeOutcome.REACHABLE
    assert live.faults == ()
    assert live.snapshot_url is not None
