"""The HTTP surface: /healthz, /metrics, the API (and whatever else is mounted)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.errors import ConfigError
from gateway.http.api import api_routes
from gateway.http.health import run_checks
from gateway.http.operate import operate_routes


async def healthz(request: Request) -> JSONResponse:
    """200 when every check passes, else 503; see :mod:`gateway.http.health`."""
    verdicts, details = await run_checks(request.app.state.health_checks)
    ok = all(verdicts.values())
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", **verdicts}
    if details:
        body["detail"] = details
    return JSONResponse(body, 200 if ok else 503)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def build_app(state: dict[str, Any], extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The ASGI app; ``state`` becomes ``app.state`` (operations, registry, outbox …)."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *api_routes(),
        *operate_routes(),
        *extra_routes,
    ]
    app = Starlette(routes=routes)
    for key, value in state.items():
        setattr(app.state, key, value)
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it back from the socket)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"http.port: cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(512)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process's TaskGroup owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve until cancelled."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = _Server(config)
    try:
        await server.serve(sockets=[sock])
    finally:
        server.should_exit = True
        sock.close()
