"""The alarm feed (live, over Server-Sent Events) and one alarm's page with its actions.

Every action goes through :class:`~gateway.operations.Operations`, which stores it,
audits it and tells the elder's terminal; the form then redirects back to the alarm.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from firmware_protocol.messages import Stage
from gateway.console import metrics
from gateway.console.context import ACTING, Console
from gateway.console.feed import ChangeFeed, event_stream
from gateway.console.pages import dispatch
from gateway.console.pages.dispatch import dispatch_context
from gateway.console.pages.lookup import back, form_text, scoped_alert
from gateway.console.sessions import Login
from gateway.console.sparkline import sparklines
from gateway.console.timeline import timeline_rows
from gateway.core.elders import CONTACT_ROLES
from gateway.core.escalation import level_name
from gateway.errors import CommandNotSent
from gateway.store import health

#: Who an alarm can be assigned to: the roles of elders' contacts.
RESPONDER_ROLES = CONTACT_ROLES
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
        console.db, login.region, console.registry, console.rules, cfg.feed_overlap_s,
        only=only, service_kinds=console.service_kinds,
    )  # fmt: skip

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


async def detail(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    return await render_detail(console, request, login, alert)


async def render_detail(
    console: Console, request: Request, login: Login, alert: dict[str, Any],
    access: str | None = None,
) -> Response:  # fmt: skip
    """The alarm page; ``access`` (already audited) is shown to this user only."""
    now = console.clock()
    reports = await health.recent(console.db, alert["terminal_id"], now - VITALS_WINDOW_S)
    t = console.texts.for_language(console.language(login))
    message = request.query_params.get("msg", "")
    extra = await dispatch_context(console, alert, login, access)
    record = extra["record"]
    return console.render(
        request, "alert.html", login, alert=alert, now=now,
        terminal=console.registry.get(alert["terminal_id"]),
        charts=sparklines(reports, now - VITALS_WINDOW_S, now),
        timeline=timeline_rows(alert["timeline"], t),
        level_name=level_name(alert["escalation_level"], console.rules) or "",
        can_act=login.role in ACTING, responder_roles=RESPONDER_ROLES,
        message=message if message in MESSAGES | dispatch.MESSAGES else "",
        contacts=record.contacts if record else (), **extra,
    )  # fmt: skip


async def show_access(console: Console, request: Request, login: Login) -> Response:
    """POST: the access instructions on the alarm page, for this user only; audited."""
    alert = await scoped_alert(console, request, login)
    reason = f"alarm {alert['terminal_id']}/{alert['alert_id']}"
    text = await console.desk().access(login.actor, alert["terminal_id"], reason)
    return await render_detail(console, request, login, alert, access=text)


def _minutes(form: FormData, name: str) -> int | None:
    """Whole minutes 0–1440 as seconds; ``ValueError`` for anything else."""
    raw = form_text(form, name, 8)
    if raw is None:
        return None
    minutes = int(raw)
    if not 0 <= minutes <= 1440:
        raise ValueError(name)
    return minutes * 60


async def accept(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    form = await request.form()
    try:
        eta_s = _minutes(form, "eta_min")
    except ValueError:
        return back(alert, "invalid")
    applied = await console.operations.advance(
        login.actor, alert["terminal_id"], alert["alert_id"], Stage.ACCEPTED,
        form_text(form, "responder", 64), form_text(form, "note", 500), eta_s,
    )  # fmt: skip
    return back(alert, "accepted" if applied else "not_applied")


async def assign(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    form = await request.form()
    responder, role = form_text(form, "responder", 64), form_text(form, "role", 32)
    if responder is None or role not in RESPONDER_ROLES:
        return back(alert, "invalid")
    note = f"{role}: {responder}"
    extra = form_text(form, "note", 400)
    await console.operations.annotate(
        login.actor, alert["terminal_id"], alert["alert_id"], "assigned",
        note + (f" — {extra}" if extra else ""),
    )  # fmt: skip
    return back(alert, "assigned")


async def call_back(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    number = form_text(await request.form(), "number", 32)
    ops = console.operations
    try:
        await ops.call_back(login.actor, alert["terminal_id"], number)
    except CommandNotSent:
        return back(alert, "callback_failed")
    # Operations audits the command; the timeline entry is for whoever opens the alarm next.
    await ops.alerts.note(
        alert["terminal_id"], alert["alert_id"], "call_back", login.username, number,
        console.clock(),
    )  # fmt: skip
    return back(alert, "callback_sent")


async def resolve(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    note = form_text(await request.form(), "note", 500)
    applied = await console.operations.advance(
        login.actor, alert["terminal_id"], alert["alert_id"], Stage.RESOLVED, None, note
    )
    return back(alert, "resolved" if applied else "not_applied")
