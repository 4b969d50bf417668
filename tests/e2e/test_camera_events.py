"""End-to-end: a fault injected in a simulated camera becomes a command-center event,
and a change of fault kind during the incident is forwarded too."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from device_sim.procs import ManagedProcess
from tests.browser.harness import chromium, new_page, sign_in
from tests.support.district import district
from tests.support.gateway import ADMIN_PASSWORD
from tests.support.site import Site
from tests.support.wait import until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Injected fault -> fault kinds the gateway may report for it.
FAULTS: dict[str, set[str]] = {
    "offline": {"timeout", "unreachable"},
    "refused": {"unreachable"},
    "unauthorized": {"auth_failed"},
    "not_found": {"not_found"},
    "stall": {"no_signal"},
    "frozen": {"frozen"},
    "black": {"black"},
    "overexposed": {"overexposed"},
    "blurred": {"blurred"},
    "occluded": {"occluded"},
    "snow": {"noisy"},
    "color_cast": {"colour_cast"},
    "moved": {"scene_changed"},
    "low_fps": {"low_fps"},
}
HEALTHY = 2  # cameras left alone: they must raise nothing
# Side effects a fault legitimately brings along (stall: nothing decodes, so no picture).
EXPLAINED: dict[str, set[str]] = {
    "stall": {"low_fps", "frozen"},
    "low_fps": {"frozen"},
    "offline": {"no_signal"},
}


@contextmanager
def camera_farm(tmp_path: Path, count: int) -> Iterator[dict[str, Any]]:
    """``count`` simulated cameras, two per facility; yields the farm's manifest."""
    manifest = tmp_path / "farm.json"
    argv = [
        sys.executable, "-m", "device_sim", "cameras", "--count", str(count),
        "--per-facility", "2", "--base-port", "0", "--control-port", "0",
        "--manifest", str(manifest), "--cache-dir", str(tmp_path / "clips"),
        "--stall-after", "0.3",
    ]  # fmt: skip
    with ManagedProcess(argv, tmp_path / "farm.log") as proc:
        deadline = time.monotonic() + 90
        while not manifest.exists():
            assert proc.running, proc.tail()
            assert time.monotonic() < deadline, "the camera farm did not start"
            time.sleep(0.1)
        yield json.loads(manifest.read_text())


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with camera_farm(tmp_path, len(FAULTS) + HEALTHY) as manifest:
        yield manifest


def cameras_section(farm: dict[str, Any], root: Path, restore_count: int = 1) -> dict[str, object]:
    facilities: dict[str, dict[str, Any]] = {}
    for row in farm["cameras"]:
        secret = root / f"{row['id']}.pw"
        secret.write_text(row["password"])
        facility = facilities.setdefault(
            row["facility"],
            {"id": row["facility"], "name": f"养老院 {row['facility']}",
             "region": ["示范区", "城关街道", "幸福社区1"], "cameras": []},
        )  # fmt: skip
        facility["cameras"].append(
            {"id": row["id"], "url": row["url"], "username": row["username"],
             "password_file": str(secret)}
        )  # fmt: skip
    return {
        "enabled": True, "interval_seconds": 2, "concurrency": 6, "jitter": 0.5,
        "open_timeout_seconds": 2, "read_timeout_seconds": 2, "sample_seconds": 1.0,
        "sample_frames": 4, "probe_timeout_seconds": 12, "baseline_probes": 1,
        "snapshot_dir": str(root / "cameras"),
        "daylight_hours": "00:00-24:00",  # the farm's scenes are daylight, whatever the hour
        "health": {"confirm_window": 2, "confirm_count": 2, "min_fault_seconds": 0,
                   "restore_count": restore_count, "restore_hold_seconds": 0},
        "facilities": list(facilities.values()),
    }  # fmt: skip


