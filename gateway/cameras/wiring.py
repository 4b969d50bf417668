"""Putting the camera monitor into a gateway process: prober, stores, guarded routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.cameras.config import CamerasConfig
from gateway.cameras.pool import ProcessProber
from gateway.cameras.routes import camera_routes
from gateway.cameras.scheduler import CameraMonitor
from gateway.core.events import EventSink
from gateway.http.auth import in_scope, require

Endpoint = Callable[[Request], Awaitable[Response]]


@asynccontextmanager
async def camera_monitor(cfg: CamerasConfig, sink: EventSink) -> AsyncIterator[CameraMonitor]:
    """A monitor with its worker pool; the pool's processes end with the context."""
    async with ProcessProber(cfg.concurrency) as prober:
        monitor = CameraMonitor(cfg, prober, sink)
        await monitor.load()
        yield monitor


def _authenticated(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        request.state.actor = await require(request)
        return await endpoint(request)

    return guarded


def guarded_camera_routes(monitor: CameraMonitor) -> list[BaseRoute]:
    """The camera API behind the gateway's authentication and region scopes."""

    def allowed(request: Request, region: tuple[str, ...]) -> bool:
        return in_scope(request.state.actor.region, region)

    routes: list[BaseRoute] = []
    for route in camera_routes(monitor, allowed):
        routes.append(
            Route(route.path, _authenticated(route.endpoint), methods=list(route.methods or []))
        )
    return routes
