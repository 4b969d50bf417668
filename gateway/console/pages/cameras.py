"""The camera wall and one camera's page, where a technician acknowledges or snoozes
its incident.

Every camera shown is inside the user's region; a camera outside it answers 404 like
an unknown one, for pages and actions alike. Actions are form POSTs with the session's
CSRF token (:meth:`Console.action`), need a reason, and are written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console import camera_views as cv
from gateway.console.context import Console
from gateway.console.sessions import Login
from gateway.http.auth import in_scope

#: Who may acknowledge or snooze a camera's incident: the people who go and fix it.
CAMERA_ACTING = frozenset({"technician", "admin"})
#: How long a camera can be snoozed for, in minutes (the form offers these).
SNOOZE_MINUTES = (15, 30, 60, 120, 240, 480)
MESSAGES = frozenset({"acknowledged", "snoozed", "unsnoozed", "no_incident", "invalid"})
REASON_MAX = 200


def _monitor(console: Console) -> cv.CameraViews:
    if console.cameras is None:
        raise HTTPException(404, "cameras.none")
    return console.cameras


def _scoped(console: Console, request: Request, login: Login) -> Mapping[str, Any]:
    camera_id = request.path_params["camera_id"]
    view = next((v for v in _monitor(console).views() if v.get("id") == camera_id), None)
    if view is None or not in_scope(login.region, cv.region_of(view)):
        raise HTTPException(404, "error.not_found")
    return view


def _actions(console: Console) -> cv.CameraActions:
    monitor = _monitor(console)
    if not isinstance(monitor, cv.CameraActions):
        raise HTTPException(404, "error.not_found")
    return monitor


async def wall(console: Console, request: Request, login: Login) -> Response:
    visible = cv.in_region(_monitor(console).views(), login.region)
    query = request.query_params
    chosen = {key: query.get(key, "") for key in ("fault", "state", "region")}
    shown = cv.sort_for_wall(cv.select(visible, **chosen))
    return console.render(
        request, "cameras.html", login, cameras=shown, summary=cv.summary(visible),
        chosen=chosen, fault_kinds=cv.fault_kinds, snapshot_url=cv.snapshot_url,
        pictures=cv.pictures, reasons=cv.reasons, now=console.clock(),
    )  # fmt: skip


async def history(console: Console, request: Request, login: Login) -> Response:
    view = _scoped(console, request, login)
    probes = list(reversed(_monitor(console).history(str(view.get("id"))) or ()))
    message = request.query_params.get("msg", "")
    return console.render(
        request, "camera.html", login, camera=view, probes=probes, fault_kinds=cv.fault_kinds,
        snapshot_url=cv.snapshot_url, pictures=cv.pictures, reasons=cv.reasons,
        now=console.clock(), snooze_minutes=SNOOZE_MINUTES, message=message if message in
        MESSAGES else "", can_act=login.role in CAMERA_ACTING and isinstance(
            console.cameras, cv.CameraActions),
    )  # fmt: skip


async def acknowledge(console: Console, request: Request, login: Login) -> Response:
    view = _scoped(console, request, login)
    camera_id = str(view.get("id"))
    reason = _reason(await request.form())
    if reason is None:
        return _back(camera_id, "invalid")
    done = await _actions(console).acknowledge(camera_id, login.username, reason)
    if not done:
        return _back(camera_id, "no_incident")
    incident = view.get("incident") or {}
    await console.audit(
        login.username, "console.camera_acknowledged", camera_id,
        {"reason": reason, "incident_started_at": incident.get("started_at"),
         "faults": cv.fault_kinds(view)},
    )  # fmt: skip
    return _back(camera_id, "acknowledged")


async def snooze(console: Console, request: Request, login: Login) -> Response:
    view = _scoped(console, request, login)
    camera_id = str(view.get("id"))
    form = await request.form()
    reason, minutes = _reason(form), _minutes(form)
    if minutes is None or (minutes and reason is None):
        return _back(camera_id, "invalid")
    by = login.username
    await _actions(console).snooze(camera_id, by, reason or "", minutes * 60)
    detail = {"minutes": minutes, "reason": reason, "faults": cv.fault_kinds(view)}
    await console.audit(by, "console.camera_snoozed", camera_id, detail)
    return _back(camera_id, "snoozed" if minutes else "unsnoozed")


def _reason(form: FormData) -> str | None:
    value = form.get("reason")
    text = value.strip() if isinstance(value, str) else ""
    return text[:REASON_MAX] or None


def _minutes(form: FormData) -> int | None:
    """One of :data:`SNOOZE_MINUTES`, or 0 to end a snooze; ``None`` for anything else."""
    value = form.get("minutes")
    try:
        minutes = int(value) if isinstance(value, str) else -1
    except ValueError:
        return None
    return minutes if minutes == 0 or minutes in SNOOZE_MINUTES else None


def _back(camera_id: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"/console/cameras/{quote(camera_id, safe='')}?msg={message}", 303)
