"""``GET /api/v1/reports``: the supervisors' figures for a region and period, as JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.core.reports import ANSWER_TARGET, Report, figures_json, parse_period
from gateway.dispatch.config import DispatchConfig
from gateway.http.auth import in_scope, require
from gateway.operations import Operations
from gateway.registry import Terminal
from gateway.store.reports import ReportStore


def default_scope(registry: Mapping[str, Terminal], own: Sequence[str]) -> tuple[str, ...]:
    """The deepest region holding every terminal the caller sees (a site of one district
    reports by town, not as a single row), and never deeper than a town."""
    common: tuple[str, ...] | None = None
    for terminal in registry.values():
        if not in_scope(own, terminal.region):
            continue
        region = tuple(terminal.region[:2])
        if common is None:
            common = region
        while common and region[: len(common)] != common:
            common = common[:-1]
    return max(common or (), tuple(own), key=len)


def requested_scope(
    raw: str, own: Sequence[str], registry: Mapping[str, Terminal] | None = None
) -> tuple[str, ...]:
    """``a/b/c`` from the query, which must lie inside the caller's own region."""
    scope = tuple(part for part in raw.split("/") if part)
    if not scope:
        return default_scope(registry or {}, own) if raw != "/" else tuple(own)
    if len(scope) > 3 or not in_scope(own, scope):
        raise HTTPException(404, "no such region, or outside yours")
    return scope


async def build(
    request: Request, own: Sequence[str], raw_region: str, first: str, last: str, now: float
) -> tuple[Report, float, float]:
    """The report a page or the API asked for; 404/422 for a bad region or period."""
    scope = requested_scope(raw_region, own, request.app.state.registry)
    try:
        start, end = parse_period(first, last, now)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    ops: Operations = request.app.state.operations
    cfg: DispatchConfig = getattr(request.app.state, "dispatch_config", None) or DispatchConfig()
    report = await ReportStore(ops.alerts.db).report(
        request.app.state.registry, scope, start, end, cfg.alarm_kinds, cfg.service_kinds
    )
    return report, start, end


def report_json(report: Report, start: float, end: float) -> dict[str, Any]:
    return {
        "scope": list(report.scope),
        "from": start,
        "to": end,
        "target_share_within_60s": ANSWER_TARGET,
        "total": figures_json(report.total),
        "rows": [figures_json(row) for row in report.rows],
    }


async def get_report(request: Request) -> JSONResponse:
    actor = await require(request)
    query = request.query_params
    report, start, end = await build(
        request, actor.region, query.get("region", ""), query.get("from", ""),
        query.get("to", ""), request.app.state.clock(),
    )  # fmt: skip
    return JSONResponse(report_json(report, start, end))


def report_routes() -> list[Route]:
    return [Route("/api/v1/reports", get_report)]
