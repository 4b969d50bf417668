"""HTTP API of the camera health monitor (Starlette routes).

``allowed(request, region)`` decides whether the caller may see a camera of that region
path; a camera it may not see answers 404, exactly like an unknown one.

- ``GET /api/v1/cameras?fault=blurred&region=District/Town``: cameras, filtered by a
  current fault kind and by a region prefix (names joined with ``/``)
- ``GET /api/v1/cameras/{id}``: one camera
- ``GET /api/v1/cameras/{id}/history``: its recent probes, oldest first
- ``GET /api/v1/cameras/{id}/snapshot.jpg``: its latest good frame
- ``GET /api/v1/cameras/{id}/current.jpg``: the frame of its latest probe, fault or not
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.cameras.faults import FaultKind
from gateway.cameras.scheduler import CameraMonitor
from gateway.cameras.views import CameraView

Allowed = Callable[[Request, tuple[str, ...]], bool]


def camera_routes(monitor: CameraMonitor, allowed: Allowed) -> list[Route]:
    """The routes, bound to ``monitor`` and guarded by ``allowed``."""

    def visible(request: Request) -> CameraView | None:
        view = monitor.camera(request.path_params["camera_id"])
        return view if view is not None and allowed(request, view.region) else None

    async def list_cameras(request: Request) -> Response:
        fault_name = request.query_params.get("fault")
        if fault_name is not None and fault_name not in FaultKind.__members__.values():
            return _error(400, f"unknown fault kind {fault_name!r}")
        prefix = tuple(p for p in request.query_params.get("region", "").split("/") if p)
        views = [
            view
            for view in monitor.cameras()
            if allowed(request, view.region)
            and view.region[: len(prefix)] == prefix
            and (fault_name is None or any(f.kind == fault_name for f in view.faults))
        ]
        return JSONResponse({"cameras": [view.to_json() for view in views]})

    async def get_camera(request: Request) -> Response:
        view = visible(request)
        return _not_found() if view is None else JSONResponse(view.to_json())

    async def get_history(request: Request) -> Response:
        view = visible(request)
        entries = None if view is None else monitor.history(view.camera_id)
        if view is None or entries is None:
            return _not_found()
        return JSONResponse({"id": view.camera_id, "probes": [e.to_json() for e in entries]})

    async def get_snapshot(request: Request) -> Response:
        view = visible(request)
        jpeg = None if view is None else await asyncio.to_thread(monitor.snapshot, view.camera_id)
        return _jpeg(jpeg)

    async def get_current(request: Request) -> Response:
        view = visible(request)
        jpeg = None if view is None else await asyncio.to_thread(monitor.current, view.camera_id)
        return _jpeg(jpeg)

    return [
        Route("/api/v1/cameras", list_cameras, methods=["GET"]),
        Route("/api/v1/cameras/{camera_id}", get_camera, methods=["GET"]),
        Route("/api/v1/cameras/{camera_id}/history", get_history, methods=["GET"]),
        Route("/api/v1/cameras/{camera_id}/snapshot.jpg", get_snapshot, methods=["GET"]),
        Route("/api/v1/cameras/{camera_id}/current.jpg", get_current, methods=["GET"]),
    ]


def _jpeg(jpeg: bytes | None) -> Response:
    if jpeg is None:
        return _not_found()
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _not_found() -> Response:
    return _error(404, "no such camera")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
