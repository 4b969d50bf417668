"""The API of call sequences: responders answer with their token; operators and the
command center follow a sequence and skip, reassign or take over."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.core import dispatch as core
from gateway.core.dispatch import Responder
from gateway.core.elders import CONTACT_ROLES, PHONE_RE
from gateway.http.auth import require
from gateway.http.bodies import ACTING, Body, desk, read_body, scoped_alert
from gateway.store.dispatch import Applied


class AnswerBody(Body):
    token: str = Field(min_length=16, max_length=128, description="From the alert.dispatch event.")
    answer: Literal["accept", "decline"]
    eta_s: int | None = Field(None, ge=0, le=86_400, description="Expected arrival, seconds.")


class ReassignBody(Body):
    position: int | None = Field(
        None, ge=1, le=12, description="Call the contact at this place in the elder's list."
    )
    name: str | None = Field(None, min_length=1, max_length=64, description="Or call this person.")
    phone: str | None = Field(None, max_length=32)
    role: str = Field("volunteer", description="Their role, as in elders' contact lists.")


def _result(applied: Applied) -> JSONResponse:
    if applied.refused is not None:
        return JSONResponse({"applied": False, "detail": applied.refused}, status_code=409)
    status = applied.state.status.value if applied.state else None
    return JSONResponse({"applied": True, "status": status})


async def answer(request: Request) -> JSONResponse:
    """POST /api/v1/responders/answer: the token is the credential (one call, one answer)."""
    body = await read_body(request, AnswerBody)
    applied = await desk(request).answer(body.token, body.answer == "accept", body.eta_s)
    if applied is None:
        raise HTTPException(404, "no such call")
    return _result(applied)


async def view(request: Request) -> JSONResponse:
    actor = await require(request)
    alert = await scoped_alert(request, actor)
    found = await desk(request).sequences.view(alert["terminal_id"], alert["alert_id"])
    if found is None:
        raise HTTPException(404, "no call sequence for this alarm")
    return JSONResponse(found)


async def _control(request: Request, event: core.Input) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await scoped_alert(request, actor)
    applied = await desk(request).control(actor, alert["terminal_id"], alert["alert_id"], event)
    return _result(applied)


async def skip(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    return await _control(request, core.Skip(actor.name))


async def take_over(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    return await _control(request, core.TakeOver(actor.name))


async def reassign(request: Request) -> JSONResponse:
    actor = await require(request, ACTING)
    alert = await scoped_alert(request, actor)
    body = await read_body(request, ReassignBody)
    event = await reassignment(request, alert["terminal_id"], actor.name, body)
    return await _control(request, event)


async def reassignment(
    request: Request, terminal_id: str, actor: str, body: ReassignBody
) -> core.Reassign:
    """A listed contact by position, or a named person; 422 when neither is usable."""
    if body.position is not None:
        record = await desk(request).elders.get(terminal_id)
        contacts = record.contacts if record else ()
        if body.position > len(contacts):
            raise HTTPException(422, "position: not on the elder's list")
        c = contacts[body.position - 1]
        return core.Reassign(actor, Responder(c.name, c.phone, c.role), body.position - 1)
    if body.name is None or body.phone is None or not PHONE_RE.match(body.phone):
        raise HTTPException(422, "give a position, or a name and a phone number")
    if body.role not in CONTACT_ROLES:
        raise HTTPException(422, f"role: one of {', '.join(CONTACT_ROLES)}")
    return core.Reassign(actor, Responder(body.name, body.phone, body.role))


def dispatch_routes() -> list[Route]:
    alert = "/api/v1/alerts/{terminal_id}/{alert_id}/dispatch"
    return [
        Route("/api/v1/responders/answer", answer, methods=["POST"]),
        Route(alert, view),
        Route(alert + "/skip", skip, methods=["POST"]),
        Route(alert + "/take-over", take_over, methods=["POST"]),
        Route(alert + "/reassign", reassign, methods=["POST"]),
    ]
