from __future__ import annotations

import json
from typing import Any

import pytest

from device_sim.cameras.camera import CameraInfo
from device_sim.cameras.control import route
from device_sim.cameras.faults import Fault


def _row(camera_id: str, fault: Fault = Fault.NONE) -> CameraInfo:
    return CameraInfo(
        camera_id=camera_id,
        facility_id="fac-001",
        url="rtsp://127.0.0.1:1/stream",
        host="127.0.0.1",
        port=1,
        path="/stream",
        username="admin",
        password="pw",
        fault=fault,
        scene=0,
    )


class FakeFarm:
    def __init__(self) -> None:
        self.rows = {"cam-001": _row("cam-001")}
        self.fail = False

    def cameras(self) -> list[CameraInfo]:
        return list(self.rows.values())

    def manifest(self) -> dict[str, Any]:
        return {"cameras": [row.to_json() for row in self.rows.values()]}

    async def set_fault(self, camera_id: str, fault: Fault) -> CameraInfo:
        if self.fail:
            raise RuntimeError("port taken")
        self.rows[camera_id] = _row(camera_id, fault)
        return self.rows[camera_id]


async def test_list_cameras() -> None:
    status, body = await route(FakeFarm(), "GET", "/cameras", b"")
    assert status == 200
    assert body["cameras"][0]["id"] == "cam-001"
    json.dumps(body)


async def test_set_and_clear_fault() -> None:
    farm = FakeFarm()
    status, body = await route(farm, "POST", "/cameras/cam-001/fault", b'{"fault": "frozen"}')
    assert (status, body["fault"]) == (200, "frozen")
    status, body = await route(farm, "DELETE", "/cameras/cam-001/fault", b"")
    assert (status, body["fault"]) == (200, "none")


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/cameras/cam-001/fault", b'{"fault": "melted"}', 400),
        ("POST", "/cameras/cam-001/fault", b"not json", 400),
        ("POST", "/cameras/cam-001/fault", b'["frozen"]', 400),
        ("POST", "/cameras/cam-404/fault", b'{"fault": "black"}', 404),
        ("GET", "/nowhere", b"", 404),
        ("PATCH", "/cameras/cam-001", b"", 405),
        ("GET", "/cameras/cam-001", b"", 200),
        ("GET", "/faults", b"", 200),
        ("GET", "/manifest", b"", 200),
    ],
)
async def test_routes(method: str, path: str, body: bytes, status: int) -> None:
    assert (await route(FakeFarm(), method, path, body))[0] == status


async def test_failure_to_apply_is_500() -> None:
    farm = FakeFarm()
    farm.fail = True
    status, body = await route(farm, "POST", "/cameras/cam-001/fault", b'{"fault": "refused"}')
    assert status == 500
    assert "port taken" in body["error"]
