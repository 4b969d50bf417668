"""The alarm feed (live, over Server-Sent Events) and one alarm's page with its actions.

Every action goes through :class:`~gateway.operations.Operations`, which stores it,
audits it and tells the elder's terminal; the form then redirects back to the alarm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from firmware_protocol.messages import Stage
from gateway.console import metrics
from gateway.console.context import ACTING, Console
from gateway.console.feed import ChangeFeed, event_stream
from gateway.console.sessions import Login
from gateway.console.sparkline import sparklines
from gateway.console.timeline import timeline_rows
from gateway.core.escalation import level_name
from gateway.http.auth import in_scope
from gateway.store import health

#: Who an alarm can be assigned to.
RESPONDER_ROLES = ("grid_worker", "relative", "volunteer", "doctor", "village_staff")
MESSAGES = frozenset(
    {"accepted", "assigned", "callback_sent", "callback_failed", "resolved", "not_applied",
     "invalid"}
)  # fmt: skip
VITALS_WINDOW_S = 24 * 3600


async def feed_page(console: Console, request: Request, login: Login) -> Response:
    return console.render(request, "feed.html", login)


async def feed_stream(console: Console, request: Request) -> Response:
    """GET /console/feed: ``text/event-stream`` of the open alarms in the user's region.

    With ``?terminal_id=…&alert_id=…`` it follows that one alarm (its page uses that).
    """
    login = await console.auth.login(request)
    if login is None:
        return Response("authentication required", 401)
    cfg, query = console.config, request.query_params
    wanted = (query.get("terminal_id"), query.get("alert_id"))
    only = (wanted[0], wanted[1]) if wanted[0] and wanted[1] else None
    feed = ChangeFeed(
        console.db, login.region, console.registry, console.rules, cfg.feed_overlap_s, only=only
    )

    async def still_allowed() -> bool:
        return await console.sessions.lookup(login.session_id) is not None

    stream = event_stream(feed, still_allowed, console.clock, cfg.feed_poll_s, cfg.feed_max_alerts)
    return StreamingResponse(
        _counted(stream), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )  # fmt: skip


async def _counted(stream: AsyncIterator[str]) -> AsyncIterator[str]:
    metrics.FEED_VIEWERS.inc()
    try:
        async for message in stream:
            yield message
    finally:
        metrics.FEED_VIEWERS.dec()


async def _scoped_alert(console: Console, request: Request, login: Login) -> dict[str, Any]:
    params = request.path_params
    alert = await console.operations.alerts.get(params["terminal_id"], params["alert_id"])
    if alert is None or not in_scope(login.region, alert["region"]):
        raise HTTPException(404, "error.not_found")
    return alert


async def detail(console: Console, request: Request, login: Login) -> Response:
    alert = await _scoped_alert(console, request, login)
    now = console.clock()
    reports = await health.recent(console.db, alert["terminal_id"], now - VITALS_WINDOW_S)
    t = console.texts.for_language(console.language(login))
    message = request.query_params.get("msg", "")
    return console.render(
        request, "alert.html", login, alert=alert, now=now,
        terminal=console.registry.get(alert["terminal_id"]),
        charts=sparklines(reports, now - VITALS_WINDOW_S, now),
        timeline=timeline_rows(alert["timeline"], t),
        level_name=level_name(alert["escalation_level"], console.rules) or "",
        can_act=login.role in ACTING, responder_roles=RESPONDER_ROLES,
        message=message if message in MESSAGES else "",
    )  # fmt: skip


def _back(alert: Mapping[str, Any], message: str) -> RedirectResponse:
    path = f"/console/alerts/{quote(alert['terminal_id'])}/{quote(alert['alert_id'])}"
    return RedirectResponse(f"{path}?msg={message}", 303)


def _text(form: FormData, name: str, limit: int) -> str | None:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    return text[:limit] or None


def _minutes(form: FormData, name: str) -> int | None:
    """Whole minutes 0–1440 as seconds; ``ValueError`` for anything else."""
    raw = _text(form, name, 8)
    if raw is None:
        return None
    minutes = int(raw)
    if not 0 <= minutes <= 1440:
        raise ValueError(name)
    return minutes * 60


async def accept(console: Console, request: Request, login: Login) -> Response:
    alert = await _scoped_alert(console, request, login)
    form = await request.form()
    try:
        eta_s = _minutes(form, "eta_min")
    except ValueError:
        return _back(alert, "invalid")
    applied = await console.operations.advance(
        login.actor, alert["terminal_id"], alert["alert_id"], Stage.ACCEPTED,
        _text(form, "responder", 64), _text(form, "note", 500), eta_s,
    )  # fmt: skip
    return _back(alert, "accepted" if applied else "not_applied")


async def assign(console: Console, request: Request, login: Login) -> Response:
    alert = await _scoped_alert(console, request, login)
    form = await request.form()
    responder, role = _text(form, "responder", 64), _text(form, "role", 32)
    if responder is None or role not in RESPONDER_ROLES:
        return _back(alert, "invalid")
    note = f"{role}: {responder}"
    extra = _text(form, "note", 400)
    await console.operations.annotate(
        login.actor, alert["terminal_id"], alert["alert_id"], "assigned",
        note + (f" — {extra}" if extra else ""),
    )  # fmt: skip
    return _back(alert, "assigned")


async def call_back(console: Console, request: Request, login: Login) -> Response:
    alert = await _scoped_alert(console, request, login)
    number = _text(await request.form(), "number", 32)
    ops = console.operations
    try:
        await ops.call_back(login.actor, alert["terminal_id"], number)
    except TimeoutError:
        return _back(alert, "callback_failed")
    # Operations audits the command; the timeline entry is for whoever opens the alarm next.
    await ops.alerts.note(
        alert["terminal_id"], alert["alert_id"], "call_back", login.username, number,
        console.clock(),
    )  # fmt: skip
    return _back(alert, "callback_sent")


async def resolve(console: Console, request: Request, login: Login) -> Response:
    alert = await _scoped_alert(console, request, login)
    note = _text(await request.form(), "note", 500)
    applied = await console.operations.advance(
        login.actor, alert["terminal_id"], alert["alert_id"], Stage.RESOLVED, None, note
    )
    return _back(alert, "resolved" if applied else "not_applied")
