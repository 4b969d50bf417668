"""Terminal availability per town and village, offline terminals and missed self-tests."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.console.context import Console
from gateway.console.sessions import Login
from gateway.console.terminals import report

STATE_COLUMNS = (
    "terminal_id, online, last_seen, offline_at, battery_pct, signal_dbm, firmware,"
    " last_selftest_at, selftest_missed"
)


async def _states(console: Console) -> dict[str, dict[str, Any]]:
    async with console.db.reader.execute(f"SELECT {STATE_COLUMNS} FROM terminal_state") as cursor:
        return {row["terminal_id"]: dict(row) async for row in cursor}


async def terminals_page(console: Console, request: Request, login: Login) -> Response:
    result = report(console.registry, await _states(console), login.region)
    return console.render(request, "terminals.html", login, report=result, now=console.clock())
