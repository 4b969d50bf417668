"""The camera API: list with filters, one camera, history, snapshot, region scoping."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from gateway.cameras.config import CamerasConfig
from gateway.cameras.routes import camera_routes
from gateway.cameras.scheduler import CameraMonitor
from tests.unit.cameras.fakes import BLACK, GOOD, FakeProber, RecordingSink, url


def only_header_region(request: Request, region: tuple[str, ...]) -> bool:
    """Test policy: ``X-Region: A/B`` sees cameras under A/B; no header sees all."""
    scope = tuple(p for p in request.headers.get("x-region", "").split("/") if p)
    return region[: len(scope)] == scope


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = CamerasConfig.model_validate(
        {
            "snapshot_dir": str(tmp_path),
            "facilities": [
                {
                    "id": "north",
                    "name": "North Home",
                    "region": ["District", "Northtown", "Elm"],
                    "cameras": [{"id": "n1", "url": url("n1")}, {"id": "n2", "url": url("n2")}],
                },
                {
                    "id": "south",
                    "region": ["District", "Southtown", "Oak"],
                    "cameras": [{"id": "s1", "url": url("s1")}],
                },
            ],
        }
    )
    prober = FakeProber({url("n1"): GOOD, url("n2"): BLACK, url("s1"): GOOD})
    monitor = CameraMonitor(config, prober, RecordingSink(), rng=random.Random(1))
    for camera_id in ("n1", "n2"):
        await monitor.probe_now(camera_id)
    app = Starlette(routes=camera_routes(monitor, only_header_region))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield http


async def test_list_all(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/cameras")
    assert response.status_code == 200
    cameras = response.json()["cameras"]
    assert [c["id"] for c in cameras] == ["n1", "n2", "s1"]
    n1, n2, s1 = cameras
    assert n1["state"] == "ok"
    assert n1["snapshot_url"] == "/api/v1/cameras/n1/snapshot.jpg"
    assert n1["region"] == ["District", "Northtown", "Elm"]
    assert n1["facility"] == {"id": "north", "name": "North Home"}
    assert n2["state"] == "suspect"
    assert n2["faults"][0]["kind"] == "black"
    assert n2["snapshot_url"] is None
    assert s1["state"] == "unknown"
    assert s1["last_probe_at"] is None


async def test_filter_by_fault_and_region(client: httpx.AsyncClient) -> None:
    black = await client.get("/api/v1/cameras", params={"fault": "black"})
    assert [c["id"] for c in black.json()["cameras"]] == ["n2"]
    south = await client.get("/api/v1/cameras", params={"region": "District/Southtown"})
    assert [c["id"] for c in south.json()["cameras"]] == ["s1"]
    bad = await client.get("/api/v1/cameras", params={"fault": "sparkly"})
    assert bad.status_code == 400
    assert "sparkly" in bad.json()["error"]


async def test_region_scope_hides_other_cameras(client: httpx.AsyncClient) -> None:
    scoped = {"x-region": "District/Southtown"}
    listed = await client.get("/api/v1/cameras", headers=scoped)
    assert [c["id"] for c in listed.json()["cameras"]] == ["s1"]
    for path in ("", "/history", "/snapshot.jpg"):
        response = await client.get(f"/api/v1/cameras/n1{path}", headers=scoped)
        assert response.status_code == 404


async def test_one_camera_and_history(client: httpx.AsyncClient) -> None:
    one = await client.get("/api/v1/cameras/n2")
    assert one.json()["id"] == "n2"
    history = await client.get("/api/v1/cameras/n2/history")
    probes = history.json()["probes"]
    assert len(probes) == 1
    assert probes[0]["outcome"] == "reachable"
    assert probes[0]["faults"][0]["kind"] == "black"
    assert (await client.get("/api/v1/cameras/zz")).status_code == 404
    assert (await client.get("/api/v1/cameras/zz/history")).status_code == 404


async def test_snapshot(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/cameras/n1/snapshot.jpg")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == GOOD.snapshot
    missing = await client.get("/api/v1/cameras/n2/snapshot.jpg")
    assert missing.status_code == 404
