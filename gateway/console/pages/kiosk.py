"""The wall display (kiosk): large type, the open emergencies live, a summary by town
refreshed every few seconds, and the sound cue without a click (see README: Chromium's
``--autoplay-policy=no-user-gesture-required`` for a kiosk)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.console.context import SECURITY_HEADERS, Console
from gateway.console.feed import region_clause
from gateway.console.sessions import Login
from gateway.console.wall import summarise
from gateway.http.auth import in_scope
from gateway.http.reports import default_scope

REFRESH_S = 5


async def kiosk_page(console: Console, request: Request, login: Login) -> Response:
    return console.render(request, "kiosk.html", login, refresh_s=REFRESH_S, now=console.clock())


async def kiosk_summary(console: Console, request: Request, login: Login) -> Response:
    where, params = region_clause(login.region)
    async with console.db.reader.execute(
        "SELECT a.district, a.town, a.village, a.kind, a.stage_rank, a.escalation_level > 0"
        " AS escalation_level, count(*) AS n FROM alerts a WHERE a.stage_rank < 3"
        f" AND a.kind NOT IN ('test', 'cancel') AND {where}"
        " GROUP BY 1, 2, 3, 4, 5, 6",
        params,
    ) as cursor:
        rows = [
            {**dict(r), "region": (r["district"], r["town"], r["village"])} async for r in cursor
        ]
    async with console.db.reader.execute(
        "SELECT terminal_id FROM terminal_state WHERE online = 0"
    ) as cursor:
        offline_ids = [r[0] async for r in cursor]
    scoped = [t for t in console.registry.values() if in_scope(login.region, t.region)]
    offline = [
        t.region for tid in offline_ids
        if (t := console.registry.get(tid)) is not None and in_scope(login.region, t.region)
    ]  # fmt: skip
    cfg = console.dispatch_config
    scope = default_scope(console.registry, login.region)
    areas = {t.region for t in scoped}
    summary = summarise(scope, rows, offline, areas, cfg.alarm_kinds, cfg.service_kinds)
    summary["now"] = console.clock()
    return JSONResponse(summary, headers=SECURITY_HEADERS)
