"""Request bodies and lookups shared by the dispatch, elder and service-request routes."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.dispatch.desk import DispatchDesk
from gateway.http.auth import in_scope
from gateway.operations import Actor, Operations
from gateway.registry import Terminal

#: Roles that may act; ``technician`` reads only.
ACTING = frozenset({"operator", "admin", "integration"})


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


B = TypeVar("B", bound=Body)


async def read_body(request: Request, model: type[B]) -> B:
    """The JSON body as ``model``; 422 naming what is wrong."""
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise HTTPException(422, str(exc)) from exc


def desk(request: Request) -> DispatchDesk:
    found: DispatchDesk | None = getattr(request.app.state, "dispatch", None)
    if found is None:
        raise HTTPException(404, "dispatch is not enabled")
    return found


def scoped_terminal(request: Request, actor: Actor) -> Terminal:
    """The path's terminal, or 404 when unknown or outside the caller's region."""
    terminal: Terminal | None = request.app.state.registry.get(request.path_params["terminal_id"])
    if terminal is None or not in_scope(actor.region, terminal.region):
        raise HTTPException(404, "no such terminal")
    return terminal


async def scoped_alert(request: Request, actor: Actor) -> dict[str, Any]:
    """The path's alarm, or 404 when unknown or outside the caller's region."""
    ops: Operations = request.app.state.operations
    t, a = request.path_params["terminal_id"], request.path_params["alert_id"]
    alert = await ops.alerts.get(t, a)
    if alert is None or not in_scope(actor.region, alert["region"]):
        raise HTTPException(404, "no such alert")
    return alert
