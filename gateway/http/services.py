"""The API of service requests: the open ones in the caller's region; schedule, assign
and complete one."""

from __future__ import annotations

from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.core.dispatch import Responder
from gateway.core.elders import CONTACT_ROLES, PHONE_RE
from gateway.http.auth import require
from gateway.http.bodies import ACTING, Body, desk, read_body, scoped_alert
from gateway.store.services import NOTE_MAX, ServiceResult


class ScheduleBody(Body):
    at: float | None = Field(
        None, ge=0, lt=4_294_967_296, description="Unix time to serve at; null = asap."
    )


class ServiceAssignBody(Body):
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=3, max_length=32)
    role: str = Field("volunteer", description="volunteer, service_station, grid_worker …")


class CompleteBody(Body):
    note: str | None = Field(None, max_length=NOTE_MAX, description="What was done.")


def _result(result: ServiceResult) -> JSONResponse:
    if not result.applied:
        return JSONResponse({"applied": False, "detail": result.reason}, status_code=409)
    return JSONResponse({"applied": True})


async def list_requests(request: Request) -> JSONResponse:
    actor = await require(request)
    found = await desk(request).services.open_requests(actor.region)
    return JSONResponse({"requests": found})


async def schedule(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await scoped_alert(request, actor)
    body = await read_body(request, ScheduleBody)
    return _result(
        await desk(request).schedule(actor, alert["terminal_id"], alert["alert_id"], body.at)
    )


async def assign(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await scoped_alert(request, actor)
    body = await read_body(request, ServiceAssignBody)
    if body.role not in CONTACT_ROLES or not PHONE_RE.match(body.phone):
        raise HTTPException(422, f"role: one of {', '.join(CONTACT_ROLES)}; phone: digits")
    assignee = Responder(body.name, body.phone, body.role)
    return _result(
        await desk(request).assign(actor, alert["terminal_id"], alert["alert_id"], assignee)
    )


async def complete(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await scoped_alert(request, actor)
    body = await read_body(request, CompleteBody)
    return _result(
        await desk(request).complete(actor, alert["terminal_id"], alert["alert_id"], body.note)
    )


def service_routes() -> list[Route]:
    alert = "/api/v1/alerts/{terminal_id}/{alert_id}/service"
    return [
        Route("/api/v1/service-requests", list_requests),
        Route(alert + "/schedule", schedule, methods=["POST"]),
        Route(alert + "/assign", assign, methods=["POST"]),
        Route(alert + "/complete", complete, methods=["POST"]),
    ]
