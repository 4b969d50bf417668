"""The simulated camera farm's fault matrix: inject each fault, the probe names it.

The farm runs as its own process and is met only over RTSP and its HTTP control
endpoint, as real cameras would be.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cameras.config import CamerasConfig
from gateway.cameras.faults import FaultKind
from gateway.cameras.pool import ProcessProber
from gateway.cameras.scheduler import CameraMonitor
from tests.unit.cameras.fakes import RecordingSink

pytestmark = pytest.mark.integration

EXPECTED: dict[str, set[FaultKind]] = {
    "none": set(),
    "offline": {FaultKind.TIMEOUT, FaultKind.UNREACHABLE},
    "refused": {FaultKind.UNREACHABLE},
    "unauthorized": {FaultKind.AUTH_FAILED},
    "not_found": {FaultKind.NOT_FOUND},
    "stall": {FaultKind.NO_SIGNAL},
    "frozen": {FaultKind.FROZEN},
    "black": {FaultKind.BLACK},
    "overexposed": {FaultKind.OVEREXPOSED},
    "blurred": {FaultKind.BLURRED},
    "occluded": {FaultKind.OCCLUDED},
    "snow": {FaultKind.NOISY},
    "color_cast": {FaultKind.COLOUR_CAST},
    "moved": {FaultKind.SCENE_CHANGED},
    "low_fps": {FaultKind.LOW_FPS},
}


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A running farm of healthy cameras, one per fault; yields its manifest."""
    manifest = tmp_path / "farm.json"
    command = [
        sys.executable, "-m", "device_sim", "cameras",
        "--count", str(len(EXPECTED)), "--base-port", "0", "--control-port", "0",
        "--manifest", str(manifest), "--cache-dir", str(tmp_path / "clips"),
        "--stall-after", "0.3",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not manifest.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the camera farm did not start")
            time.sleep(0.1)
        yield json.loads(manifest.read_text())
    finally:
        process.kill()
        process.wait()


def monitor_config(farm: dict[str, Any], secrets: Path) -> CamerasConfig:
    cameras = []
    for row in farm["cameras"]:
        password = secrets / f"{row['id']}.pw"
        password.write_text(row["password"])
        cameras.append(
            {"id": row["id"], "url": row["url"], "username": row["username"],
             "password_file": str(password)}
        )  # fmt: skip
    return CamerasConfig.model_validate(
        {
            "concurrency": 8,
            "open_timeout_seconds": 2,
            "read_timeout_seconds": 2,
            "sample_seconds": 1.0,
            "sample_frames": 4,
            "probe_timeout_seconds": 12,
            "baseline_probes": 1,
            # The farm's scenes are daylight whatever the hour: outside the daylight
            # hours a dark live picture is "too dark", not black (by design).
            "daylight_hours": "00:00-24:00",
            "snapshot_dir": str(secrets / "snapshots"),
            "facilities": [{"id": "farm", "cameras": cameras}],
        }
    )


async def test_each_injected_fault_is_detected(farm: dict[str, Any], tmp_path: Path) -> None:
    config = monitor_config(farm, tmp_path)
    ids = [row["id"] for row in farm["cameras"]]
    async with ProcessProber(config.concurrency) as prober:
        monitor = CameraMonitor(config, prober, RecordingSink())
        await asyncio.gather(*(monitor.probe_now(camera_id) for camera_id in ids))
        assert all(view.baseline_learned for view in monitor.cameras()), [
            (v.camera_id, v.faults) for v in monitor.cameras()
        ]
        async with httpx.AsyncClient(base_url=farm["control_url"]) as control:
            for camera_id, fault in zip(ids, EXPECTED, strict=True):
                response = await control.post(f"/cameras/{camera_id}/fault", json={"fault": fault})
                response.raise_for_status()
        views = await asyncio.gather(*(monitor.probe_now(camera_id) for camera_id in ids))
    found = {
        fault: {f.kind for f in view.faults}
        for fault, view in zip(EXPECTED, views, strict=True)
        if view is not None
    }
    missed = {
        fault: found[fault]
        for fault, kinds in EXPECTED.items()
        if (kinds and not kinds & found[fault]) or (not kinds and found[fault])
    }
    assert missed == {}
