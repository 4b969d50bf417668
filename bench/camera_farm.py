"""The simulated cameras of the camera bench, and the monitor configuration that watches them.

The farm runs as its own process (``python -m device_sim cameras``) and is met only over
RTSP and its HTTP control endpoint on loopback, as real cameras would be.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from device_sim.procs import ManagedProcess
from gateway.cameras.config import CamerasConfig

CLIP_CACHE = Path(__file__).resolve().parents[1] / "var" / "cache" / "cameras"
PER_FACILITY = 8
STALL_AFTER_SECONDS = 0.3  # a 'stall' camera goes quiet within the probe's stream analysis
START_SECONDS = 180.0  # the first start encodes the healthy clips
DAYLIGHT = "00:00-24:00"  # the farm's scenes are lit by day whatever the clock says


@dataclass(frozen=True, slots=True)
class Farm:
    """A running farm: its process id and its manifest (control URL, camera rows)."""

    pid: int
    control_url: str
    cameras: tuple[dict[str, Any], ...]

    def camera_ids(self) -> list[str]:
        """Every camera id, in order."""
        return [row["id"] for row in self.cameras]


@contextmanager
def camera_farm(count: int, workdir: Path) -> Iterator[Farm]:
    """``count`` simulated cameras on loopback; the process stops with the context."""
    manifest = workdir / "farm.json"
    argv = [
        sys.executable, "-m", "device_sim", "cameras", "--count", str(count),
        "--per-facility", str(PER_FACILITY), "--base-port", "0", "--control-port", "0",
        "--host", "127.0.0.1", "--manifest", str(manifest), "--cache-dir", str(CLIP_CACHE),
        "--stall-after", str(STALL_AFTER_SECONDS),
    ]  # fmt: skip
    with ManagedProcess(argv, workdir / "farm.log") as process:
        deadline = time.monotonic() + START_SECONDS
        while not manifest.exists():
            if not process.running:
                raise RuntimeError(f"the camera farm exited:\n{process.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the camera farm did not start in {START_SECONDS:g} s")
            time.sleep(0.1)
        data = json.loads(manifest.read_text())
        assert process.proc is not None  # started by the context
        yield Farm(process.proc.pid, data["control_url"], tuple(data["cameras"]))


def monitor_config(farm: Farm, workdir: Path, concurrency: int) -> CamerasConfig:
    """The monitor's defaults for every farm camera, at ``concurrency``; passwords in files."""
    secrets = workdir / "secrets"
    secrets.mkdir(exist_ok=True)
    facilities: dict[str, dict[str, Any]] = {}
    for row in farm.cameras:
        password = secrets / f"{row['id']}.pw"
        password.write_text(row["password"])
        password.chmod(0o600)
        facility = facilities.setdefault(row["facility"], {"id": row["facility"], "cameras": []})
        facility["cameras"].append(
            {"id": row["id"], "url": row["url"], "username": row["username"],
             "password_file": str(password)}
        )  # fmt: skip
    return CamerasConfig.model_validate(
        {
            "concurrency": concurrency,
            "snapshot_dir": str(workdir / "snapshots"),
            "daylight_hours": DAYLIGHT,
            "facilities": list(facilities.values()),
        }
    )


def stream_logins(farm: Farm, camera_ids: list[str]) -> list[dict[str, str]]:
    """URL and login of the given cameras, for the decoding baseline."""
    rows = {row["id"]: row for row in farm.cameras}
    return [
        {"url": rows[i]["url"], "username": rows[i]["username"], "password": rows[i]["password"]}
        for i in camera_ids
    ]


async def inject(control_url: str, faults: Mapping[str, str]) -> None:
    """Set each camera's fault through the control endpoint (the caller bounds the time;
    a fault shown for the first time makes the farm encode its clip first)."""
    async with httpx.AsyncClient(base_url=control_url, timeout=None) as control:
        for camera_id, fault in faults.items():
            reply = await control.post(f"/cameras/{camera_id}/fault", json={"fault": fault})
            reply.raise_for_status()
