"""The live alarm feed: alerts changed since a cursor, read from the database.

Reading the database (not an in-process queue) lets every gateway process serve the
feed for changes any of them made. Each viewer holds a :class:`ChangeFeed`; every poll
it reads the alerts in its region with ``updated_at`` past ``cursor - overlap`` and
keeps the versions it already sent, so a commit stamped slightly in the past by another
process (clock skew, a slow transaction) is still picked up, exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Mapping,
    Sequence,
)
from typing import Any

from gateway.core.escalation import EscalationRule, level_name
from gateway.registry import Terminal
from gateway.store.db import Database

#: Order of the feed: emergencies first, then by kind, newest first within a kind.
KIND_PRIORITY = {"emergency": 0, "medical": 1, "nursing": 2, "mobility": 3, "meal": 4, "errand": 5}
#: Kinds shown in the service lane unless the dispatch config says otherwise.
SERVICE_KINDS = frozenset({"meal", "errand", "nursing", "mobility"})
COLUMNS = (
    "a.terminal_id, a.alert_id, a.kind, a.origin, a.stage, a.stage_rank, a.pressed_at,"
    " a.received_at, a.district, a.town, a.village, a.accepted_by, a.eta_s,"
    " a.escalation_level, a.updated_at, d.status AS dispatch_status,"
    " d.attempt AS dispatch_attempt, d.responder AS dispatch_responder,"
    " d.deadline AS dispatch_deadline, s.status AS service_status, s.scheduled_for,"
    " s.assignee"
)
#: The alert with its call sequence and service request, if any.
SOURCE = (
    "alerts a LEFT JOIN dispatches d ON d.terminal_id = a.terminal_id"
    " AND d.alert_id = a.alert_id LEFT JOIN service_requests s"
    " ON s.terminal_id = a.terminal_id AND s.alert_id = a.alert_id"
)
HELP_ONLY = "a.kind NOT IN ('test', 'cancel')"
KEEPALIVE_S = 15.0
RECHECK_S = 15.0
EVENT_BATCH = 500


def region_clause(region: Sequence[str], table: str = "a") -> tuple[str, list[str]]:
    """SQL that keeps alerts inside ``region`` (empty region: everything)."""
    clauses, params = ["1 = 1"], []
    for column, value in zip(("district", "town", "village"), region, strict=False):
        clauses.append(f"{table}.{column} = ?")
        params.append(value)
    return " AND ".join(clauses), params


def _dispatch(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if row.get("dispatch_status") is None:
        return None
    return {
        "status": row["dispatch_status"], "attempt": row["dispatch_attempt"],
        "responder": row["dispatch_responder"], "deadline": row["dispatch_deadline"],
    }  # fmt: skip


def _service(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": row.get("service_status") or "new",
        "scheduled_for": row.get("scheduled_for"),
        "assignee": row.get("assignee"),
    }


def alert_view(
    row: Mapping[str, Any], registry: Mapping[str, Terminal], rules: Sequence[EscalationRule],
    service_kinds: Collection[str] = SERVICE_KINDS,
) -> dict[str, Any]:  # fmt: skip
    """One alert as the feed page shows it: the alarm lane or the service lane."""
    terminal = registry.get(row["terminal_id"])
    level = int(row["escalation_level"])
    service = row["kind"] in service_kinds
    return {
        "lane": "service" if service else "alarm",
        "dispatch": None if service else _dispatch(row),
        "service": _service(row) if service else None,
        "key": f"{row['terminal_id']}/{row['alert_id']}",
        "terminal_id": row["terminal_id"],
        "alert_id": row["alert_id"],
        "kind": row["kind"],
        "priority": KIND_PRIORITY.get(row["kind"], len(KIND_PRIORITY)),
        "origin": row["origin"],
        "stage": row["stage"],
        "open": row["stage_rank"] < 3,
        "pressed_at": row["pressed_at"],
        "received_at": row["received_at"],
        "updated_at": row["updated_at"],
        "region": [row["district"], row["town"], row["village"]],
        "elder": terminal.elder_name if terminal else "",
        "level": level,
        "level_name": level_name(level, rules) or "",
        "accepted_by": row["accepted_by"],
        "eta_s": row["eta_s"],
    }


class ChangeFeed:
    """One viewer's position in the stream of alert changes within its region."""

    def __init__(
        self, db: Database, region: Sequence[str], registry: Mapping[str, Terminal],
        rules: Sequence[EscalationRule], overlap_s: float, page: int = 1000,
        only: tuple[str, str] | None = None, service_kinds: Collection[str] = SERVICE_KINDS,
    ) -> None:  # fmt: skip
        """``only`` (terminal id, alert id) follows one alarm, for its own page."""
        self._db = db
        self._service_kinds = frozenset(service_kinds)
        self._scope, self._params = region_clause(region)
        if only is not None:
            self._scope += " AND a.terminal_id = ? AND a.alert_id = ?"
            self._params += list(only)
        self._registry = registry
        self._rules = rules
        self._overlap = overlap_s
        self._page = page
        self._cursor = 0.0
        self._sent: dict[tuple[str, str], float] = {}

    async def snapshot(self, now: float, limit: int) -> list[dict[str, Any]]:
        """Every open alarm (newest first, at most ``limit``); changes continue from ``now``."""
        query = (
            f"SELECT {COLUMNS} FROM {SOURCE} WHERE a.stage_rank < 3 AND {HELP_ONLY}"
            f" AND {self._scope} ORDER BY a.received_at DESC LIMIT ?"
        )
        async with self._db.reader.execute(query, [*self._params, limit]) as cursor:
            rows = [dict(row) async for row in cursor]
        self._cursor = now
        self._sent = {(r["terminal_id"], r["alert_id"]): r["updated_at"] for r in rows}
        return [self._view(r) for r in rows]

    def _view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return alert_view(row, self._registry, self._rules, self._service_kinds)

    async def changes(self, now: float) -> list[dict[str, Any]]:
        """Alerts changed since the last call (or the snapshot), each version once."""
        floor = self._cursor - self._overlap
        fresh = []
        async for row in self._rows_after(floor):
            key = (row["terminal_id"], row["alert_id"])
            if self._sent.get(key) != row["updated_at"]:
                self._sent[key] = row["updated_at"]
                fresh.append(self._view(row))
        self._cursor = now
        floor = now - self._overlap
        self._sent = {key: at for key, at in self._sent.items() if at > floor}
        return fresh

    async def _rows_after(self, floor: float) -> AsyncIterator[dict[str, Any]]:
        # Keyset pages over (updated_at, terminal_id, alert_id): a burst larger than a
        # page is read in full without skipping rows that share one timestamp.
        after: tuple[float, str, str] = (floor, "", "")
        query = (
            f"SELECT {COLUMNS} FROM {SOURCE}"
            " WHERE (a.updated_at, a.terminal_id, a.alert_id) > (?, ?, ?)"
            f" AND {HELP_ONLY} AND {self._scope}"
            " ORDER BY a.updated_at, a.terminal_id, a.alert_id LIMIT ?"
        )
        while True:
            async with self._db.reader.execute(query, [*after, *self._params, self._page]) as cur:
                rows = [dict(row) async for row in cur]
            for row in rows:
                yield row
            if len(rows) < self._page:
                return
            last = rows[-1]
            after = (last["updated_at"], last["terminal_id"], last["alert_id"])


def sse(event: str, data: Any) -> str:
    """One Server-Sent Events message."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {body}\n\n"


async def event_stream(
    feed: ChangeFeed, still_allowed: Callable[[], Awaitable[bool]],
    clock: Callable[[], float], poll_s: float, snapshot_limit: int,
) -> AsyncGenerator[str, None]:  # fmt: skip
    """The feed as SSE: a ``snapshot``, then ``alerts`` batches until the session ends."""
    yield "retry: 2000\n\n"
    now = clock()
    alerts = await feed.snapshot(now, snapshot_limit)
    truncated = len(alerts) >= snapshot_limit
    yield sse("snapshot", {"now": now, "alerts": alerts, "truncated": truncated})
    last_sent = last_check = time.monotonic()
    while True:
        await asyncio.sleep(poll_s)
        now = clock()
        changed = await feed.changes(now)
        for start in range(0, len(changed), EVENT_BATCH):
            yield sse("alerts", {"now": now, "alerts": changed[start : start + EVENT_BATCH]})
            last_sent = time.monotonic()
        if time.monotonic() - last_sent >= KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        if time.monotonic() - last_check >= RECHECK_S:
            last_check = time.monotonic()
            if not await still_allowed():
                yield sse("logout", {})
                return
