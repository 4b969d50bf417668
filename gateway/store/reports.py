"""Reading the figures of a period from the store (``gateway.core.reports`` counts them).

Times come from the alarm timeline (the first ``accepted`` and ``resolved`` entries),
unanswered calls from the call sequences' attempts, completed services from the
service requests, offline terminals from the supervision state (offline now, and
whose latest outage began inside the period).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from gateway.core.reports import AlarmTimes, Area, Report, build_report
from gateway.registry import Terminal
from gateway.store.db import Database

_REGION = ("district", "town", "village")


def _region_sql(region: Sequence[str], table: str) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for column, value in zip(_REGION, region, strict=False):
        clauses.append(f"{table}.{column} = ?")
        params.append(value)
    return "".join(f" AND {c}" for c in clauses), params


class ReportStore:
    """The report for a scope and a period ``[start, end)``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _all(self, query: str, params: Sequence[Any]) -> list[Any]:
        async with self._db.reader.execute(query, params) as cursor:
            return list(await cursor.fetchall())

    async def alarms(self, scope: Sequence[str], start: float, end: float) -> list[AlarmTimes]:
        where, params = _region_sql(scope, "a")
        rows = await self._all(
            "SELECT a.kind, a.received_at, a.escalation_level, a.district, a.town, a.village,"
            " (SELECT min(t.at) FROM alert_timeline t WHERE t.terminal_id = a.terminal_id"
            "  AND t.alert_id = a.alert_id AND t.action = 'accepted') AS accepted_at,"
            " (SELECT min(t.at) FROM alert_timeline t WHERE t.terminal_id = a.terminal_id"
            "  AND t.alert_id = a.alert_id AND t.action = 'resolved') AS resolved_at"
            " FROM alerts a WHERE a.received_at >= ? AND a.received_at < ?"
            f" AND a.kind NOT IN ('test', 'cancel'){where}",
            [start, end, *params],
        )
        return [
            AlarmTimes((r["district"], r["town"], r["village"]), r["kind"], r["received_at"],
                       r["accepted_at"], r["resolved_at"], r["escalation_level"] > 0)
            for r in rows
        ]  # fmt: skip

    async def _areas(self, query: str, scope: Sequence[str], start: float,
                     end: float) -> list[Area]:  # fmt: skip
        where, params = _region_sql(scope, "a")
        rows = await self._all(query + where, [start, end, *params])
        return [(r["district"], r["town"], r["village"]) for r in rows]

    async def unanswered(self, scope: Sequence[str], start: float, end: float) -> list[Area]:
        return await self._areas(
            "SELECT a.district, a.town, a.village FROM dispatch_attempts d JOIN alerts a"
            " ON a.terminal_id = d.terminal_id AND a.alert_id = d.alert_id"
            " WHERE d.outcome = 'no_answer' AND d.notified_at >= ? AND d.notified_at < ?",
            scope, start, end,
        )  # fmt: skip

    async def completed(self, scope: Sequence[str], start: float, end: float) -> list[Area]:
        return await self._areas(
            "SELECT a.district, a.town, a.village FROM service_requests s JOIN alerts a"
            " ON a.terminal_id = s.terminal_id AND a.alert_id = s.alert_id"
            " WHERE s.status = 'done' AND s.completed_at >= ? AND s.completed_at < ?",
            scope, start, end,
        )  # fmt: skip

    async def offline(
        self, registry: Mapping[str, Terminal], scope: Sequence[str], start: float, end: float
    ) -> tuple[list[Area], list[Area]]:
        """Terminals offline now, and those whose latest outage began in the period."""
        rows = await self._all(
            "SELECT terminal_id, online, offline_at FROM terminal_state"
            " WHERE online = 0 OR (offline_at >= ? AND offline_at < ?)",
            [start, end],
        )
        now: list[Area] = []
        began: list[Area] = []
        for row in rows:
            terminal = registry.get(row["terminal_id"])
            if terminal is None or tuple(terminal.region[: len(scope)]) != tuple(scope):
                continue
            if not row["online"]:
                now.append(terminal.region)
            if row["offline_at"] is not None and start <= row["offline_at"] < end:
                began.append(terminal.region)
        return now, began

    async def report(
        self, registry: Mapping[str, Terminal], scope: Sequence[str], start: float, end: float,
        alarm_kinds: Collection[str], service_kinds: Collection[str],
    ) -> Report:  # fmt: skip
        """Every figure of the period, by area one level below ``scope``."""
        now, began = await self.offline(registry, scope, start, end)
        areas = {
            t.region for t in registry.values() if tuple(t.region[: len(scope)]) == tuple(scope)
        }
        return build_report(
            scope, alarm_kinds, service_kinds, await self.alarms(scope, start, end),
            await self.unanswered(scope, start, end), now, began,
            await self.completed(scope, start, end), areas,
        )  # fmt: skip
