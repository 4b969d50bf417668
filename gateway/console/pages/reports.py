"""The supervisors' report: figures per area for a period, charts, and a CSV export."""

from __future__ import annotations

import csv
import io
import time
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.console.charts import accept_chart, kinds_chart, share_chart
from gateway.console.context import Console
from gateway.console.pages.admin import region_options
from gateway.console.sessions import Login
from gateway.core.reports import ANSWER_TARGET, Report, figures_json, parse_period
from gateway.dispatch.config import HELP_KINDS
from gateway.http.reports import requested_scope
from gateway.store.reports import ReportStore

CSV_FIELDS = (
    "emergencies", "accepted_within_60s", "accepted_within_60s_share", "accept_p50_s",
    "accept_p90_s", "resolve_p50_s", "resolve_p90_s", "escalated", "unanswered_calls",
    "terminals_offline_now", "terminals_went_offline", "service_requests", "service_completed",
)  # fmt: skip


async def _report(
    console: Console, request: Request, login: Login
) -> tuple[Report, dict[str, str]]:
    query = request.query_params
    asked = {name: query.get(name, "") for name in ("region", "from", "to")}
    scope = requested_scope(asked["region"], login.region, console.registry)
    try:
        start, end = parse_period(asked["from"], asked["to"], console.clock())
    except ValueError as exc:
        raise HTTPException(400, "error.bad_request") from exc
    cfg = console.dispatch_config
    report = await ReportStore(console.db).report(
        console.registry, scope, start, end, cfg.alarm_kinds, cfg.service_kinds
    )
    shown = {
        "region": "/".join(scope) or "/",
        "from": time.strftime("%Y-%m-%d", time.localtime(start)),
        "to": time.strftime("%Y-%m-%d", time.localtime(end - 1)),
    }
    return report, shown


async def reports_page(console: Console, request: Request, login: Login) -> Response:
    report, shown = await _report(console, request, login)
    options = ["/" if r == "" else r for r in region_options(console, login.region)]
    return console.render(
        request, "reports.html", login, report=report, total=report.total, shown=shown,
        regions=options, target=ANSWER_TARGET, kinds=HELP_KINDS,
        kinds_chart=kinds_chart(report.rows, HELP_KINDS), share_chart=share_chart(report.rows),
        accept_chart=accept_chart(report.total), csv_query=request.url.query,
    )  # fmt: skip


def _csv_row(area: str, figures: dict[str, Any]) -> list[Any]:
    kinds = figures["alarms_by_kind"]
    cells = [figures[name] for name in CSV_FIELDS]
    return [area, sum(kinds.values()), *(kinds.get(k, 0) for k in HELP_KINDS), *cells]


async def reports_csv(console: Console, request: Request, login: Login) -> Response:
    report, shown = await _report(console, request, login)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["area", "alarms", *HELP_KINDS, *CSV_FIELDS])
    for row in report.rows:
        writer.writerow(_csv_row(" / ".join(row.area), figures_json(row)))
    writer.writerow(_csv_row("total", figures_json(report.total)))
    area = shown["region"].strip("/").replace("/", "-") or "all"
    name = f"report-{area}-{shown['from']}-{shown['to']}.csv"
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                 "Cache-Control": "no-store"},
    )  # fmt: skip
