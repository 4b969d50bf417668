"""A healthy dark scene with a small bright area, from a stock RTSP server, is healthy."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gateway.cameras.config import CamerasConfig
from gateway.cameras.health import Phase
from gateway.cameras.pool import ProcessProber
from gateway.cameras.scheduler import CameraMonitor
from tests.unit.cameras.fakes import RecordingSink

pytestmark = pytest.mark.integration


async def test_ball_on_black_is_healthy_and_learns_its_baseline(
    gst_rtsp: str, tmp_path: Path
) -> None:
    config = CamerasConfig.model_validate(
        {
            "interval_seconds": 600,
            "open_timeout_seconds": 5,
            "read_timeout_seconds": 5,
            "baseline_probes": 2,
            "snapshot_dir": str(tmp_path),
            "health": {"min_fault_seconds": 0, "confirm_window": 2, "confirm_count": 1},
            "facilities": [
                {"id": "f1", "cameras": [{"id": "corridor", "url": f"{gst_rtsp}/ball"}]}
            ],
        }
    )
    sink = RecordingSink()
    async with ProcessProber(1) as prober:
        monitor = CameraMonitor(config, prober, sink, rng=random.Random(5))
        views = [await monitor.probe_now("corridor") for _ in range(3)]
    for view in views:
        assert view is not None
        assert view.faults == (), view.measures
        assert view.phase is Phase.OK
        assert view.mode == "night"
        assert view.measures["mean_luma"] is not None
        assert view.measures["mean_luma"] < 24  # dark, and yet not black
    last = views[-1]
    assert last is not None
    assert last.baseline_learned
    assert last.baseline_modes == ("night",)
    assert last.stream["fps"] == pytest.approx(5.0, rel=0.05)
    assert sink.events == []
