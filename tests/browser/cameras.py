"""A fake camera monitor for the wall: 216 facilities, one camera each, generated JPEGs.

Faulty cameras carry when each fault began, an open incident, and both pictures: the
current frame (showing the fault) and the last good one.
"""

from __future__ import annotations

import functools
import random
import time
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
MODES = ["day", "day", "night", "ir"]
PICTURELESS = {"unreachable"}  # no frame decoded: no current picture


def camera_views(count: int = 216, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` cameras spread over the villages; about one in eight has a fault."""
    rng = random.Random(seed)
    villages = [(town, village) for town, names in TOWNS.items() for village in names]
    views = []
    for n in range(count):
        town, village = villages[n % len(villages)]
        state = rng.choices(["ok", "faulty", "suspect", "restored"], [80, 10, 6, 4])[0]
        kind = rng.choice(FAULTS)
        faults = [{"kind": kind}] if state in ("faulty", "suspect") else []
        camera_id = f"cam{n + 1:03d}"
        live = bool(faults) and kind not in PICTURELESS
        views.append({
            "id": camera_id, "name": f"{village} care point {n // len(villages) + 1}",
            "facility": f"f{n + 1:03d}", "facility_name": f"{village} day centre",
            "region": ["Binjiang", town, village], "state": state, "faults": faults,
            "notices": [], "mode": rng.choice(MODES), "last_probe_at": 1_700_000_000.0 + n,
            "incident": {"started_at": 0.0, "acknowledged": None} if state == "faulty" else None,
            "snooze": None,
            "snapshot_url": f"/api/v1/cameras/{camera_id}/snapshot.jpg" if n % 50 else None,
            "current_url": f"/api/v1/cameras/{camera_id}/current.jpg" if live else None,
        })  # fmt: skip
    return views


class FakeCameras:
    """What the camera monitor offers the console: views, history and actions."""

    def __init__(self, views: list[dict[str, Any]], now: float) -> None:
        self._views = [_at(view, now - 5 - n % 55, now, n) for n, view in enumerate(views)]
        self.acknowledged: list[tuple[str, str, str]] = []

    def views(self) -> list[dict[str, Any]]:
        return self._views

    async def acknowledge(self, camera_id: str, by: str, reason: str) -> bool | None:
        view = next((v for v in self._views if v["id"] == camera_id), None)
        if view is None:
            return None
        if view["incident"] is None:
            return False
        view["incident"] = {
            **view["incident"],
            "acknowledged": {"by": by, "at": time.time(), "reason": reason},
        }
        self.acknowledged.append((camera_id, by, reason))
        return True

    async def snooze(self, camera_id: str, by: str, reason: str, seconds: float) -> bool:
        view = next((v for v in self._views if v["id"] == camera_id), None)
        if view is None:
            return False
        now = time.time()
        view["snooze"] = (
            {"by": by, "at": now, "until": now + seconds, "reason": reason} if seconds else None
        )
        return True

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


def _at(view: dict[str, Any], probed: float, now: float, n: int) -> dict[str, Any]:
    """The view as of ``now``: a faulty camera's fault began a while before."""
    began = now - 600 - 97 * (n % 40)
    faults = [{**fault, "since": began} for fault in view["faults"]]
    incident = view["incident"] and {**view["incident"], "started_at": began}
    timed = {"snapshot_at": began - 60 if faults else probed, "current_at": probed}
    return {**view, "last_probe_at": probed, "faults": faults, "incident": incident, **timed}


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
        cv2.ellipse(img, (110, 110), (200, 150), 20, 0, 360, (38, 36, 34), -1)
        img = cv2.GaussianBlur(img, (0, 0), 6)
    elif fault == "colour_cast":
        img[:, :, 2] = 255
    elif fault == "frozen":
        cv2.putText(img, "||", (280, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    elif fault == "low_fps":
        img = cv2.addWeighted(img, 0.6, np.roll(img, 25, axis=1), 0.4, 0)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return bytes(jpeg.tobytes())


def snapshot_route(cameras: FakeCameras) -> Route:
    """``/api/v1/cameras/{id}/snapshot.jpg`` (the last good picture) and ``current.jpg``
    (the latest one, showing the fault) as the monitor serves them."""
    faults = {v["id"]: (v["faults"][0]["kind"] if v["faults"] else "") for v in cameras.views()}

    async def picture(request: Request) -> Response:
        camera_id, name = request.path_params["camera_id"], request.path_params["picture"]
        if camera_id not in faults or name not in ("snapshot.jpg", "current.jpg"):
            return Response(status_code=404)
        fault = faults[camera_id] if name == "current.jpg" else ""
        return Response(snapshot_jpeg(camera_id, fault), media_type="image/jpeg")

    return Route("/api/v1/cameras/{camera_id}/{picture}", picture)
