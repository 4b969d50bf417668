"""Finding the alarm a console page is about (within the user's region), reading its
forms, and sending the browser back to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from gateway.console.context import Console
from gateway.console.sessions import Login
from gateway.http.auth import in_scope


async def scoped_alert(console: Console, request: Request, login: Login) -> dict[str, Any]:
    """The path's alarm with its timeline; 404 when unknown or outside the user's region."""
    params = request.path_params
    alert = await console.operations.alerts.get(params["terminal_id"], params["alert_id"])
    if alert is None or not in_scope(login.region, alert["region"]):
        raise HTTPException(404, "error.not_found")
    return alert


def back(alert: Mapping[str, Any], message: str) -> RedirectResponse:
    """After a form: the alarm's page with a message key."""
    path = f"/console/alerts/{quote(alert['terminal_id'])}/{quote(alert['alert_id'])}"
    return RedirectResponse(f"{path}?msg={message}", 303)


def form_text(form: FormData, name: str, limit: int) -> str | None:
    """A trimmed form field cut to ``limit`` characters; ``None`` when empty."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit] or None