async def test_each_fault_reaches_the_command_center(
    site: Site, broker: ManagedProcess, farm: dict[str, Any]
) -> None:
    section = cameras_section(farm, site.root)
    async with district(site, terminals=1, cameras=section) as d:
        gateway = d.gateway
        assert gateway is not None
        monitor = gateway.cameras
        assert monitor is not None
        async with asyncio.timeout(90):
            await until(lambda: all(v.baseline_learned for v in monitor.cameras()), 0.2)
        ids = [row["id"] for row in farm["cameras"]]
        faulty = dict(zip(ids, FAULTS, strict=False))
        async with httpx.AsyncClient(base_url=farm["control_url"]) as control:
            for camera_id, fault in faulty.items():
                reply = await control.post(f"/cameras/{camera_id}/fault", json={"fault": fault})
                reply.raise_for_status()

        def reported() -> dict[str, set[str]]:
            found: dict[str, set[str]] = {}
            for event in d.center.events:
                if event.type == "camera.fault":
                    kinds = {f["kind"] for f in event.data.get("faults", [])}
                    camera_id = event.source.removeprefix("camera:")
                    found.setdefault(camera_id, set()).update(kinds)
            return found

        async with asyncio.timeout(120):
            await d.center.wait_for(lambda _: set(faulty) <= set(reported()))
        found = reported()
        for camera_id, fault in faulty.items():
            # The injected fault is reported, and nothing it does not explain.
            assert FAULTS[fault] & found[camera_id], (fault, found[camera_id])
            assert found[camera_id] <= FAULTS[fault] | EXPLAINED.get(fault, set()), (
                fault,
                found[camera_id],
            )
        for camera_id in ids[len(FAULTS) :]:
            assert camera_id not in found  # healthy cameras page nobody
        events = [e for e in d.center.events if e.type == "camera.fault"]
        assert all(e.region == ["示范区", "城关街道", "幸福社区1"] for e in events)
        assert len(events) == len({e.source for e in events})  # one incident each
        await _wall_shows(f"http://127.0.0.1:{gateway.http_port}", set(faulty), ids)


async def test_a_change_of_fault_kind_reaches_the_command_center(
    site: Site, broker: ManagedProcess, tmp_path: Path
) -> None:
    with camera_farm(tmp_path, 2) as small:
        # A probe that samples the switch from frozen to black can see frames that are
        # neither: with one healthy probe enough to restore, that closed the incident
        # (fault → restored → a new fault) instead of changing its kind, now and then on
        # a loaded machine. Three in a row make such a probe the silent relapse it is.
        section = cameras_section(small, site.root, restore_count=3)
        async with district(site, terminals=1, cameras=section) as d:
            monitor = d.gateway.cameras if d.gateway else None
            assert monitor is not None
            async with asyncio.timeout(90):
                await until(lambda: all(v.baseline_learned for v in monitor.cameras()), 0.2)
            camera_id = small["cameras"][0]["id"]
            async with httpx.AsyncClient(base_url=small["control_url"]) as control:

                async def show(fault: str) -> None:
                    reply = await control.post(f"/cameras/{camera_id}/fault", json={"fault": fault})
                    reply.raise_for_status()

                def of(kind: str) -> list[Any]:
                    return [e for e in d.center.events if e.type == kind]

                await show("frozen")
                async with asyncio.timeout(60):
                    await d.center.wait_for(lambda _: bool(of("camera.fault")))
                await show("black")
                try:
                    async with asyncio.timeout(60):
                        await d.center.wait_for(lambda _: bool(of("camera.fault_changed")))
                except TimeoutError:  # say what the monitor saw, for the next look
                    [view] = [v for v in monitor.cameras() if v.camera_id == camera_id]
                    seen = [(e.type, e.data.get("kinds")) for e in d.center.events]
                    raise AssertionError(
                        f"no fault_changed in 60 s: camera {view.phase}, faults"
                        f" {[f.kind for f in view.faults]}, outcome {view.outcome},"
                        f" incident {view.incident}; the center got {seen}"
                    ) from None
        [fault], [changed] = of("camera.fault"), of("camera.fault_changed")
        assert {f["kind"] for f in fault.data["faults"]} == {"frozen"}
        assert changed.data["previous_kinds"] == ["frozen"]
        assert changed.data["kinds"] == ["black"]
        assert changed.source == f"camera:{camera_id}"
        assert changed.region == ["示范区", "城关街道", "幸福社区1"]
        assert changed.event_id.startswith(fault.event_id.removesuffix(":fault"))


async def _wall_shows(url: str, faulty: set[str], ids: list[str]) -> None:
    """The operators' camera wall shows the faulty cameras as faulty, the others not."""
    async with chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{url}/console/cameras")
        await expect(page.locator("li.cam")).to_have_count(len(ids))
        for camera_id in ids:
            card = page.locator(f"li.cam[data-camera='{camera_id}']")
            state = "faulty" if camera_id in faulty else "ok"
            await expect(card).to_have_class(re.compile(rf"state-{state}"))
