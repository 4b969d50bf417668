"""The camera wall: every facility camera's latest picture and health, by region."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.console import camera_views as cv
from gateway.console.context import Console
from gateway.console.sessions import Login
from gateway.http.auth import in_scope


def _monitor(console: Console) -> cv.CameraViews:
    if console.cameras is None:
        raise HTTPException(404, "cameras.none")
    return console.cameras


async def wall(console: Console, request: Request, login: Login) -> Response:
    visible = cv.in_region(_monitor(console).views(), login.region)
    query = request.query_params
    chosen = {key: query.get(key, "") for key in ("fault", "state", "region")}
    shown = cv.sort_for_wall(cv.select(visible, **chosen))
    return console.render(
        request, "cameras.html", login, cameras=shown, summary=cv.summary(visible),
        chosen=chosen, fault_kinds=cv.fault_kinds, snapshot_url=cv.snapshot_url,
        now=console.clock(),
    )  # fmt: skip


async def history(console: Console, request: Request, login: Login) -> Response:
    camera_id = request.path_params["camera_id"]
    monitor = _monitor(console)
    view = next((v for v in monitor.views() if v.get("id") == camera_id), None)
    if view is None or not in_scope(login.region, cv.region_of(view)):
        raise HTTPException(404, "error.not_found")
    probes = list(reversed(monitor.history(camera_id) or ()))
    return console.render(
        request, "camera.html", login, camera=view, probes=probes, fault_kinds=cv.fault_kinds,
        snapshot_url=cv.snapshot_url, now=console.clock(),
    )  # fmt: skip
