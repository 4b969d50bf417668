"""Site operations over HTTP: ``POST /api/v1/registry/reload``.

Only a caller whose scope is the whole site (an unscoped admin or integration token)
may reload: the registry is the whole district's.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.http.auth import require
from gateway.operate.reload import RegistryReloader


async def reload_registry(request: Request) -> JSONResponse:
    actor = await require(request, frozenset({"admin", "integration"}))
    if actor.region:
        raise HTTPException(403, "only a caller scoped to the whole site may reload")
    reloader: RegistryReloader | None = getattr(request.app.state, "reloader", None)
    if reloader is None:
        raise HTTPException(404, "no registry to reload")
    result = await reloader.reload()
    now = request.app.state.clock()
    await request.app.state.operations.audit.record(
        actor.name, "registry.reload", "registry", result.to_json(), now
    )
    return JSONResponse(result.to_json(), 200 if result.applied else 422)


def operate_routes() -> list[Route]:
    return [Route("/api/v1/registry/reload", reload_registry, methods=["POST"])]
