"""The gateway's HTTP API for the command center and integrations (JSON, bearer auth).

Acting roles: ``operator``, ``admin`` and ``integration``; ``technician`` reads only.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from firmware_protocol.messages import Stage
from gateway.errors import CommandNotSent
from gateway.http.auth import in_scope, require
from gateway.http.dispatch import dispatch_routes
from gateway.http.elders import elder_routes
from gateway.http.reports import report_routes
from gateway.http.services import service_routes
from gateway.operations import Actor, Operations
from gateway.store.outbox import Outbox
from gateway.store.quarantine import Quarantine

ACTING = frozenset({"operator", "admin", "integration"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResolveBody(_Body):
    by: str | None = Field(None, max_length=64, description="Responder who took the alarm.")
    note: str | None = Field(None, max_length=500)


class AcceptBody(ResolveBody):
    eta_s: int | None = Field(None, ge=0, le=86_400, description="Expected arrival, seconds.")


class AssignBody(_Body):
    responder: str = Field(min_length=1, max_length=64)
    role: str = Field("volunteer", max_length=32, description="grid worker, relative, doctor …")
    note: str | None = Field(None, max_length=500)


class CallBackBody(_Body):
    number: str | None = Field(None, max_length=32)


_B = TypeVar("_B", bound=_Body)


def _ops(request: Request) -> Operations:
    ops: Operations = request.app.state.operations
    return ops


async def _body(request: Request, model: type[_B]) -> _B:
    try:
        raw = await request.body()
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise HTTPException(422, str(exc)) from exc


async def _scoped_alert(request: Request, actor: Actor) -> dict[str, Any]:
    t, a = request.path_params["terminal_id"], request.path_params["alert_id"]
    alert = await _ops(request).alerts.get(t, a)
    if alert is None or not in_scope(actor.region, alert["region"]):
        raise HTTPException(404, "no such alert")
    return alert


def _limit(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise HTTPException(422, "limit must be an integer in 1..1000")
    return int(raw)


async def list_alerts(request: Request) -> JSONResponse:
    actor = await require(request)
    open_only = request.query_params.get("open", "1") != "0"
    limit = _limit(request.query_params.get("limit", "200"))
    alerts = await _ops(request).alerts.list(open_only=open_only, region=actor.region, limit=limit)
    return JSONResponse({"alerts": alerts})


async def get_alert(request: Request) -> JSONResponse:
    actor = await require(request)
    return JSONResponse(await _scoped_alert(request, actor))


async def _advance(request: Request, stage: Stage) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await _scoped_alert(request, actor)
    model: type[ResolveBody] = AcceptBody if stage is Stage.ACCEPTED else ResolveBody
    body = await _body(request, model)
    eta = getattr(body, "eta_s", None)
    applied = await _ops(request).advance(
        actor, alert["terminal_id"], alert["alert_id"], stage, body.by, body.note, eta
    )
    current = await _ops(request).alerts.get(alert["terminal_id"], alert["alert_id"])
    return JSONResponse({"applied": applied, "stage": current["stage"] if current else None})


async def accept(request: Request) -> JSONResponse:
    return await _advance(request, Stage.ACCEPTED)


async def resolve(request: Request) -> JSONResponse:
    return await _advance(request, Stage.RESOLVED)


async def assign(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await _scoped_alert(request, actor)
    body = await _body(request, AssignBody)
    note = f"{body.role}: {body.responder}" + (f" — {body.note}" if body.note else "")
    await _ops(request).annotate(actor, alert["terminal_id"], alert["alert_id"], "assigned", note)
    return JSONResponse({"applied": True})


async def call_back(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    terminal_id = request.path_params["terminal_id"]
    terminal = request.app.state.registry.get(terminal_id)
    if terminal is None or not in_scope(actor.region, terminal.region):
        raise HTTPException(404, "no such terminal")
    body = await _body(request, CallBackBody)
    try:
        cmd_id = await _ops(request).call_back(actor, terminal_id, body.number)
    except CommandNotSent as exc:
        raise HTTPException(503, "broker not reachable") from exc
    return JSONResponse({"cmd_id": cmd_id}, status_code=202)


async def dead_letters(request: Request) -> JSONResponse:
    actor = await require(request, frozenset({"admin", "technician", "integration"}))
    outbox: Outbox = request.app.state.outbox
    return JSONResponse({"dead": await outbox.dead_letters(region=actor.region)})


async def retry_dead(request: Request) -> JSONResponse:
    actor = await require(request, frozenset({"admin", "technician"}))
    outbox: Outbox = request.app.state.outbox
    sink, event_id = request.path_params["sink"], request.path_params["event_id"]
    now = request.app.state.clock()
    ok = await outbox.retry_dead(sink, event_id, now, actor.region)
    await _ops(request).audit.record(
        actor.name, "outbox.retry", f"{sink}/{event_id}", {"applied": ok}, now
    )
    if not ok:  # unknown and out-of-region look alike
        raise HTTPException(404, "no such dead letter")
    request.app.state.wake()
    return JSONResponse({"applied": True})


def _terminal_of(topic: str) -> str:
    """The terminal a topic belongs to (``…/t/{id}/…``), or "" if none."""
    parts = topic.split("/")
    for n, part in enumerate(parts[:-1]):
        if part == "t":
            return parts[n + 1]
    return ""


async def quarantined(request: Request) -> JSONResponse:
    """Messages intake failed on, set aside (those of terminals in the caller's region)."""
    actor = await require(request, frozenset({"admin", "technician", "integration"}))
    registry = request.app.state.registry
    limit = _limit(request.query_params.get("limit", "100"))
    store: Quarantine = request.app.state.quarantine
    found = await store.list(limit)

    def visible(row: dict[str, Any]) -> bool:
        terminal = registry.get(_terminal_of(row["topic"]))
        return in_scope(actor.region, terminal.region if terminal else ())

    return JSONResponse({"quarantined": [row for row in found if visible(row)]})


def api_routes() -> list[Route]:
    base = "/api/v1"
    alert = base + "/alerts/{terminal_id}/{alert_id}"
    return [
        Route(base + "/alerts", list_alerts),
        Route(alert, get_alert),
        Route(alert + "/accept", accept, methods=["POST"]),
        Route(alert + "/resolve", resolve, methods=["POST"]),
        Route(alert + "/assign", assign, methods=["POST"]),
        Route(base + "/terminals/{terminal_id}/call-back", call_back, methods=["POST"]),
        Route(base + "/outbox/dead", dead_letters),
        Route(base + "/outbox/dead/{sink}/{event_id}/retry", retry_dead, methods=["POST"]),
        Route(base + "/quarantine", quarantined),
        *dispatch_routes(),
        *elder_routes(),
        *service_routes(),
        *report_routes(),
    ]
