"""A fake camera monitor for the wall: 216 facilities, one camera each, generated JPEGs."""

from __future__ import annotations

import functools
import random
import zlib
from typing import Any

import cv2
import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TOWNS = {
    "Changan": ["Dongcun", "Xicun", "Beicun", "Qiaotou"],
    "Puyan": ["Nancun", "Hexi", "Shangyuan"],
    "Xixing": ["Guanjia", "Lianhua"],
}
FAULTS = ["black", "frozen", "blurred", "occluded", "unreachable", "low_fps", "colour_cast"]


def camera_views(count: int = 216, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` cameras spread over the villages; about one in eight has a fault."""
    rng = random.Random(seed)
    villages = [(town, village) for town, names in TOWNS.items() for village in names]
    views = []
    for n in range(count):
        town, village = villages[n % len(villages)]
        state = rng.choices(["ok", "faulty", "suspect", "restored"], [80, 10, 6, 4])[0]
        faults = [{"kind": rng.choice(FAULTS)}] if state in ("faulty", "suspect") else []
        views.append({
            "id": f"cam{n + 1:03d}", "name": f"{village} care point {n // len(villages) + 1}",
            "facility": f"f{n + 1:03d}", "facility_name": f"{village} day centre",
            "region": ["Binjiang", town, village], "state": state, "faults": faults,
            "last_probe_at": 1_700_000_000.0 + n,
            "snapshot_url": f"/api/v1/cameras/cam{n + 1:03d}/snapshot.jpg" if n % 50 else None,
        })  # fmt: skip
    return views


class FakeCameras:
    """What the camera monitor offers the console."""

    def __init__(self, views: list[dict[str, Any]], now: float) -> None:
        self._views = [{**view, "last_probe_at": now - 5 - n % 55} for n, view in enumerate(views)]

    def views(self) -> list[dict[str, Any]]:
        return self._views

    def history(self, camera_id: str) -> list[dict[str, Any]] | None:
        view = next((v for v in self._views if v["id"] == camera_id), None)
        if view is None:
            return None
        at = view["last_probe_at"]
        return [
            {"at": at - 60 * k, "state": "ok" if k > 2 else view["state"],
             "faults": view["faults"] if k <= 2 else [],
             "measures": {"mean_luma": 110.0 - k, "sharpness": 240.0 + k, "fps": 25.0}}
            for k in range(8, -1, -1)
        ]  # fmt: skip


@functools.lru_cache(maxsize=512)
def snapshot_jpeg(camera_id: str, fault: str = "") -> bytes:
    """A 320x180 picture of a room: floor, wall, a window and a bed, varied per camera."""
    rng = np.random.default_rng(zlib.crc32(camera_id.encode()))
    img: Any = np.zeros((180, 320, 3), np.uint8)
    img[:110] = rng.integers(120, 200, 3)
    img[110:] = rng.integers(60, 120, 3)
    x = int(rng.integers(20, 200))
    cv2.rectangle(img, (x, 20), (x + 80, 80), (235, 225, 200), -1)
    cv2.rectangle(img, (40, 120), (190, 160), tuple(int(c) for c in rng.integers(40, 220, 3)), -1)
    cv2.putText(img, camera_id, (8, 172), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    if fault == "black":
        img[:] = 4
    elif fault == "blurred":
        img = cv2.GaussianBlur(img, (31, 31), 12)
    elif fault == "occluded":
        img[:] = (img // 6).astype(np.uint8)
    elif fault == "colour_cast":
        img[:, :, 2] = 255
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return bytes(jpeg.tobytes())


def snapshot_route(cameras: FakeCameras) -> Route:
    """``/api/v1/cameras/{id}/snapshot.jpg`` as the monitor will serve it."""
    faults = {v["id"]: (v["faults"][0]["kind"] if v["faults"] else "") for v in cameras.views()}

    async def snapshot(request: Request) -> Response:
        camera_id = request.path_params["camera_id"]
        if camera_id not in faults:
            return Response(status_code=404)
        return Response(snapshot_jpeg(camera_id, faults[camera_id]), media_type="image/jpeg")

    return Route("/api/v1/cameras/{camera_id}/snapshot.jpg", snapshot)
